"""``${name}`` variables in scenario files: fresh random values, declared ``vars``, values captured
from earlier steps, ``users.<alias>.email``, ``workspaces.<alias>.id`` and ``env.NAME``.

A string that is exactly one reference (``"${workspaces.main.id}"``) keeps the value's type (an
int stays an int); references inside a longer string are substituted as text. Random values come
from one :class:`~simulator.ids.IdGenerator`, so ``--seed N`` makes a run reproducible.
"""
from __future__ import annotations

import os
import re

from ..ids import IdGenerator

REFERENCE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")
RANDOM_KINDS = ("domain", "email", "int64", "hex", "uuid")
TEST_DOMAIN = "databricks-test.com"
_WORDS = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "wonka")


class TemplateError(Exception):
    """A reference that cannot be resolved (unknown name, unset environment variable)."""


def fresh_domain(gen: IdGenerator, parent: str = TEST_DOMAIN) -> str:
    """``<word>-<8 hex>.<parent>``: a company the partner has never seen."""
    return f"{_WORDS[gen.int64() % len(_WORDS)]}-{gen.hex(8)}.{parent}"


def fresh_value(gen: IdGenerator, kind: str, *, parent: str | None = None, domain: str | None = None,
                local: str | None = None, length: int | None = None):
    if kind == "domain":
        return fresh_domain(gen, parent or TEST_DOMAIN)
    if kind == "email":
        return f"{local or 'user-' + gen.hex(6)}@{domain or fresh_domain(gen)}"
    if kind == "int64":
        return gen.int64()
    if kind == "hex":
        return gen.hex(length or 8)
    if kind == "uuid":
        return gen.uuid()
    raise TemplateError(f"unknown random kind {kind!r} (one of {', '.join(RANDOM_KINDS)})")


def references(value) -> list[str]:
    """Every ``${name}`` used anywhere in a (nested) value."""
    if isinstance(value, str):
        return REFERENCE.findall(value)
    if isinstance(value, dict):
        return [name for v in value.values() for name in references(v)]
    if isinstance(value, list):
        return [name for v in value for name in references(v)]
    return []


def is_known(name: str, known: set[str]) -> bool:
    if name.startswith("random."):
        return name[len("random."):] in RANDOM_KINDS
    return name.startswith("env.") or name in known


class Scope:
    """The values a scenario's templates can see at one point of the run."""

    def __init__(self, gen: IdGenerator, values: dict | None = None, domain: str | None = None):
        self.gen = gen
        self.values = dict(values or {})
        self.domain = domain

    def set(self, name: str, value) -> None:
        self.values[name] = value

    def resolve(self, name: str):
        if name.startswith("random."):
            kind = name[len("random."):]
            return fresh_value(self.gen, kind, domain=self.domain if kind == "email" else None)
        if name.startswith("env."):
            key = name[len("env."):]
            if key not in os.environ:
                raise TemplateError(f"environment variable {key} is not set (used as ${{{name}}})")
            return os.environ[key]
        if name in self.values:
            return self.values[name]
        raise TemplateError(f"unknown variable ${{{name}}}")

    def render(self, value):
        """A copy of ``value`` with every reference replaced."""
        if isinstance(value, str):
            whole = REFERENCE.fullmatch(value.strip())
            if whole:
                return self.resolve(whole.group(1))
            return REFERENCE.sub(lambda m: str(self.resolve(m.group(1))), value)
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        return value
