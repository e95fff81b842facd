"""Unity Catalog, minimal (``/api/2.1/unity-catalog``): catalogs, schemas and tables (list, get,
create, delete) and grants, all backed by the workspace's SQL engine — a schema made with SQL
shows up here and one made here is usable from SQL at once.

* Lists honour ``max_results`` (0 or absent: everything) and ``page_token``; ``next_page_token``
  appears only when more remain.
* Creating goes through the engine as the caller, so the same grant rules apply as in SQL
  (``CREATE_SCHEMA``/``CREATE_TABLE`` on the catalog, admins anything; catalogs: admins only).
* Grants: ``GET/PATCH /permissions/{securable_type}/{full_name}`` (type case-insensitive: catalog,
  schema, table) read and change the ``grants`` table — including what Partner Connect granted —
  and ``/effective-permissions/...`` adds what is inherited from the parents.
* ``hive_metastore`` is left out of the catalog list (it is not a Unity Catalog catalog) but can be
  read by name, like ``samples``.
"""
from __future__ import annotations

import json
import uuid

from flask import jsonify
from flask_smorest import Blueprint

from .. import sqlengine, workspaces
from ..sqlengine import HIVE, Actor, SqlError, catalog_type
from ..sqlengine.access import Authorizer
from ..sqlengine.grants import SECURABLE_TYPES, assignments, change, effective
from ..sqlengine.names import INFORMATION_SCHEMA, full_name
from .common import arg, body, ctx, millis, principal, required, workspace_id
from .errors import ApiError, invalid, permission_denied

blp = Blueprint("unity_catalog", __name__, url_prefix="/api/2.1/unity-catalog",
                description="Unity Catalog (catalogs, schemas, tables, grants) on the simulator's SQL engine")

_NOT_FOUND = {"NO_SUCH_CATALOG_EXCEPTION": "CATALOG_DOES_NOT_EXIST", "SCHEMA_NOT_FOUND": "SCHEMA_DOES_NOT_EXIST",
              "TABLE_OR_VIEW_NOT_FOUND": "TABLE_DOES_NOT_EXIST"}
_EXISTS = {"CATALOG_ALREADY_EXISTS": "CATALOG_ALREADY_EXISTS", "SCHEMA_ALREADY_EXISTS": "SCHEMA_ALREADY_EXISTS",
           "TABLE_OR_VIEW_ALREADY_EXISTS": "TABLE_ALREADY_EXISTS"}
_TYPE_SQL = {"BOOLEAN": "BOOLEAN", "BYTE": "TINYINT", "SHORT": "SMALLINT", "INT": "INT", "LONG": "BIGINT",
             "FLOAT": "FLOAT", "DOUBLE": "DOUBLE", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP",
             "TIMESTAMP_NTZ": "TIMESTAMP_NTZ", "STRING": "STRING", "BINARY": "BINARY", "DECIMAL": "DECIMAL(10,0)"}


def _engine():
    return sqlengine.engine_for(ctx().store, workspace_id())


def _actor() -> Actor:
    return Actor.of(principal())


def _auth() -> Authorizer:
    return Authorizer(ctx().store, workspace_id(), _actor())


def _api_error(exc: SqlError) -> ApiError:
    if exc.error_class == "INSUFFICIENT_PERMISSIONS":
        return ApiError(403, "PERMISSION_DENIED", exc.detail)
    if exc.error_class in _NOT_FOUND:
        return ApiError(404, _NOT_FOUND[exc.error_class], exc.detail)
    if exc.error_class in _EXISTS or "already exists" in exc.detail:
        return ApiError(409, _EXISTS.get(exc.error_class, "RESOURCE_ALREADY_EXISTS"), exc.detail)
    return ApiError(400, "INVALID_PARAMETER_VALUE", exc.message)


def _sql(statement: str) -> None:
    try:
        _engine().execute(statement, actor=_actor(), now=ctx().clock.now())
    except SqlError as exc:
        raise _api_error(exc) from None


