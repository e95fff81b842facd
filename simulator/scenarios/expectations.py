"""Conditions on the partner config (``requires``, ``expect_if.when``) and step expectations.

A step's *observation* is a plain dict built from the flow's outcome plus the state the simulator
holds afterwards; :func:`evaluate` compares it with the ``expect`` block and returns one
:class:`Check` per expectation, each able to say "expected X, got Y".
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from ..partners import Partner
from ..partnerconnect import wire

MISSING = _MISSING = wire.MISSING  # what lookup() returns for an absent path


@dataclass
class Check:
    name: str
    ok: bool
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.name}: expected {self.expected}, got {self.got}"

    def as_dict(self) -> dict:
        return asdict(self)


def show(value) -> str:
    """A value as the partner sent it (JSON-ish: ``null``, ``"true"`` and ``true`` differ)."""
    if value is _MISSING or value is None:
        return "nothing"
    plain = isinstance(value, str) and value not in ("true", "false", "null") and not value.lstrip("-").isdigit()
    text = value if plain else json.dumps(value)
    return text if len(text) <= 100 else text[:97] + "..."


def lookup(data, path: str):
    """``a.b.0.c`` inside nested JSON (``MISSING`` when absent)."""
    return wire.lookup(data, path.split("."))


def condition_holds(cond: dict, partner: Partner) -> tuple[bool, str]:
    """Whether ``cond`` holds for the partner, and a sentence saying what was found."""
    if "endpoint" in cond:
        key = cond["endpoint"]
        if partner.endpoints.get(key):
            return True, f"the partner config has endpoints.{key}"
        return False, f"the partner config has no endpoints.{key}"
    if "credentials" in cond:
        has = partner.authorization_header() is not None
        text = "credentials are registered for the partner" if has else "no credentials are registered for the partner"
        return has == cond["credentials"], text
    key = cond["config"]
    value = lookup(partner.config, key)
    value = None if value is _MISSING else value
    if "equals" in cond:
        return value == cond["equals"], f"{key} is {show(value)}" + ("" if value == cond["equals"]
                                                                       else f", not {show(cond['equals'])}")
    if "in_" in cond:
        ok = value in cond["in_"]
        return ok, f"{key} is {show(value)}" + ("" if ok else f", not one of {', '.join(map(show, cond['in_']))}")
    if "present" in cond:
        present = value is not None
        return present == cond["present"], f"{key} is {'set' if present else 'not set'}"
    return bool(value), f"{key} is {show(value)}" + ("" if value else " (needs a true value)")


def unmet(conditions: list[dict], partner: Partner) -> str | None:
    """None when every condition holds, else why not (for "skipped: ..." lines)."""
    reasons = [why for ok, why in (condition_holds(c, partner) for c in conditions) if not ok]
    return "; ".join(reasons) if reasons else None


def effective(step, partner: Partner) -> dict:
    """The step's expect block after applying every matching ``expect_if`` rule, in order."""
    expect = dict(step.expect)
    for rule in step.expect_if:
        if all(condition_holds(c, partner)[0] for c in rule["when"]):
            expect = dict(rule["expect"]) if rule.get("replace") else {**expect, **rule["expect"]}
    return expect


def _one_of(name: str, allowed: list, got) -> Check:
    expected = show(allowed[0]) if len(allowed) == 1 else "one of " + ", ".join(map(show, allowed))
    return Check(name, got in allowed, expected, show(got))


def evaluate(expect: dict, obs: dict, contract: str) -> list[Check]:
    """One check per expectation (and the contract check), in a stable order."""
    checks: list[Check] = []
    if not any(k for k in expect if k != "contract"):
        checks.append(Check("ok", bool(obs.get("ok")), "the step to succeed",
                            "success" if obs.get("ok") else f"failure ({obs.get('message') or obs.get('kind')})"))
    if "ok" in expect:
        got = ("success" if obs.get("ok") else "failure") + f" ({obs.get('message') or obs.get('kind')})"
        checks.append(Check("ok", bool(obs.get("ok")) == expect["ok"], "success" if expect["ok"] else "failure", got))
    for key in ("kind", "status", "redirect_value", "user_status", "account_status", "error_reason",
                "resource_status"):
        if key in expect:
            checks.append(_one_of(key, expect[key], obs.get(key)))
    for key in ("configured_resources", "redirect_allowed"):
        if key in expect:
            got = obs.get(key, _MISSING)
            checks.append(Check(key, got is expect[key], show(expect[key]), show(got)))
    if "connection_id" in expect:
        checks.append(_connection_id(expect["connection_id"], obs.get("connection_id")))
    if "test_results" in expect:
        results = obs.get("test_results")
        statuses = [r.get("status") for r in results if isinstance(r, dict)] if isinstance(results, list) else None
        ok = bool(statuses) and all(s in expect["test_results"] for s in statuses)
        checks.append(Check("test_results", ok, "at least one result, each " + "/".join(expect["test_results"]),
                            show(statuses) if statuses is not None else "no test_results"))
    pages = obs.get("pages")
    if "pages_non_empty" in expect:
        sizes = [len(p.get("connectors") or []) for p in pages or []]
        ok = bool(sizes) and all(sizes) if expect["pages_non_empty"] else True
        checks.append(Check("pages", ok, "every page to list at least one connector",
                            f"page sizes {sizes}" if sizes else "no page"))
    if "min_pages" in expect:
        n = len(pages or [])
        checks.append(Check("pages", n >= expect["min_pages"], f"at least {expect['min_pages']} page(s)", str(n)))
    if "connection" in expect:
        state = obs.get("connection_state", "gone")
        want = expect["connection"]
        ok = state != "gone" if want == "exists" else state == want
        checks.append(Check("connection", ok, f"the simulator's connection to be {want}", state))
    if "resources" in expect:
        count = obs.get("resources_in_workspace", 0)
        want = expect["resources"]
        checks.append(Check("resources", (count > 0) == (want == "present"),
                            f"Databricks-side resources {want}", f"{count} resource row(s)"))
    if "message_contains" in expect:
        message = obs.get("message") or ""
        checks.append(Check("message", expect["message_contains"] in message,
                            f"a message containing {expect['message_contains']!r}", repr(message)))
    for path, want in (expect.get("json") or {}).items():
        got = lookup(obs.get("response"), path)
        allowed = want if isinstance(want, list) else [want]
        checks.append(Check(f"json {path}", got in allowed, show(want) if not isinstance(want, list)
                            else "one of " + ", ".join(map(show, want)), show(got)))
    mode = expect.get("contract", contract)
    if mode != "ignore":
        found = list(obs.get("violations") or [])
        if mode == "strict":
            found += obs.get("warnings") or []
        text = "; ".join(f"{v['field']}: {v['rule']} (got {v['got']})" for v in found)
        checks.append(Check("contract", not found, "no contract violations" + (" or warnings" if mode == "strict"
                                                                                 else ""), text or "none"))
    return checks


def _connection_id(rule: dict, got) -> Check:
    if rule.get("is") == "present":
        return Check("connection_id", isinstance(got, str) and bool(got), "a non-empty connection_id", show(got))
    if rule.get("is") == "absent":
        return Check("connection_id", got is None, "no connection_id", show(got))
    if "equals" in rule:
        return Check("connection_id", got == rule["equals"], show(rule["equals"]), show(got))
    return Check("connection_id", isinstance(got, str) and bool(got) and got != rule["not_equals"],
                 f"a connection_id other than {show(rule['not_equals'])}", show(got))
