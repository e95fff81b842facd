"""Who may do what with a SQL warehouse or a cluster (kept deliberately simple).

* Workspace admins may do everything.
* The principal that created an object through this API (``creator``: email or application id) owns it.
* Otherwise the ``grants`` rows count: Partner Connect gives the partner's service principal
  ``CAN_USE`` (or another level from ``object_permissions``) on its warehouse
  (``securable_type = 'sql_warehouse'``) or cluster (``'cluster'``). Provisioned objects name the
  service principal as creator, but only these grants count for it, as on Databricks.
* Creating a cluster needs admin, or a workspace-wide ``CAN_MANAGE`` grant (``securable_name = '*'``,
  what a ``WORKSPACE_MANAGEMENT`` partner gets); creating a warehouse needs admin.

Levels per operation (as in Databricks' ACLs):

=========  ==========================================  ==========================================
object     see (get/list) and use                      change
=========  ==========================================  ==========================================
warehouse  CAN_VIEW, CAN_MONITOR: get; CAN_USE and     CAN_MANAGE, IS_OWNER: also stop, edit,
           CAN_RESTART (reference configs use it for   delete
           SQL_Endpoint): also start
cluster    CAN_ATTACH_TO, CAN_USE: get; CAN_RESTART:   CAN_MANAGE, IS_OWNER: also edit,
           also start, restart, terminate              permanent-delete
=========  ==========================================  ==========================================

Anything else is refused with 403 ``PERMISSION_DENIED``. A partner whose config lists no
``object_permissions`` for its warehouse or cluster gets no access to it, as its grants say.
"""
from __future__ import annotations

from .common import Principal, ctx
from .errors import permission_denied

OWNER = {"CAN_MANAGE", "IS_OWNER"}
NEEDS = {
    ("warehouse", "view"): {"CAN_VIEW", "CAN_MONITOR", "CAN_USE", "CAN_RESTART"} | OWNER,
    ("warehouse", "use"): {"CAN_USE", "CAN_RESTART"} | OWNER,
    ("warehouse", "manage"): OWNER,
    ("cluster", "view"): {"CAN_ATTACH_TO", "CAN_RESTART", "CAN_USE"} | OWNER,
    ("cluster", "use"): {"CAN_RESTART"} | OWNER,
    ("cluster", "manage"): OWNER,
}
SECURABLE = {"warehouse": "sql_warehouse", "cluster": "cluster"}
NOUN = {"warehouse": "SQL warehouse", "cluster": "cluster"}


def _held(who: Principal, kind: str, object_id: str | None = None) -> dict[str, set[str]]:
    """The levels ``who`` is granted on objects of ``kind``, by object id (``'*'``: workspace-wide);
    only those of ``object_id`` (and ``'*'``) when given."""
    sql = "SELECT securable_name, privilege FROM grants WHERE workspace_id = ? AND principal = ? AND securable_type = ?"
    params: tuple = (who.workspace_id, who.user_name, SECURABLE[kind])
    if object_id is not None:
        sql += " AND securable_name IN (?, '*')"
        params += (object_id,)
    held: dict[str, set[str]] = {}
    for r in ctx().store.query(sql, params):
        held.setdefault(r["securable_name"], set()).add(r["privilege"])
    return held


def _levels(who: Principal, row: dict, held: dict[str, set[str]]) -> set[str]:
    if who.is_admin:
        return {"IS_OWNER"}
    if row.get("creator") and row["creator"] == who.user_name and row.get("connection_id") is None:
        return {"IS_OWNER"}
    return held.get(row["id"], set()) | held.get("*", set())


def levels(who: Principal, kind: str, row: dict) -> set[str]:
    """The permission levels ``who`` holds on one warehouse or cluster row."""
    return _levels(who, row, {} if who.is_admin else _held(who, kind, row["id"]))


def allowed(who: Principal, kind: str, row: dict, need: str) -> bool:
    return bool(levels(who, kind, row) & NEEDS[(kind, need)])


def visible(who: Principal, kind: str, rows: list[dict], need: str = "view") -> list[dict]:
    """The rows ``who`` may ``need`` (for lists: one grants query for all of them)."""
    held = {} if who.is_admin else _held(who, kind)
    return [row for row in rows if _levels(who, row, held) & NEEDS[(kind, need)]]


def require(who: Principal, kind: str, row: dict, need: str, verb: str) -> None:
    """403 unless ``who`` may ``need`` (view/use/manage) the object; ``verb`` names the operation."""
    if not allowed(who, kind, row, need):
        wanted = " or ".join(sorted(NEEDS[(kind, need)]))
        permission_denied(f"{who.user_name} does not have permission to {verb} {NOUN[kind]} {row['id']} "
                          f"(needs {wanted})")


def require_create(who: Principal, kind: str) -> None:
    if who.is_admin:
        return
    if kind == "cluster" and ctx().store.one(
            "SELECT 1 AS x FROM grants WHERE workspace_id = ? AND principal = ? AND securable_name = '*' "
            "AND privilege = 'CAN_MANAGE' LIMIT 1", (who.workspace_id, who.user_name)):
        return
    permission_denied(f"{who.user_name} is not allowed to create a {NOUN[kind]} in this workspace "
                      "(workspace admins only" + (", or a workspace-wide CAN_MANAGE grant)" if kind == "cluster" else ")"))