def _q(name: str) -> str:
    """A Databricks SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _required_arg(name: str) -> str:
    return required({name: arg(name)}, name)


def _page(items: list, key: str, size_param: str = "max_results"):
    """``size_param`` items (0 or absent: all) from ``page_token``; ``next_page_token`` while more remain."""
    max_results = arg(size_param, 0, int)
    if max_results < 0:
        invalid(f"{size_param} must be >= 0, got {max_results}")
    token = arg("page_token")
    start = 0
    if token:
        if not token.isdigit():
            invalid(f"Invalid page_token {token!r}")
        start = int(token)
    end = len(items) if not max_results else start + max_results
    out = {key: items[start:end]}
    if end < len(items):
        out["next_page_token"] = str(end)
    return jsonify(out)


def _metastore_id() -> str:
    ws = workspaces.get_workspace(ctx(), workspace_id())
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pcsim:metastore:{ws['cloud']}:{ws['region']}"))


def _stamp(engine, record: dict | None, securable_type: str, name: str) -> tuple[int, str]:
    """(created_at in ms, created_by) from the engine's ``record``, else the catalog's or workspace's."""
    if record:
        return millis(record["created_at"]), record["created_by"]
    c = ctx()
    row = c.store.one("SELECT created_at FROM catalogs WHERE workspace_id = ? AND name = ?",
                      (workspace_id(), name.split(".")[0]))
    if row is None:
        row = c.store.one("SELECT created_at FROM workspaces WHERE id = ?", (workspace_id(),))
    return millis(row["created_at"]), engine.owner(securable_type, name)


# ----------------------------------------------------------------------------- lookups

def _catalog(name: str) -> str:
    engine = _engine()
    known = engine.catalogs()  # attaches catalogs added since (CLI, another process)
    catalog = engine.resolve(name)
    if catalog not in known:
        raise ApiError(404, "CATALOG_DOES_NOT_EXIST", f"Catalog '{name}' does not exist.")
    if not _auth().can_use_catalog(catalog):
        permission_denied(f"User does not have USE CATALOG on Catalog '{catalog}'.")
    return catalog


def _schema(full: str) -> tuple[str, str]:
    parts = full.split(".")
    if len(parts) != 2:
        invalid(f"Invalid schema full name {full!r}: expected <catalog>.<schema>")
    catalog, schema = _catalog(parts[0]), parts[1].lower()
    if not _engine().schema_exists(catalog, schema):
        raise ApiError(404, "SCHEMA_DOES_NOT_EXIST", f"Schema '{catalog}.{schema}' does not exist.")
    return catalog, schema


def _table(full: str) -> tuple[str, str, str, dict]:
    parts = full.split(".")
    if len(parts) != 3:
        invalid(f"Invalid table full name {full!r}: expected <catalog>.<schema>.<table>")
    catalog, schema = _schema(".".join(parts[:2]))
    table = _engine().table(catalog, schema, parts[2])
    if table is None:
        raise ApiError(404, "TABLE_DOES_NOT_EXIST", f"Table '{catalog}.{schema}.{parts[2].lower()}' does not exist.")
    return catalog, schema, table["name"], table


# ----------------------------------------------------------------------------- shapes

def _catalog_info(name: str) -> dict:
    engine = _engine()
    record = engine.record("catalog", name) or {}
    created_at, created_by = _stamp(engine, record, "catalog", name)
    out = {"name": name, "full_name": name, "catalog_type": catalog_type(name),
           "owner": engine.owner("catalog", name), "metastore_id": _metastore_id(), "created_at": created_at,
           "created_by": created_by, "updated_at": created_at, "updated_by": created_by, "securable_type": "CATALOG",
           "isolation_mode": "OPEN", "properties": {}, "browse_only": False}
    if record.get("comment"):
        out["comment"] = record["comment"]
    return out


def _schema_info(catalog: str, schema: str) -> dict:
    engine = _engine()
    name = full_name(catalog, schema)
    record = engine.record("schema", name) or {}
    created_at, created_by = _stamp(engine, record, "schema", name)
    owner = "System user" if schema == INFORMATION_SCHEMA else engine.owner("schema", name)
    out = {"name": schema, "catalog_name": catalog, "full_name": name, "owner": owner,
           "metastore_id": _metastore_id(), "catalog_type": catalog_type(catalog),
           "schema_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pcsim:{workspace_id()}:schema:{name}")),
           "created_at": created_at, "created_by": created_by, "updated_at": created_at, "updated_by": created_by,
           "securable_type": "SCHEMA", "properties": {}, "browse_only": False}
    if record.get("comment"):
        out["comment"] = record["comment"]
    return out


def _type_json(col: dict) -> str:
    spark = {"BYTE": "byte", "SHORT": "short", "INT": "integer", "LONG": "long"}.get(col["type_name"], col["type_text"])
    return json.dumps({"name": col["name"], "type": spark, "nullable": col["nullable"], "metadata": {}})


