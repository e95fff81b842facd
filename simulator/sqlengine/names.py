"""Names: Databricks catalogs ↔ DuckDB attached databases, the session's current catalog/schema,
and Databricks' ``LIKE`` patterns of SHOW commands."""
from __future__ import annotations

import re
from dataclasses import dataclass

# DuckDB reserves "main", "system", "temp" and "memory" as database names, and "main" is the usual
# Databricks catalog, so every catalog is attached under a prefixed alias: main → "uc__main".
ALIAS_PREFIX = "uc__"
SAMPLES = "samples"
HIVE = "hive_metastore"
DEFAULT_SCHEMA = "default"
INFORMATION_SCHEMA = "information_schema"


def alias(catalog: str) -> str:
    return ALIAS_PREFIX + catalog


def quote(name: str) -> str:
    """A DuckDB quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def qualified(catalog: str, schema: str | None = None, table: str | None = None) -> str:
    """DuckDB SQL naming a catalog, schema or table: ``"uc__main"."raw"."events"``."""
    parts = [quote(alias(catalog))] + [quote(p) for p in (schema, table) if p is not None]
    return ".".join(parts)


def full_name(catalog: str, schema: str | None = None, table: str | None = None) -> str:
    return ".".join(p for p in (catalog, schema, table) if p is not None)


@dataclass(frozen=True)
class Session:
    """The current catalog and schema (``USE CATALOG`` / ``USE SCHEMA``, or the API's fields)."""

    catalog: str
    schema: str = DEFAULT_SCHEMA


def like(pattern: str | None):
    """A predicate for Databricks' SHOW ... LIKE patterns: ``*`` any characters, ``|`` alternatives,
    case-insensitive."""
    if pattern is None:
        return lambda name: True
    alternatives = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.split("|")]
    rx = re.compile("^(?:" + "|".join(alternatives) + ")$", re.IGNORECASE)
    return lambda name: bool(rx.match(name))
