"""Reading and changing Unity Catalog grants (the store's ``grants`` table), shared by SQL
``GRANT``/``REVOKE``/``SHOW GRANTS`` and the ``/api/2.1/unity-catalog/permissions`` API.

Partner Connect writes its grants with ``connection_id`` set (deleting the connection removes
them); grants made here have no connection. Privileges are stored in upper snake case.
"""
from __future__ import annotations

from ..store import Store
from .access import normalize
from .errors import SqlError, insufficient
from .names import SAMPLES, full_name

PRIVILEGES = {
    "ALL_PRIVILEGES", "APPLY_TAG", "BROWSE", "CREATE", "CREATE_CATALOG", "CREATE_CONNECTION", "CREATE_FUNCTION",
    "CREATE_MATERIALIZED_VIEW", "CREATE_MODEL", "CREATE_SCHEMA", "CREATE_TABLE", "CREATE_VIEW", "CREATE_VOLUME",
    "CREATE_NAMED_FUNCTION", "EXECUTE", "MANAGE", "MODIFY", "MODIFY_CLASSPATH", "READ_FILES", "READ_METADATA",
    "READ_VOLUME", "REFRESH", "SELECT", "USAGE", "USE_CATALOG", "USE_SCHEMA", "WRITE_FILES", "WRITE_VOLUME",
    "EXTERNAL_USE_SCHEMA", "OWN",
}
SECURABLE_TYPES = ("catalog", "schema", "table")


def grant_rows(store: Store, workspace_id: int, securable_type: str, name: str,
               principal: str | None = None) -> list[dict]:
    """Direct grants on one securable (``principal``, ``privilege``), ordered."""
    sql = ("SELECT principal, privilege FROM grants WHERE workspace_id = ? AND lower(securable_type) = ? "
           "AND lower(securable_name) = ?")
    params = [workspace_id, securable_type.lower(), name.lower()]
    if principal:
        sql += " AND principal = ?"
        params.append(principal)
    rows = store.query(sql + " ORDER BY principal, id", params)
    seen, out = set(), []
    for r in rows:
        key = (r["principal"], normalize(r["privilege"]))
        if key not in seen:
            seen.add(key)
            out.append({"principal": key[0], "privilege": key[1]})
    return out


def assignments(store: Store, workspace_id: int, securable_type: str, name: str,
                principal: str | None = None) -> list[dict]:
    """``[{principal, privileges: [...]}]`` as the permissions API answers."""
    grouped: dict[str, list[str]] = {}
    for r in grant_rows(store, workspace_id, securable_type, name, principal):
        grouped.setdefault(r["principal"], []).append(r["privilege"])
    return [{"principal": p, "privileges": sorted(privs)} for p, privs in grouped.items()]


def effective(store: Store, workspace_id: int, securable_type: str, name: str,
              principal: str | None = None) -> list[dict]:
    """Grants on the securable and inherited from its parents (``inherited_from_type/name``)."""
    parts = name.split(".")
    chain = [("catalog", parts[0])]
    if securable_type in ("schema", "table") and len(parts) >= 2:
        chain.append(("schema", ".".join(parts[:2])))
    if securable_type == "table" and len(parts) == 3:
        chain.append(("table", name))
    grouped: dict[str, list[dict]] = {}
    for kind, parent in chain:
        for r in grant_rows(store, workspace_id, kind, parent, principal):
            entry = {"privilege": r["privilege"]}
            if kind != securable_type:
                entry.update(inherited_from_type=kind.upper(), inherited_from_name=parent)
            grouped.setdefault(r["principal"], []).append(entry)
    return [{"principal": p, "privileges": privs} for p, privs in grouped.items()]


def validate(privileges) -> list[str]:
    out = []
    for p in privileges or []:
        name = normalize(str(p))
        if name not in PRIVILEGES:
            raise SqlError("INVALID_PARAMETER_VALUE", f"Privilege {p} is not valid for Unity Catalog securables.",
                           "22023")
        out.append(name)
    return out


def change(store: Store, workspace_id: int, securable_type: str, name: str, principal: str,
           add=(), remove=()) -> None:
    """Add and remove one principal's privileges on a securable (one transaction)."""
    add, remove = validate(add), validate(remove)
    with store.atomic() as db:
        existing = store.query("SELECT id, privilege FROM grants WHERE workspace_id = ? AND principal = ? "
                               "AND lower(securable_type) = ? AND lower(securable_name) = ?",
                               (workspace_id, principal, securable_type, name.lower()))
        doomed = [r["id"] for r in existing if normalize(r["privilege"]) in remove]
        current = {normalize(r["privilege"]) for r in existing} - set(remove)
        for row_id in doomed:
            db.execute("DELETE FROM grants WHERE id = ?", (row_id,))
        for privilege in add:
            if privilege not in current:
                db["grants"].insert({"workspace_id": workspace_id, "connection_id": None, "principal": principal,
                                     "securable_type": securable_type, "securable_name": name,
                                     "privilege": privilege})
                current.add(privilege)


def apply_sql_grant(engine, auth, plan) -> None:
    """SQL ``GRANT``/``REVOKE`` (the planner checked the securable exists and is visible)."""
    kind, catalog, schema, table = plan.args["securable"]
    if not auth.can_manage_grants(catalog, schema, table):
        name = full_name(catalog, schema, table)
        raise insufficient("MANAGE", kind.capitalize(), name)
    if catalog == SAMPLES:
        raise insufficient("MANAGE", "Catalog", catalog)
    privileges = plan.args["privileges"]
    add, remove = (privileges, ()) if plan.kind == "grant" else ((), privileges)
    change(engine.store, engine.workspace_id, kind, full_name(catalog, schema, table), plan.args["principal"],
           add=add, remove=remove)