def _table_info(catalog: str, schema: str, table: dict, *, with_columns: bool = True) -> dict:
    engine = _engine()
    name = full_name(catalog, schema, table["name"])
    kind = "view" if table["kind"] == "view" else "table"
    created_at, created_by = _stamp(engine, engine.record(kind, name), kind, name)
    out = {"name": table["name"], "catalog_name": catalog, "schema_name": schema, "full_name": name,
           "table_type": "VIEW" if table["kind"] == "view" else "MANAGED", "owner": engine.owner("table", name),
           "metastore_id": _metastore_id(), "created_at": created_at, "created_by": created_by,
           "updated_at": created_at, "updated_by": created_by, "properties": {}, "browse_only": False,
           "table_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pcsim:{workspace_id()}:table:{name}"))}
    if table["kind"] != "view":
        out["data_source_format"] = "DELTA"
        out["storage_location"] = f"s3://pcsim-metastore/{workspace_id()}/tables/{out['table_id']}"
    if table.get("comment"):
        out["comment"] = table["comment"]
    if with_columns:
        cols = []
        for col in engine.columns(catalog, schema, table["name"]):
            type_name = "TIMESTAMP_NTZ" if col["type_text"] == "timestamp_ntz" else col["type_name"]
            info = {"name": col["name"], "type_text": col["type_text"], "type_name": type_name,
                    "type_json": _type_json(col), "position": col["position"], "nullable": col["nullable"]}
            if col["precision"] is not None:
                info.update(type_precision=col["precision"], type_scale=col["scale"])
            if col["comment"]:
                info["comment"] = col["comment"]
            cols.append(info)
        out["columns"] = cols
    return out


# ----------------------------------------------------------------------------- catalogs

@blp.route("/catalogs", methods=["GET"])
def list_catalogs():
    """Catalogs the caller can use (admins: all), ``hive_metastore`` excepted."""
    auth = _auth()
    names = [n for n in _engine().catalogs() if n != HIVE and auth.can_use_catalog(n)]
    return _page([_catalog_info(n) for n in names], "catalogs")


@blp.route("/catalogs/<name>", methods=["GET"])
def get_catalog(name):
    return jsonify(_catalog_info(_catalog(name)))


@blp.route("/catalogs", methods=["POST"])
def create_catalog():
    """Create a catalog (workspace admins only); it becomes a new attached database."""
    data = body()
    name = required(data, "name")
    try:
        _engine().create_catalog(name.lower(), actor=_actor(), comment=data.get("comment"), now=ctx().clock.now())
    except SqlError as exc:
        raise _api_error(exc) from None
    return jsonify(_catalog_info(_catalog(name)))


# ----------------------------------------------------------------------------- schemas

@blp.route("/schemas", methods=["GET"])
def list_schemas():
    catalog = _catalog(_required_arg("catalog_name"))
    return _page([_schema_info(catalog, s) for s in _engine().schemas(catalog)], "schemas")


@blp.route("/schemas/<full>", methods=["GET"])
def get_schema(full):
    return jsonify(_schema_info(*_schema(full)))


@blp.route("/schemas", methods=["POST"])
def create_schema():
    data = body()
    name, catalog = required(data, "name"), _catalog(required(data, "catalog_name"))
    comment = f" COMMENT {_literal(data['comment'])}" if data.get("comment") else ""
    _sql(f"CREATE SCHEMA {_q(catalog)}.{_q(name)}{comment}")
    return jsonify(_schema_info(catalog, name.lower()))


@blp.route("/schemas/<full>", methods=["DELETE"])
def delete_schema(full):
    catalog, schema = _schema(full)
    cascade = " CASCADE" if arg("force", False, bool) else ""
    _sql(f"DROP SCHEMA {_q(catalog)}.{_q(schema)}{cascade}")
    return jsonify({})


# ----------------------------------------------------------------------------- tables

@blp.route("/tables", methods=["GET"])
def list_tables():
    catalog, schema = _schema(f"{_required_arg('catalog_name')}.{_required_arg('schema_name')}")
    with_columns = not arg("omit_columns", False, bool)
    tables = [_table_info(catalog, schema, t, with_columns=with_columns) for t in _engine().tables(catalog, schema)]
    return _page(tables, "tables")


@blp.route("/tables/<full>", methods=["GET"])
def get_table(full):
    catalog, schema, _, table = _table(full)
    return jsonify(_table_info(catalog, schema, table))


@blp.route("/tables/<full>/exists", methods=["GET"])
def table_exists(full):
    try:
        _table(full)
    except ApiError as exc:
        if exc.status == 404:
            return jsonify({"table_exists": False})
        raise
    return jsonify({"table_exists": True})


def _column_sql(col: dict) -> str:
    if not isinstance(col, dict) or not col.get("name"):
        invalid("Each column needs a name")
    type_text = col.get("type_text") or _TYPE_SQL.get(str(col.get("type_name", "")).upper())
    if not type_text:
        invalid(f"Column {col['name']} needs type_text or a simple type_name")
    sql = f"{_q(col['name'])} {type_text}"
    if col.get("nullable") is False:
        sql += " NOT NULL"
    if col.get("comment"):
        sql += f" COMMENT {_literal(col['comment'])}"
    return sql


