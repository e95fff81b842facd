"""DuckDB result types → Databricks type names, and how each value is rendered as a string.

Databricks describes result columns with a ``type_name`` (``INT``, ``LONG``, ``DECIMAL``, ...)
and a ``type_text`` in Spark's lower-case syntax (``int``, ``bigint``, ``decimal(10,2)``,
``array<string>``, ``struct<a:int,b:string>``). The JSON_ARRAY result format carries every cell
as a string (or null), so values are rendered by DuckDB itself (one SQL expression per column,
see :func:`render_sql`): exact decimals, ISO-8601 timestamps, ``true``/``false``, JSON for nested
values, base64 for binary.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

# DuckDB type id → (Databricks type_name, Spark type_text) for the simple types.
_SIMPLE = {
    "boolean": ("BOOLEAN", "boolean"),
    "tinyint": ("BYTE", "tinyint"),
    "smallint": ("SHORT", "smallint"),
    "integer": ("INT", "int"),
    "bigint": ("LONG", "bigint"),
    "utinyint": ("SHORT", "smallint"),
    "usmallint": ("INT", "int"),
    "uinteger": ("LONG", "bigint"),
    "ubigint": ("DECIMAL", "decimal(20,0)"),
    "hugeint": ("DECIMAL", "decimal(38,0)"),
    "uhugeint": ("DECIMAL", "decimal(38,0)"),
    "float": ("FLOAT", "float"),
    "double": ("DOUBLE", "double"),
    "date": ("DATE", "date"),
    "timestamp with time zone": ("TIMESTAMP", "timestamp"),
    # Databricks' TIMESTAMP_NTZ; the SDK's enum has no such name, so it is reported as TIMESTAMP.
    "timestamp": ("TIMESTAMP", "timestamp_ntz"),
    "timestamp_s": ("TIMESTAMP", "timestamp_ntz"),
    "timestamp_ms": ("TIMESTAMP", "timestamp_ntz"),
    "timestamp_ns": ("TIMESTAMP", "timestamp_ntz"),
    "blob": ("BINARY", "binary"),
    "interval": ("INTERVAL", "interval"),
    "null": ("NULL", "void"),
    "varchar": ("STRING", "string"),
}
_INTEGERS = {"tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger", "ubigint",
             "hugeint", "uhugeint"}


@dataclass
class Column:
    """One result column as Databricks describes it."""

    name: str
    type_name: str
    type_text: str
    precision: int | None = None
    scale: int | None = None

    def manifest(self, position: int) -> dict:
        out = {"name": self.name, "position": position, "type_name": self.type_name, "type_text": self.type_text}
        if self.precision is not None:
            out.update(type_precision=self.precision, type_scale=self.scale)
        return out


def _as_type(t):
    """A DuckDBPyType (from a result's types, or parsed from a type string)."""
    return duckdb.sqltype(t) if isinstance(t, str) else t


def _children(t) -> dict:
    return {name: child for name, child in t.children}


def spark_type(t) -> tuple[str, str, int | None, int | None]:
    """(type_name, type_text, precision, scale) of a DuckDB type (object or type string)."""
    t = _as_type(t)
    tid = t.id
    if tid in _SIMPLE:
        name, text = _SIMPLE[tid]
        if name == "DECIMAL":
            p, s = text[8:-1].split(",")
            return name, text, int(p), int(s)
        return name, text, None, None
    if tid == "decimal":
        c = _children(t)
        p, s = int(c["precision"]), int(c["scale"])
        return "DECIMAL", f"decimal({p},{s})", p, s
    if tid in ("list", "array"):
        return "ARRAY", f"array<{spark_type(_children(t)['child'])[1]}>", None, None
    if tid == "map":
        c = _children(t)
        return "MAP", f"map<{spark_type(c['key'])[1]},{spark_type(c['value'])[1]}>", None, None
    if tid == "struct":
        fields = ",".join(f"{name}:{spark_type(child)[1]}" for name, child in t.children)
        return "STRUCT", f"struct<{fields}>", None, None
    return "STRING", "string", None, None  # uuid, enum, time, bit, union, ...: rendered as text


def column(name: str, t) -> Column:
    type_name, type_text, precision, scale = spark_type(t)
    return Column(name, type_name, type_text, precision, scale)


def render_sql(expr: str, t) -> str:
    """A DuckDB SQL expression rendering ``expr`` (of type ``t``) as Databricks' JSON_ARRAY string."""
    tid = _as_type(t).id
    if tid == "timestamp with time zone":  # the engine's session time zone is UTC
        return f"strftime({expr}, '%Y-%m-%dT%H:%M:%S.%gZ')"
    if tid.startswith("timestamp"):
        return f"strftime(CAST({expr} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%g')"
    if tid in ("float", "double"):
        return (f"CASE WHEN isnan({expr}) THEN 'NaN' WHEN {expr} = 'infinity' THEN 'Infinity' "
                f"WHEN {expr} = '-infinity' THEN '-Infinity' ELSE CAST({expr} AS VARCHAR) END")
    if tid == "blob":
        return f"base64({expr})"
    if tid in ("list", "array", "map", "struct"):
        return f"CAST(to_json({expr}) AS VARCHAR)"
    return f"CAST({expr} AS VARCHAR)"


def native(value: str | None, col: Column):
    """The JSON value of a rendered cell, for APIs that answer typed JSON (command execution 1.2)."""
    if value is None:
        return None
    try:
        if col.type_name in ("BYTE", "SHORT", "INT", "LONG"):
            return int(value)
        if col.type_name in ("FLOAT", "DOUBLE"):
            return float(value)
        if col.type_name == "DECIMAL":
            return int(value) if col.scale == 0 else float(value)
        if col.type_name == "BOOLEAN":
            return value == "true"
        if col.type_name in ("ARRAY", "MAP", "STRUCT"):
            return json.loads(value)
    except ValueError:
        pass
    return value


def is_integer(t) -> bool:
    return _as_type(t).id in _INTEGERS


def _simple_case(arg: str) -> str:
    cases = " ".join(f"WHEN {arg} = '{duck.upper()}' THEN '{text}'" for duck, (_, text) in _SIMPLE.items()
                     if not duck.startswith("timestamp_"))
    return (f"CASE {cases} WHEN {arg} LIKE 'TIMESTAMP%' THEN 'timestamp_ntz' "
            f"WHEN {arg} LIKE 'DECIMAL(%' THEN lower(replace({arg}, ' ', '')) ELSE lower({arg}) END")


# SQL macros for information_schema.columns (DuckDB type string → Spark type text; one level of
# arrays; other nested types fall back to DuckDB's own spelling in lower case).
MACROS = [
    f"CREATE MACRO pcsim_simple_type(t) AS {_simple_case('t')}",
    ("CREATE MACRO pcsim_type_text(t) AS CASE WHEN t LIKE '%[]' "
     "THEN 'array<' || pcsim_simple_type(t[:-3]) || '>' ELSE pcsim_simple_type(t) END"),
]
