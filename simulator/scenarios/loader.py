"""Reading scenario files: YAML with line numbers, checked with the marshmallow schemas of
:mod:`.schema`, for references (users, workspaces, variables) and for the partner section (its
config file readable and valid, its ``${env.NAME}`` set), so a malformed scenario is rejected (file,
line, problem) before anything runs. The format is documented in the README.
"""
from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from marshmallow import ValidationError

from .. import partners
from ..errors import Invalid
from ..ids import IdGenerator
from . import templating
from .schema import STEP_KINDS, VOCABULARY, ScenarioSchema

SUFFIXES = (".yaml", ".yml")


# ---------------------------------------------------------------- YAML with line numbers

class LineDict(dict):
    """A mapping from YAML that remembers where it and each of its keys were (1-based lines)."""

    line = 0
    key_lines: dict


class LineList(list):
    line = 0
    item_lines: list


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available: faster
    pass


def _mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    own = [k for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"]
    seen = set()
    for key_node in own:  # a key written twice is a mistake; a key overriding a merged one is not
        if isinstance(key_node, yaml.ScalarNode):
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key_node.value!r}",
                                                        key_node.start_mark)
            seen.add(key_node.value)
    loader.flatten_mapping(node)  # resolves "<<: *anchor" merge keys (merged pairs come first)
    out = LineDict()
    out.line, out.key_lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(None, None, "mapping keys must be plain values",
                                                    key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line, out.item_lines = node.start_mark.line + 1, [child.start_mark.line + 1 for child in node.value]
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


_ABSENT = object()


def value_at(raw, path: list):
    """The value at a marshmallow error path, or _ABSENT."""
    node = raw
    for part in path:
        if part in ("value", "key", "_schema"):
            continue
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return _ABSENT
    return node


def line_of(raw, path: list) -> int | None:
    """The line of the deepest element of ``path`` found in ``raw`` (marshmallow error paths)."""
    line, node = getattr(raw, "line", None), raw
    for part in path:
        if isinstance(node, LineDict) and part in node:
            line, node = node.key_lines.get(part, line), node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.item_lines[part], node[part]
        elif part in ("value", "key", "_schema"):
            continue  # marshmallow's Dict field nests errors under "value"/"key"
        else:
            break
    return line


# ---------------------------------------------------------------- the loaded scenario

@dataclass
class Step:
    index: int  # 1-based
    kind: str
    name: str
    params: dict
    line: int
    expect: dict = field(default_factory=dict)
    expect_if: list = field(default_factory=list)
    capture: dict = field(default_factory=dict)
    requires: list = field(default_factory=list)
    hint: str | None = None

    @property
    def title(self) -> str:
        return f"{self.index}. {self.name}"


@dataclass
class Scenario:
    path: Path
    name: str
    id: str | None
    description: str
    partner: dict | None
    contract: str
    requires: list
    vars: dict
    users: dict
    workspaces: dict
    steps: list[Step]
    line: int = 1

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}" if self.id else self.name