@blp.route("/tables", methods=["POST"])
def create_table():
    """Create a table from a column list (kept as a managed table; storage_location is ignored)."""
    data = body()
    name = required(data, "name")
    catalog, schema = _schema(f"{required(data, 'catalog_name')}.{required(data, 'schema_name')}")
    if str(data.get("table_type", "MANAGED")).upper() not in ("MANAGED", "EXTERNAL"):
        invalid(f"table_type {data.get('table_type')!r} is not supported by the simulator (MANAGED, EXTERNAL)")
    columns = data.get("columns") or []
    if not isinstance(columns, list) or not columns:
        invalid("columns must be a non-empty list")
    columns = sorted(columns, key=lambda c: c.get("position", 0) if isinstance(c, dict) else 0)
    comment = f" COMMENT {_literal(data['comment'])}" if data.get("comment") else ""
    _sql(f"CREATE TABLE {_q(catalog)}.{_q(schema)}.{_q(name)} ({', '.join(_column_sql(c) for c in columns)})"
         f" USING DELTA{comment}")
    return jsonify(_table_info(catalog, schema, _engine().table(catalog, schema, name)))


@blp.route("/tables/<full>", methods=["DELETE"])
def delete_table(full):
    catalog, schema, table, info = _table(full)
    _sql(f"DROP {'VIEW' if info['kind'] == 'view' else 'TABLE'} {_q(catalog)}.{_q(schema)}.{_q(table)}")
    return jsonify({})


# ----------------------------------------------------------------------------- grants

def _securable(securable_type: str, full: str) -> tuple[str, str, tuple]:
    kind = securable_type.lower()
    if kind not in SECURABLE_TYPES:
        raise ApiError(501, "NOT_IMPLEMENTED", f"The simulator supports grants on {', '.join(SECURABLE_TYPES)}, "
                                               f"not {securable_type}")
    if kind == "catalog":
        catalog = _catalog(full)
        return kind, catalog, (catalog, None, None)
    if kind == "schema":
        catalog, schema = _schema(full)
        return kind, full_name(catalog, schema), (catalog, schema, None)
    catalog, schema, table, _ = _table(full)
    return kind, full_name(catalog, schema, table), (catalog, schema, table)


@blp.route("/permissions/<securable_type>/<full>", methods=["GET"])
def get_permissions(securable_type, full):
    """Direct grants on a securable (Partner Connect's included)."""
    kind, name, _ = _securable(securable_type, full)
    return _page(assignments(ctx().store, workspace_id(), kind, name, arg("principal")), "privilege_assignments")


@blp.route("/privilege-assignments/<securable_type>/<full>", methods=["GET"])
def list_privilege_assignments(securable_type, full):
    kind, name, _ = _securable(securable_type, full)
    items = assignments(ctx().store, workspace_id(), kind, name, arg("principal"))
    return _page(items, "privilege_assignments", "page_size")


@blp.route("/permissions/<securable_type>/<full>", methods=["PATCH"])
def update_permissions(securable_type, full):
    """Apply ``changes: [{principal, add, remove}]`` (admins, owners and MANAGE holders)."""
    kind, name, parts = _securable(securable_type, full)
    if not _auth().can_manage_grants(*parts):
        permission_denied(f"User does not have MANAGE on {kind.capitalize()} '{name}'.")
    changes = body().get("changes") or []
    if not isinstance(changes, list):
        invalid("changes must be a list")
    store = ctx().store
    for item in changes:
        who = item.get("principal") if isinstance(item, dict) else None
        if not who:
            invalid("Each change needs a principal")
        if not _principal_exists(who):
            invalid(f"Could not find principal with name {who}")
        try:
            change(store, workspace_id(), kind, name, who, add=item.get("add") or (), remove=item.get("remove") or ())
        except SqlError as exc:
            invalid(exc.detail)
    return jsonify({"privilege_assignments": assignments(store, workspace_id(), kind, name)})


def _principal_exists(name: str) -> bool:
    if name in ("users", "admins", "account users"):
        return True
    store = ctx().store
    if store.one("SELECT 1 AS x FROM service_principals WHERE application_id = ? AND workspace_id = ?",
                 (name, workspace_id())):
        return True
    return store.one("SELECT 1 AS x FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.email = ? "
                     "AND m.workspace_id = ?", (name, workspace_id())) is not None


@blp.route("/effective-permissions/<securable_type>/<full>", methods=["GET"])
def get_effective_permissions(securable_type, full):
    """Grants on the securable and inherited from its schema and catalog."""
    kind, name, _ = _securable(securable_type, full)
    return _page(effective(ctx().store, workspace_id(), kind, name, arg("principal")), "privilege_assignments")
