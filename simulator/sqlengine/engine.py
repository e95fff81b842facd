"""One SQL engine per workspace: a DuckDB connection where every Databricks catalog is an attached
database, a lock that serialises statements, and the catalog questions the APIs ask.

Layout on disk, next to the state file ``pcsim.db``::

    pcsim.db-sql/<epoch>/<workspace id>/<catalog>.duckdb    (one file per catalog)

``samples`` is in memory (rebuilt on start). The *epoch* is a random id kept in the state file's
``meta`` table: ``pcsim reset`` empties that table, so the next engine starts a fresh directory
(and removes the old ones) instead of resurrecting tables of workspaces that no longer exist.
A ``:memory:`` state file gets in-memory catalogs, kept for the life of the process.

DuckDB is locked down once the catalogs are attached: no file or network access outside the
workspace's own directory, no extension installs.
"""
from __future__ import annotations

import os
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote as url_quote

import duckdb

from ..store import Store
from . import planner, samples, types
from .access import OBJECTS_SCHEMA, Actor, Authorizer, require_admin
from .errors import (
    SqlError,
    catalog_not_found,
    from_duckdb,
    schema_not_found,
    syntax_error,
    table_not_found,
)
from .grants import apply_sql_grant, grant_rows
from .names import (
    DEFAULT_SCHEMA,
    HIVE,
    INFORMATION_SCHEMA,
    SAMPLES,
    Session,
    alias,
    full_name,
    like,
    qualified,
    quote,
)
from .types import Column

EPOCH_KEY = "sqlengine_epoch"
SYSTEM_OWNER = "System user"
INLINE_LIMIT_BYTES = 25 * 1024 * 1024  # Databricks' INLINE result limit
DML_COLUMNS = {"insert": ["num_affected_rows", "num_inserted_rows"], "update": ["num_affected_rows"],
               "delete": ["num_affected_rows"], "merge": ["num_affected_rows"]}


def _string(name: str) -> Column:
    return Column(name, "STRING", "string")


def _boolean(name: str) -> Column:
    return Column(name, "BOOLEAN", "boolean")


def _long(name: str) -> Column:
    return Column(name, "LONG", "bigint")


@dataclass
class Result:
    """A statement's outcome: columns with Databricks types, rows of strings (JSON_ARRAY cells)."""

    columns: list[Column] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    truncated: bool = False
    session: Session | None = None
    kind: str = "query"