@dataclass
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class ScenarioError(Exception):
    """One or more malformed scenario files; ``problems`` says where and what."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _render_path(path: list) -> str:
    out = ""
    for part in path:
        if part in ("value", "_schema"):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "scenario"


def _flatten(messages, path: list, out: list[tuple[list, str]]):
    if isinstance(messages, dict):
        for key, sub in messages.items():
            _flatten(sub, path + [key], out)
    elif isinstance(messages, list):
        for msg in messages:
            if isinstance(msg, (dict, list)):
                _flatten(msg, path, out)
            else:
                out.append((path, str(msg)))
    else:
        out.append((path, str(messages)))


def _nice(path: list, message: str) -> str:
    if message == "Unknown field.":
        key = next((p for p in reversed(path) if isinstance(p, str) and p not in ("value", "_schema")), "")
        close = difflib.get_close_matches(str(key), VOCABULARY, n=1)
        return "unknown key" + (f" (did you mean {close[0]}?)" if close else "")
    return message.rstrip(".")


def _got(raw, path: list, message: str) -> str:
    """`` (got X)`` for a value that is there but wrong (not for missing or unknown keys)."""
    if message == "Unknown field." or "_schema" in path or (path and path[-1] == "key"):
        return ""
    value = value_at(raw, path)
    if value is _ABSENT or isinstance(value, (dict, list)):
        return ""
    return f" (got {json.dumps(value)})"


def parse_yaml(text: str, path: Path):
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ScenarioError([Problem(path, mark.line + 1 if mark else None, f"YAML syntax error: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(path, None, f"YAML error: {exc}")]) from None


def load_file(path: str | Path, *, partner_given: bool = False) -> Scenario:
    """Read, validate and check one scenario file; raises :class:`ScenarioError` with every problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError([Problem(path, None, f"cannot read: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(path, data[:exc.start].count(b"\n") + 1, f"not UTF-8 text (byte "
                                     f"{data[exc.start]:#04x}); save the file as UTF-8")]) from None
    raw = parse_yaml(text, path)
    if not isinstance(raw, dict):
        raise ScenarioError([Problem(path, getattr(raw, "line", 1), "a scenario file is a YAML mapping "
                                     "(name, partner, users, workspaces, steps, ...)")])
    body = {k: v for k, v in raw.items() if not (isinstance(k, str) and k.startswith("x-"))}  # x-*: anchors
    try:
        data = ScenarioSchema().load(body)
    except ValidationError as exc:
        found: list[tuple[list, str]] = []
        _flatten(exc.messages, [], found)
        raise ScenarioError([Problem(path, line_of(raw, p), f"{_render_path(p)}: {_nice(p, m)}"
                                     f"{_got(raw, p, m)}") for p, m in found]) from None
    scenario = _build(path, raw, data)
    problems = _check(scenario, raw, partner_given)
    if problems:
        raise ScenarioError(problems)
    return scenario


def _build(path: Path, raw: LineDict, data: dict) -> Scenario:
    steps = []
    for i, item in enumerate(data["steps"]):
        kind = next(k for k in STEP_KINDS if k in item)
        steps.append(Step(index=i + 1, kind=kind, name=item.get("name") or kind.replace("_", " "),
                          params=item[kind], line=raw["steps"].item_lines[i], expect=item.get("expect") or {},
                          expect_if=item.get("expect_if") or [], capture=item.get("capture") or {},
                          requires=item.get("requires") or [], hint=item.get("hint")))
    return Scenario(path=path, name=data["name"], id=data.get("id"), description=data.get("description", ""),
                    partner=data.get("partner"), contract=data.get("contract", "errors"),
                    requires=data.get("requires") or [], vars=data.get("vars") or {},
                    users={k: v or {} for k, v in (data.get("users") or {}).items()},
                    workspaces={k: v or {} for k, v in (data.get("workspaces") or {}).items()},
                    steps=steps, line=raw.line)


BUILTINS = ("domain", "scenario", "partner.name")
RENDERED_PARTNER_KEYS = ("base_url", "basic_user", "basic_password", "authorization", "signing_secret")


def partner_config_problem(path: str | Path, base_url: str | None = None) -> str | None:
    """Why the partner config file at ``path`` cannot be used (None when it can): unreadable, not
    UTF-8, not JSON, or invalid for :func:`simulator.partners.validate_config`; ``base_url`` (an
    override) stands in for the file's own."""
    try:
        config = partners.read_config_file(path)
    except Invalid as exc:
        return str(exc)
    except UnicodeDecodeError as exc:
        return f"partner config {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x}); save it as UTF-8 JSON"
    if base_url is not None and isinstance(config, dict):
        config = {**config, "base_url": base_url}
    try:
        partners.validate_config(config, str(path))
    except Invalid as exc:
        return str(exc)
    return None


def _check_partner(s: Scenario, problem) -> None:
    """The partner section as the runner will use it: only ``${env.NAME}`` (set) and ``${random.*}``
    in the values it renders, and a config file (relative to the scenario) that loads and validates."""
    spec = s.partner or {}
    for key, value in spec.items():
        for name in templating.references(value):
            if key not in RENDERED_PARTNER_KEYS:
                problem(["partner", key], f"partner.{key}: ${{{name}}} is not expanded here (variables work in "
                        f"{', '.join(RENDERED_PARTNER_KEYS)})")
            elif name.startswith("env.") and name[len("env."):] not in os.environ:
                problem(["partner", key], f"partner.{key}: environment variable {name[len('env.'):]} is not set "
                        f"(used as ${{{name}}})")
            elif not name.startswith("env.") and not (name.startswith("random.") and templating.is_known(name, set())):
                problem(["partner", key], f"partner.{key}: unknown variable ${{{name}}} (the partner section is "
                        "read before the scenario's variables exist: use ${env.NAME} or ${random.KIND})")
    if "config" in spec and not templating.references(spec["config"]):
        base_url = spec.get("base_url")
        if base_url is not None and templating.references(base_url):
            try:
                base_url = templating.Scope(IdGenerator()).render(base_url)
            except templating.TemplateError:
                return  # reported above
        why = partner_config_problem((s.path.parent / spec["config"]).resolve(), base_url)
        if why:
            problem(["partner", "config"], f"partner.config: {why}")


def _check(s: Scenario, raw: LineDict, partner_given: bool) -> list[Problem]:
    """References: users, workspaces, variables and captures must exist where they are used."""
    problems: list[Problem] = []

    def problem(path: list, message: str):
        problems.append(Problem(s.path, line_of(raw, path), message))

    def unknown(path: list, index: int, what: str, name: str, declared) -> None:
        problem(path, f"step {index}: unknown {what} {name!r} (declared: {', '.join(declared) or 'none'})")

    if s.partner is None and not partner_given:
        problem([], "no partner: add partner: {config: FILE} or {name: REGISTERED_NAME}, or pass --partner-config")
    known = set(BUILTINS)
    known |= {f"users.{a}.email" for a in s.users} | {f"workspaces.{w}.id" for w in s.workspaces}
    for name, value in s.vars.items():
        _check_refs(value, known, lambda m, n=name: problem(["vars", n], m))
        known.add(name)
    for alias, spec in s.users.items():
        _check_refs(spec, known, lambda m, a=alias: problem(["users", a], m))
    for alias, spec in s.workspaces.items():
        _check_refs(spec, known, lambda m, a=alias: problem(["workspaces", a], m))
        for role in ("admins", "members"):
            for user in spec.get(role) or []:
                if user not in s.users:
                    problem(["workspaces", alias, role], f"workspaces.{alias}.{role}: unknown user {user!r} "
                            f"(declared users: {', '.join(s.users) or 'none'})")
    if not partner_given:  # a partner given on the command line replaces the file's section
        _check_partner(s, problem)
    default_ws = next(iter(s.workspaces), None)
    seen_redirect = False
    for step in s.steps:
        where = ["steps", step.index - 1]
        params = step.params
        if step.kind in ("connect", "delete_connection", "delete_account", "expire_account") or (
                step.kind in ("partner_delete_connection", "test_connection") and "connection_id" not in params):
            ws = params.get("workspace", default_ws)
            if ws is None:
                problem(where + [step.kind], f"step {step.index} ({step.kind}) needs a workspace: declare one "
                        "under workspaces:")
            elif ws not in s.workspaces:
                unknown(where + [step.kind, "workspace"], step.index, "workspace", ws, s.workspaces)
            user = params.get("user")
            if user is not None:
                if user not in s.users:
                    unknown(where + [step.kind, "user"], step.index, "user", user, s.users)
                elif step.kind == "connect" and ws in s.workspaces:
                    spec = s.workspaces[ws]
                    if user not in (spec.get("admins") or []) + (spec.get("members") or []):
                        problem(where + [step.kind, "user"], f"step {step.index}: user {user!r} is not a member "
                                f"of workspace {ws!r} (add it to admins or members)")
        if step.kind in ("api", "fault"):
            ws = params.get("workspace")
            if ws is not None and ws not in s.workspaces:
                unknown(where + [step.kind, "workspace"], step.index, "workspace", ws, s.workspaces)
            if step.kind == "api" and params.get("user") is not None and params["user"] not in s.users:
                unknown(where + [step.kind, "user"], step.index, "user", params["user"], s.users)
        if step.kind == "follow_redirect" and "uri" not in params and not seen_redirect:
            problem(where, f"step {step.index}: follow_redirect without uri needs an earlier connect step")
        seen_redirect |= step.kind == "connect"
        def step_problem(message, at, where=where, index=step.index):
            problem(where + [at], f"step {index}: {message}")
        _check_refs(params, known, lambda m: step_problem(m, step.kind))  # noqa: B023 - called right away
        _check_refs(step.expect, known, lambda m: step_problem(m, "expect"))  # noqa: B023
        for rule in step.expect_if:
            _check_refs(rule["expect"], known, lambda m: step_problem(m, "expect_if"))  # noqa: B023
        for name in step.capture:
            if name in BUILTINS:
                problem(where + ["capture", name], f"step {step.index}: cannot capture into built-in {name!r}")
            known.add(name)
    return problems


def _check_refs(value, known: set[str], report) -> None:
    for name in templating.references(value):
        if not templating.is_known(name, known):
            report(f"unknown variable ${{{name}}} (defined: {', '.join(sorted(known)) or 'none'}; "
                   "captures are visible after their step)")


# ---------------------------------------------------------------- files and directories

def expand(paths) -> list[Path]:
    """Files as given; directories give their ``*.yaml``/``*.yml`` files (not recursive), sorted."""
    out: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.is_file() and f.suffix in SUFFIXES))
        else:
            out.append(p)
    return out


def load_paths(paths, *, partner_given: bool = False) -> list[Scenario]:
    """Load every scenario of files/directories; all problems of all files in one ScenarioError."""
    files = expand(paths)
    problems: list[Problem] = []
    scenarios = []
    if not files:
        raise ScenarioError([Problem(Path(str(p)), None, "no scenario files (*.yaml, *.yml) here") for p in paths])
    for file in files:
        try:
            scenarios.append(load_file(file, partner_given=partner_given))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return scenarios
