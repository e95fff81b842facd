"""The SQL engine behind the fake workspace API: Databricks SQL really executes, per workspace.

**Why DuckDB + sqlglot.** The partner's code sends Databricks SQL and reads typed results back,
so statements must really run: a canned-answer fake cannot show an ingestion tool that its
``CREATE TABLE`` + ``INSERT`` + ``SELECT`` round-trip works. DuckDB is an embedded, in-process
analytical database (a pip wheel, no server, no JVM) whose SQL is close to Spark SQL, with
three-level names (database.schema.table), nested types, decimals and time zones, and one-file
persistence. sqlglot parses the Databricks dialect and generates DuckDB SQL (functions such as
``date_format``, ``nvl``, ``collect_list``, backtick identifiers, ``ARRAY<STRING>``), and its AST
tells us which tables a statement reads and writes, which is what grant enforcement needs.
Spark itself (real fidelity) would need a JVM and seconds per start; SQLite lacks schemas,
types and most of the function library.

**Layout.** One engine per workspace: a DuckDB connection in which each Databricks catalog is an
ATTACHed database, one file per catalog (``pcsim.db-sql/<epoch>/<workspace>/<catalog>.duckdb``,
in memory for a ``:memory:`` state). Attaching keeps Databricks' own namespace — catalogs hold
schemas hold tables — so DuckDB's catalog functions answer SHOW/DESCRIBE and Unity Catalog API
questions directly, and a catalog is one file to inspect with the ``duckdb`` CLI. (A
schema-prefix mapping into one database would need a naming convention for every lookup and
could not hold a schema called ``default`` per catalog without escaping.) Every statement holds
the engine's lock; DuckDB cursors are per call.

Modules: :mod:`.planner` (Databricks SQL → plan and DuckDB SQL), :mod:`.access` (grants and
ownership), :mod:`.grants` (reading/changing grants), :mod:`.types` (type names and JSON_ARRAY
rendering), :mod:`.samples` (the ``samples`` catalog), :mod:`.engine` (execution and catalog
queries), :mod:`.errors` (Databricks-style SQL errors), :mod:`.queries` (saved queries).
"""
from __future__ import annotations

from .access import Actor
from .engine import Engine, Result, catalog_type, close_engines, engine_for
from .errors import SqlError
from .names import HIVE, SAMPLES, Session

__all__ = [
           "HIVE",
           "SAMPLES",
           "Actor",
           "Engine",
           "Result",
           "Session",
           "SqlError",
           "catalog_type",
           "close_engines",
           "engine_for",
]