class Engine:
    def __init__(self, store: Store, workspace_id: int, directory: Path | None, epoch: str):
        self.store = store
        self.workspace_id = workspace_id
        self.directory = directory
        self.epoch = epoch
        self.lock = threading.RLock()
        self.attached: list[str] = []
        store.ensure(OBJECTS_SCHEMA)
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(":memory:", config={"threads": 2})
        self.con.execute("SET TimeZone = 'UTC'")
        for macro in types.MACROS:
            self.con.execute(macro)
        self._attach(SAMPLES)
        for sql in samples.statements(quote(alias(SAMPLES))):
            self.con.execute(sql)
        allowed = [str(directory)] if directory is not None else []
        self.con.execute(f"SET allowed_directories = {allowed!r}")
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET autoinstall_known_extensions = false")
        self.sync()

    # ------------------------------------------------------------------ catalogs

    def _attach(self, name: str) -> None:
        if self.directory is None or name == SAMPLES:
            target = ":memory:"
        else:
            target = str(self.directory / f"{url_quote(name, safe='')}.duckdb")
        self.con.execute(f"ATTACH '{target.replace(chr(39), chr(39) * 2)}' AS {quote(alias(name))}")
        if name != SAMPLES:
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {qualified(name, DEFAULT_SCHEMA)}")
        self.attached.append(name)

    def sync(self) -> None:
        """Attach the workspace's catalogs (the store's ``catalogs`` rows, ``hive_metastore``)."""
        with self.lock:
            wanted = self.store_catalogs() + [HIVE]
            for name in wanted:
                if name not in self.attached:
                    self._attach(name)
            for name in list(self.attached):
                if name not in wanted and name != SAMPLES:
                    self.con.execute(f"DETACH {quote(alias(name))}")
                    self.attached.remove(name)

    def store_catalogs(self) -> list[str]:
        return [r["name"] for r in self.store.query("SELECT name FROM catalogs WHERE workspace_id = ? ORDER BY rowid",
                                                    (self.workspace_id,))]  # declared order: the first is the default

    def catalogs(self) -> list[str]:
        """Every catalog: the workspace's Unity Catalog ones, ``hive_metastore``, ``samples``."""
        with self.lock:
            self.sync()
            uc = [n for n in self.attached if n not in (HIVE, SAMPLES)]
            return sorted(uc) + [HIVE, SAMPLES]

    def resolve(self, name: str) -> str:
        """A catalog name as written (any case) → its canonical name (unknown names: lower-cased)."""
        for known in self.attached:
            if known.lower() == name.lower():
                return known
        return name.lower()

    def default_session(self) -> Session:
        """The workspace's default catalog (its first Unity Catalog catalog, as Partner Connect picks)."""
        uc = self.store_catalogs()
        return Session(uc[0] if uc else HIVE, DEFAULT_SCHEMA)

    def create_catalog(self, name: str, *, actor: Actor, comment: str | None = None,
                       if_not_exists: bool = False, now: float) -> None:
        require_admin(actor, "create catalogs")
        with self.lock:
            self.sync()
            if self.resolve(name) in self.attached:
                if if_not_exists:
                    return
                raise SqlError("CATALOG_ALREADY_EXISTS", f"Cannot create catalog '{name}' because it already "
                                                         "exists.", "42P04")
            with self.store.atomic() as db:
                db["catalogs"].insert({"workspace_id": self.workspace_id, "name": name, "created_at": now})
                self._record(db, "catalog", name, actor.name, comment, now)
            self.sync()

    # ------------------------------------------------------------------ metadata

    def owner(self, securable_type: str, name: str) -> str:
        row = self.store.one("SELECT owner FROM sql_objects WHERE workspace_id = ? AND securable_type IN (?, ?) "
                             "AND full_name = ?", (self.workspace_id, securable_type,
                                                   "view" if securable_type == "table" else securable_type, name))
        if row:
            return row["owner"]
        catalog = name.split(".")[0]
        if securable_type != "catalog":
            return self.owner("catalog", catalog)
        if catalog in (SAMPLES, HIVE):
            return SYSTEM_OWNER
        admin = self.store.one("SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id "
                               "WHERE m.workspace_id = ? AND m.is_admin = 1 ORDER BY u.id LIMIT 1",
                               (self.workspace_id,))
        return admin["email"] if admin else SYSTEM_OWNER

    def record(self, securable_type: str, name: str) -> dict | None:
        return self.store.one("SELECT * FROM sql_objects WHERE workspace_id = ? AND securable_type = ? "
                              "AND full_name = ?", (self.workspace_id, securable_type, name))

    def schemas(self, catalog: str) -> list[str]:
        with self.lock:
            rows = self.con.execute(
                "SELECT schema_name, (SELECT count(*) FROM duckdb_tables() t WHERE t.database_name = s.database_name "
                "AND t.schema_name = s.schema_name) + (SELECT count(*) FROM duckdb_views() v WHERE NOT v.internal "
                "AND v.database_name = s.database_name AND v.schema_name = s.schema_name) AS n "
                "FROM duckdb_schemas() s WHERE database_name = ? ORDER BY schema_name", [alias(catalog)]).fetchall()
        names = [name for name, n in rows if name != "main" or n]
        if catalog != HIVE:
            names = sorted(set(names) | {INFORMATION_SCHEMA})
        return names

    def schema_exists(self, catalog: str, schema: str) -> bool:
        return schema in self.schemas(catalog)

    def tables(self, catalog: str, schema: str) -> list[dict]:
        """Tables and views of a schema: ``{name, kind ('table'|'view'), comment}``, by name."""
        with self.lock:
            rows = self.con.execute(
                "SELECT table_name, 'table', comment FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? "
                "UNION ALL SELECT view_name, 'view', comment FROM duckdb_views() WHERE NOT internal "
                "AND database_name = ? AND schema_name = ? ORDER BY 1",
                [alias(catalog), schema, alias(catalog), schema]).fetchall()
        return [{"name": n, "kind": k, "comment": c} for n, k, c in rows]

    def table(self, catalog: str, schema: str, table: str) -> dict | None:
        return next((t for t in self.tables(catalog, schema) if t["name"].lower() == table.lower()), None)

    def columns(self, catalog: str, schema: str, table: str) -> list[dict]:
        """``{name, type_name, type_text, precision, scale, nullable, comment, position}`` per column."""
        with self.lock:
            rows = self.con.execute(
                "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() WHERE database_name = ? "
                "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [alias(catalog), schema, table]).fetchall()
        out = []
        for position, (name, data_type, nullable, comment) in enumerate(rows):
            try:
                type_name, type_text, precision, scale = types.spark_type(data_type)
            except (duckdb.Error, ValueError, TypeError):
                type_name, type_text, precision, scale = "STRING", "string", None, None
            out.append({"name": name, "type_name": type_name, "type_text": type_text, "precision": precision,
                        "scale": scale, "nullable": bool(nullable), "comment": comment, "position": position})
        return out

    # ------------------------------------------------------------------ execution

    def execute(self, sql: str, *, actor: Actor, session: Session | None = None, parameters=None,
                row_limit: int | None = None, byte_limit: int | None = None, script: bool = False,
                now: float = 0.0) -> Result:
        """Run one statement (or, with ``script``, several; the last one's result is returned)."""
        statements = planner.split(sql)
        if not statements:
            raise syntax_error(None, "The statement is empty.")
        if len(statements) > 1 and not script:
            raise SqlError("PARSE_SYNTAX_ERROR", f"Syntax error: only one statement can be executed at a time "
                                                 f"(found {len(statements)}).", "42601")
        with self.lock:
            self.sync()
            if session is None:
                session = self.default_session()
            else:
                session = self._check_session(session, actor)
            result = Result(session=session, kind="noop")
            for text in statements:
                plan = planner.plan(text, session=session, user=actor.name, resolve=self.resolve,
                                    parameters=parameters)
                try:
                    result = self._run(plan, actor, session, row_limit, byte_limit, now)
                except duckdb.Error as exc:
                    raise from_duckdb(exc) from None
                session = result.session or session
                result.session = session
            return result

    def _check_session(self, session: Session, actor: Actor) -> Session:
        catalog = self.resolve(session.catalog)
        if catalog not in self.attached:
            raise catalog_not_found(session.catalog)
        Authorizer(self.store, self.workspace_id, actor).check("browse_catalog", catalog)
        schema = session.schema.lower()
        # "default" is the implicit schema: a catalog without one (samples) is still usable.
        if schema != DEFAULT_SCHEMA and not self.schema_exists(catalog, schema):
            raise schema_not_found(catalog, schema)
        return Session(catalog, schema)

    def _check_refs(self, plan: planner.Plan, auth: Authorizer) -> None:
        if_exists = plan.args.get("if_exists", False)
        for ref in plan.refs:
            if ref.catalog not in self.attached:
                raise catalog_not_found(ref.catalog)
            auth.check(ref.action, ref.catalog, ref.schema, ref.table)
            schema_needed = ref.action in ("create", "browse_schema", "alter_schema") or (
                ref.action == "drop_schema" and not if_exists)
            if schema_needed and not self.schema_exists(ref.catalog, ref.schema):
                raise schema_not_found(ref.catalog, ref.schema)
            table_needed = ref.action in ("read", "write", "browse", "alter") or (ref.action == "drop" and not if_exists)
            if table_needed and ref.schema != INFORMATION_SCHEMA and \
                    self.table(ref.catalog, ref.schema, ref.table) is None:
                raise table_not_found(ref.catalog, ref.schema, ref.table)

    def _run(self, plan: planner.Plan, actor: Actor, session: Session, row_limit, byte_limit, now) -> Result:
        auth = Authorizer(self.store, self.workspace_id, actor)
        self._check_refs(plan, auth)
        kind = plan.kind
        if kind == "query":
            return self._query(plan.sql[-1], row_limit, byte_limit, plan.args.get("names"))
        if kind in ("dml", "ddl"):
            return self._change(plan, actor, now)
        if kind == "use":
            return Result(session=plan.session, kind="use")
        if kind == "noop":
            return Result(kind="noop")
        if kind == "set":
            key, value = plan.args["key"], plan.args["value"]
            rows = [[key, value]] if key else []
            return Result([_string("key"), _string("value")], rows, kind="set")
        if kind == "create_catalog":
            a = plan.args
            self.create_catalog(a["name"], actor=actor, comment=a["comment"], if_not_exists=a["if_not_exists"],
                                now=now)
            return Result(kind="ddl")
        if kind in ("grant", "revoke"):
            apply_sql_grant(self, auth, plan)
            return Result(kind="ddl")
        return getattr(self, "_" + kind)(auth, **plan.args)

    def _query(self, sql: str, row_limit: int | None, byte_limit: int | None, names=None) -> Result:
        cur = self.con.cursor()
        try:
            relation = cur.sql(sql)
            duck_types = relation.types
            names = names if names and len(names) == len(duck_types) else relation.columns
            aliases = [quote(f"c{i}") for i in range(len(names))]
            rendered = ", ".join(types.render_sql(f"q.{a}", t) for a, t in zip(aliases, duck_types))
            cur.execute(f"SELECT {rendered} FROM ({sql}) AS q({', '.join(aliases)})")
            rows, truncated, size = [], False, 0
            cap = min(byte_limit, INLINE_LIMIT_BYTES) if byte_limit else INLINE_LIMIT_BYTES
            while not truncated:
                batch = cur.fetchmany(2048)
                if not batch:
                    break
                for row in batch:
                    size += 2 + sum(4 if v is None else len(v) + 3 for v in row)
                    if (row_limit is not None and len(rows) >= row_limit) or size > cap:
                        truncated = True
                        break
                    rows.append(list(row))
            return Result([types.column(n, t) for n, t in zip(names, duck_types)], rows, truncated, kind="query")
        finally:
            cur.close()

    def _change(self, plan: planner.Plan, actor: Actor, now: float) -> Result:
        cur = self.con.cursor()
        try:
            transaction = len(plan.sql) > 1
            if transaction:
                cur.execute("BEGIN TRANSACTION")
            last = []
            try:
                for sql in plan.sql:
                    cur.execute(sql)
                    last = cur.fetchall() if cur.description else []
                if transaction:
                    cur.execute("COMMIT")
            except duckdb.Error:
                if transaction:
                    cur.execute("ROLLBACK")
                raise
        finally:
            cur.close()
        self._bookkeeping(plan, actor, now)
        if plan.dml:
            count = str(last[0][0]) if last and last[0] and last[0][0] is not None else "0"
            names = DML_COLUMNS[plan.dml]
            return Result([_long(n) for n in names], [[count] * len(names)], kind="dml")
        return Result(kind="ddl")

    # ------------------------------------------------------------------ ownership and comments

    def _record(self, db, securable_type: str, name: str, owner: str, comment: str | None, now: float) -> None:
        db.execute("INSERT OR IGNORE INTO sql_objects (workspace_id, securable_type, full_name, owner, comment, "
                   "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (self.workspace_id, securable_type, name, owner, comment, now, owner))

    def _bookkeeping(self, plan: planner.Plan, actor: Actor, now: float) -> None:
        a = plan.args
        wid = self.workspace_id
        with self.store.atomic() as db:
            if a.get("created"):
                kind, catalog, schema, table = a["created"]
                self._record(db, kind, full_name(catalog, schema, table), actor.name, a.get("comment"), now)
            if a.get("dropped"):
                kind, catalog, schema, table = a["dropped"]
                name = full_name(catalog, schema, table)
                types_ = ("table", "view") if kind in ("table", "view") else (kind,)
                for t in types_:
                    db.execute("DELETE FROM sql_objects WHERE workspace_id = ? AND securable_type = ? AND full_name = ?",
                               (wid, t, name))
                db.execute("DELETE FROM grants WHERE workspace_id = ? AND lower(securable_type) IN ('table', ?) "
                           "AND lower(securable_name) = ?", (wid, kind, name.lower()))
                if kind == "schema":
                    db.execute("DELETE FROM sql_objects WHERE workspace_id = ? AND full_name LIKE ?",
                               (wid, name + ".%"))
                    db.execute("DELETE FROM grants WHERE workspace_id = ? AND lower(securable_type) = 'table' "
                               "AND lower(securable_name) LIKE ?", (wid, name.lower() + ".%"))
            if a.get("renamed"):
                old, new = (full_name(*parts) for parts in a["renamed"])
                db.execute("UPDATE sql_objects SET full_name = ? WHERE workspace_id = ? AND full_name = ?",
                           (new, wid, old))
                db.execute("UPDATE grants SET securable_name = ? WHERE workspace_id = ? AND "
                           "lower(securable_type) = 'table' AND lower(securable_name) = ?", (new, wid, old.lower()))
            if a.get("schema_comment"):
                catalog, schema, text = a["schema_comment"]
                name = full_name(catalog, schema)
                if not self.record("schema", name):
                    self._record(db, "schema", name, self.owner("schema", name), text, now)
                db.execute("UPDATE sql_objects SET comment = ? WHERE workspace_id = ? AND securable_type = 'schema' "
                           "AND full_name = ?", (text, wid, name))

    # ------------------------------------------------------------------ SHOW and DESCRIBE

    def _show_catalogs(self, auth: Authorizer, pattern=None) -> Result:
        match = like(pattern)
        rows = [[c] for c in self.catalogs() if auth.can_use_catalog(c) and match(c)]
        return Result([_string("catalog")], rows, kind="show")

    def _show_schemas(self, auth: Authorizer, catalog, pattern=None) -> Result:
        match = like(pattern)
        return Result([_string("databaseName")], [[s] for s in self.schemas(catalog) if match(s)], kind="show")

    def _show_tables(self, auth: Authorizer, catalog, schema, pattern=None) -> Result:
        match = like(pattern)
        rows = [[schema, t["name"], "false"] for t in self._listable(catalog, schema) if match(t["name"])]
        return Result([_string("database"), _string("tableName"), _boolean("isTemporary")], rows, kind="show")

    def _show_views(self, auth: Authorizer, catalog, schema, pattern=None) -> Result:
        match = like(pattern)
        rows = [[schema, t["name"], "false", "false"] for t in self._listable(catalog, schema)
                if t["kind"] == "view" and match(t["name"])]
        return Result([_string("namespace"), _string("viewName"), _boolean("isTemporary"),
                       _boolean("isMaterialized")], rows, kind="show")

    def _show_table_extended(self, auth: Authorizer, catalog, schema, pattern=None) -> Result:
        match = like(pattern)
        rows = []
        for t in self._listable(catalog, schema):
            if not match(t["name"]):
                continue
            name = full_name(catalog, schema, t["name"])
            lines = [f"Catalog: {catalog}", f"Database: {schema}", f"Table: {t['name']}",
                     f"Owner: {self.owner('table', name)}", f"Type: {'VIEW' if t['kind'] == 'view' else 'MANAGED'}",
                     "Provider: delta"]
            if t["comment"]:
                lines.append(f"Comment: {t['comment']}")
            lines.append("Schema: root")
            lines += [f" |-- {c['name']}: {c['type_text']} (nullable = {str(c['nullable']).lower()})"
                      for c in self.columns(catalog, schema, t["name"])]
            rows.append([schema, t["name"], "false", "\n".join(lines) + "\n"])
        return Result([_string("database"), _string("tableName"), _boolean("isTemporary"), _string("information")],
                      rows, kind="show")

    def _listable(self, catalog: str, schema: str) -> list[dict]:
        if schema == INFORMATION_SCHEMA and catalog != HIVE:
            return [{"name": n, "kind": "view", "comment": None} for n in sorted(planner._INFO_VIEWS)]
        return self.tables(catalog, schema)

    def _show_columns(self, auth: Authorizer, catalog, schema, table) -> Result:
        return Result([_string("col_name")], [[c["name"]] for c in self.columns(catalog, schema, table)], kind="show")

    def _show_grants(self, auth: Authorizer, principal, securable) -> Result:
        kind, catalog, schema, table = securable
        name = full_name(catalog, schema, table)
        rows = [[r["principal"], r["privilege"].replace("_", " "), kind.upper(), name]
                for r in grant_rows(self.store, self.workspace_id, kind, name, principal)]
        return Result([_string("principal"), _string("action_type"), _string("object_type"), _string("object_key")],
                      rows, kind="show")

    def _describe_table(self, auth: Authorizer, catalog, schema, table, extended=False) -> Result:
        cols = self.columns(catalog, schema, table)
        rows = [[c["name"], c["type_text"], c["comment"]] for c in cols]
        if extended:
            t = self.table(catalog, schema, table) or {}
            name = full_name(catalog, schema, table)
            rows += [["", "", ""], ["# Detailed Table Information", "", ""], ["Catalog", catalog, ""],
                     ["Database", schema, ""], ["Table", table, ""], ["Owner", self.owner("table", name), ""],
                     ["Type", "VIEW" if t.get("kind") == "view" else "MANAGED", ""], ["Provider", "delta", ""],
                     ["Comment", t.get("comment") or "", ""]]
        return Result([_string("col_name"), _string("data_type"), _string("comment")], rows, kind="describe")

    def _describe_schema(self, auth: Authorizer, catalog, schema, extended=False) -> Result:
        name = full_name(catalog, schema)
        record = self.record("schema", name) or {}
        rows = [["Catalog Name", catalog], ["Namespace Name", schema], ["Comment", record.get("comment") or ""],
                ["Owner", self.owner("schema", name)]]
        return Result([_string("database_description_item"), _string("database_description_value")], rows,
                      kind="describe")

    def _describe_catalog(self, auth: Authorizer, catalog, extended=False) -> Result:
        record = self.record("catalog", catalog) or {}
        rows = [["Catalog Name", catalog], ["Comment", record.get("comment") or ""],
                ["Owner", self.owner("catalog", catalog)], ["Catalog Type", catalog_type(catalog)]]
        return Result([_string("info_name"), _string("info_value")], rows, kind="describe")

    def close(self) -> None:
        with self.lock:
            self.con.close()


def catalog_type(catalog: str) -> str:
    return {SAMPLES: "DELTASHARING_CATALOG", HIVE: "INTERNAL_CATALOG"}.get(catalog, "MANAGED_CATALOG")


# ---------------------------------------------------------------------------- registry

_ENGINES: dict[tuple[str, int], Engine] = {}
_REGISTRY = threading.Lock()


def _key(store: Store) -> str:
    return f"memory:{id(store)}" if store.path == ":memory:" else os.path.abspath(store.path)


def _epoch(store: Store) -> str:
    epoch = store.get_meta(EPOCH_KEY)
    if epoch is None:
        epoch = uuid.uuid4().hex[:12]
        store.set_meta(EPOCH_KEY, epoch)
        if store.path != ":memory:":  # a new epoch: earlier SQL data belongs to a reset state
            root = Path(os.path.abspath(store.path) + "-sql")
            if root.is_dir():
                for old in root.iterdir():
                    if old.name != epoch:
                        shutil.rmtree(old, ignore_errors=True)
    return epoch


def engine_for(store: Store, workspace_id: int) -> Engine:
    """The workspace's engine (created on first use, reopened after ``pcsim reset``)."""
    with _REGISTRY:
        epoch = _epoch(store)
        key = (_key(store), int(workspace_id))
        engine = _ENGINES.get(key)
        if engine is not None and engine.epoch == epoch:
            return engine
        if engine is not None:
            engine.close()
        directory = None if store.path == ":memory:" else \
            Path(os.path.abspath(store.path) + "-sql") / epoch / str(workspace_id)
        engine = _ENGINES[key] = Engine(store, int(workspace_id), directory, epoch)
        return engine


def close_engines(store: Store | None = None) -> None:
    """Close the engines of one state file (all of them without ``store``); data stays on disk."""
    with _REGISTRY:
        for key in list(_ENGINES):
            if store is None or key[0] == _key(store):
                _ENGINES.pop(key).close()
