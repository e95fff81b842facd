"""Who may do what with data: Unity Catalog privileges from the ``grants`` table, object owners,
workspace admins.

The rules, checked for every object a statement touches (see ``planner.Ref``):

* ``samples`` is readable by everyone and writable by no one (admins included);
* workspace admins may do everything else;
* anyone else first needs *some* privilege in the catalog (``USE_CATALOG``, ``USAGE``, ``SELECT``,
  ... on the catalog, or on a schema or table in it, or owning something there) — otherwise
  ``User does not have USE CATALOG on Catalog 'x'``, Databricks' own first check;
* then the operation's privilege, granted on the table, its schema or its catalog (grants
  inherit downwards): reading data needs ``SELECT``; INSERT/UPDATE/DELETE/MERGE need ``MODIFY``;
  CREATE SCHEMA needs ``CREATE_SCHEMA``; CREATE TABLE/VIEW needs ``CREATE_TABLE``; the legacy
  ``CREATE`` covers both and ``ALL_PRIVILEGES`` covers everything; DROP/ALTER need ``MANAGE``;
  metadata (SHOW, DESCRIBE, USE) needs nothing more;
* the owner of a schema or table (whoever created it) may do anything with it and inside it.

Grants match the caller's name (a user's email, a service principal's application id) and the
groups everyone belongs to (``users``, ``account users``). Privilege names are compared in
upper snake case, so Partner Connect's ``ALL PRIVILEGES`` equals the API's ``ALL_PRIVILEGES``.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..store import Store
from .errors import SqlError, insufficient
from .names import SAMPLES, full_name

OBJECTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS sql_objects (
    workspace_id INTEGER NOT NULL,
    securable_type TEXT NOT NULL,
    full_name TEXT NOT NULL,
    owner TEXT NOT NULL,
    comment TEXT,
    created_at REAL NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (workspace_id, securable_type, full_name)
);
"""

GROUPS = ("users", "account users")
SATISFIED_BY = {
    "SELECT": {"SELECT", "ALL_PRIVILEGES"},
    "MODIFY": {"MODIFY", "ALL_PRIVILEGES"},
    "CREATE_SCHEMA": {"CREATE_SCHEMA", "CREATE", "ALL_PRIVILEGES"},
    "CREATE_TABLE": {"CREATE_TABLE", "CREATE", "ALL_PRIVILEGES"},
    "MANAGE": {"MANAGE", "ALL_PRIVILEGES"},
}
# planner.Ref.action → (privilege needed, securable level named in the error)
ACTIONS = {
    "read": ("SELECT", "table"), "write": ("MODIFY", "table"), "create": ("CREATE_TABLE", "schema"),
    "drop": ("MANAGE", "table"), "alter": ("MANAGE", "table"), "create_schema": ("CREATE_SCHEMA", "catalog"),
    "drop_schema": ("MANAGE", "schema"), "alter_schema": ("MANAGE", "schema"),
    "browse": (None, None), "browse_schema": (None, None), "browse_catalog": (None, None),
}
WRITES = {"write", "create", "drop", "alter", "create_schema", "drop_schema", "alter_schema"}


def normalize(privilege: str) -> str:
    return privilege.strip().upper().replace(" ", "_")


@dataclass(frozen=True)
class Actor:
    """The caller of a statement: a user (email) or a service principal (application id)."""

    name: str
    is_admin: bool = False

    @classmethod
    def of(cls, principal) -> Actor:
        """From ``workspace_api.common.Principal``."""
        return cls(principal.user_name, bool(principal.is_admin))

    @property
    def principals(self) -> tuple[str, ...]:
        return (self.name,) + GROUPS


class Authorizer:
    """The caller's grants and owned objects in one workspace, loaded once per statement."""

    def __init__(self, store: Store, workspace_id: int, actor: Actor):
        store.ensure(OBJECTS_SCHEMA)
        self.actor = actor
        self.grants: dict[tuple[str, str], set[str]] = {}
        self.owned: set[tuple[str, str]] = set()
        if actor.is_admin:
            return
        marks = ",".join("?" * len(actor.principals))
        for row in store.query(f"SELECT securable_type, securable_name, privilege FROM grants "
                               f"WHERE workspace_id = ? AND principal IN ({marks})", (workspace_id, *actor.principals)):
            key = (row["securable_type"].lower(), row["securable_name"].lower())
            self.grants.setdefault(key, set()).add(normalize(row["privilege"]))
        for row in store.query("SELECT securable_type, full_name FROM sql_objects WHERE workspace_id = ? AND owner = ?",
                               (workspace_id, actor.name)):
            self.owned.add((row["securable_type"], row["full_name"].lower()))

    def privileges(self, catalog: str, schema: str | None = None, table: str | None = None) -> set[str]:
        """Privileges on the object, inherited from its schema and catalog included."""
        out = set(self.grants.get(("catalog", catalog.lower()), ()))
        if schema is not None:
            out |= self.grants.get(("schema", full_name(catalog, schema).lower()), set())
        if table is not None:
            out |= self.grants.get(("table", full_name(catalog, schema, table).lower()), set())
        return out

    def owns(self, catalog: str, schema: str | None = None, table: str | None = None) -> bool:
        if ("catalog", catalog.lower()) in self.owned:
            return True
        if schema is not None and ("schema", full_name(catalog, schema).lower()) in self.owned:
            return True
        return table is not None and any((kind, full_name(catalog, schema, table).lower()) in self.owned
                                         for kind in ("table", "view"))

    def can_use_catalog(self, catalog: str) -> bool:
        if self.actor.is_admin or catalog == SAMPLES:
            return True
        c = catalog.lower()
        return any(name == c or name.startswith(c + ".") for _, name in list(self.grants) + list(self.owned))

    def check(self, action: str, catalog: str, schema: str | None = None, table: str | None = None) -> None:
        """Raise INSUFFICIENT_PERMISSIONS unless the caller may do ``action`` on the object."""
        privilege, level = ACTIONS[action]
        if catalog == SAMPLES:
            if action in WRITES:
                raise insufficient(privilege, *_named(level, catalog, schema, table))
            return
        if self.actor.is_admin:
            return
        if not self.can_use_catalog(catalog):
            raise insufficient("USE_CATALOG", "Catalog", catalog)
        if privilege is None:
            return
        owner_scope = (catalog, schema, table) if level == "table" else (catalog, schema, None)
        if self.owns(*owner_scope):
            return
        if self.privileges(catalog, schema, table if level == "table" else None) & SATISFIED_BY[privilege]:
            return
        raise insufficient(privilege, *_named(level, catalog, schema, table))

    def can_manage_grants(self, catalog: str, schema: str | None, table: str | None) -> bool:
        if catalog == SAMPLES:
            return False
        return self.actor.is_admin or self.owns(catalog, schema, table) or \
            bool(self.privileges(catalog, schema, table) & SATISFIED_BY["MANAGE"])


def _named(level: str, catalog: str, schema: str | None, table: str | None) -> tuple[str, str]:
    if level == "table" and table is not None:
        return "Table", full_name(catalog, schema, table)
    if level in ("table", "schema") and schema is not None:
        return "Schema", full_name(catalog, schema)
    return "Catalog", catalog


def require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise SqlError("INSUFFICIENT_PERMISSIONS", f"Insufficient privileges: only workspace admins may {what}.",
                       "42501")
