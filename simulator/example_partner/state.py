"""The example partner's own memory: accounts, users and connections in one SQLite file.

Model (deliberately simple, but enough to exercise every Partner Connect branch):

* ``accounts``: one per email domain (``id`` = the domain), plus one throw-away account per demo
  connect (``id`` = ``demo:<uuid>``) so every demo starts fresh. ``status`` is active or expired.
* ``users``: keyed by (account, email); remembers whether the manual signup was completed and
  whether this user's own trial expired (``trial_type=user``).
* ``connections``: keyed by the UUID this partner hands back as ``connection_id``; keeps what
  Databricks sent (with secrets already masked, so the file never holds a usable token).

Each request opens its own connection (:meth:`PartnerState.open`), so the app works on werkzeug's
threaded server; the file is in WAL mode with a busy timeout, and writers take the lock up front
(``BEGIN IMMEDIATE``) so two concurrent connects cannot both create the same account.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Iterator

from sqlite_utils import Database

BUSY_TIMEOUT_S = 10.0
ACTIVE = "active"
EXPIRED = "expired"


class PartnerState:
    """Queries and updates over one open SQLite connection (use one instance per request)."""

    def __init__(self, db: Database, clock):
        self.db = db
        self.clock = clock

    @classmethod
    def open(cls, db_path: str, clock) -> "PartnerState":
        """A fresh connection to ``db_path`` with the busy timeout set."""
        conn = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S)
        return cls(Database(conn, execute_plugins=False), clock)

    def close(self) -> None:
        self.db.close()

    # -- schema and transactions ------------------------------------------------------------

    def create_schema(self) -> None:
        """Create the tables (idempotent) and switch the file to WAL so readers never block."""
        self.db.enable_wal()
        self.db["accounts"].create(
            {"id": str, "domain": str, "demo": int, "status": str, "created_at": float},
            pk="id", not_null={"domain", "status"}, if_not_exists=True,
        )
        self.db["users"].create(
            {"account_id": str, "email": str, "first_name": str, "last_name": str,
             "databricks_user_id": int, "signed_up": int, "expired": int, "created_at": float},
            pk=("account_id", "email"), if_not_exists=True,
        )
        self.db["connections"].create(
            {"id": str, "account_id": str, "email": str, "workspace_id": int,
             "cloud_provider": str, "payload": str, "created_at": float},
            pk="id", not_null={"account_id"}, if_not_exists=True,
        )
        self.db["accounts"].create_index(["domain"], if_not_exists=True)
        self.db["users"].create_index(["email"], if_not_exists=True)
        self.db["connections"].create_index(["account_id"], if_not_exists=True)

    @contextlib.contextmanager
    def write(self) -> Iterator["PartnerState"]:
        """One write transaction holding the write lock from the start (read-then-write is safe).

        Any exception rolls back, except :class:`KeepChanges` ones: those are deliberate answers
        given after an intended change (e.g. a user added, then told to finish signup first).
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except KeepChanges:
            self.db.commit()
            raise
        except BaseException:
            self.db.rollback()
            raise
        else:
            self.db.commit()

    # -- accounts ---------------------------------------------------------------------------

    def account(self, account_id: str) -> dict | None:
        return _first(self.db.query("select * from accounts where id = ?", [account_id]))

    def create_account(self, domain: str, *, demo: bool = False) -> dict:
        """A new active account for ``domain``; demo accounts get a unique id of their own."""
        account_id = f"demo:{uuid.uuid4()}" if demo else domain
        row = {"id": account_id, "domain": domain, "demo": int(demo), "status": ACTIVE,
               "created_at": self.clock.now()}
        self.db["accounts"].insert(row)
        return row

    def expire_accounts(self, account_ids: list[str]) -> None:
        for account_id in account_ids:
            self.db["accounts"].update(account_id, {"status": EXPIRED})

    def delete_domain(self, domain: str) -> int:
        """Remove every account of ``domain`` (demo ones too) with its users and connections."""
        ids = [r["id"] for r in self.db.query("select id from accounts where domain = ?", [domain])]
        for account_id in ids:
            self.db.execute("delete from connections where account_id = ?", [account_id])
            self.db.execute("delete from users where account_id = ?", [account_id])
            self.db.execute("delete from accounts where id = ?", [account_id])
        return len(ids)

    # -- users ------------------------------------------------------------------------------

    def user(self, account_id: str, email: str) -> dict | None:
        sql = "select * from users where account_id = ? and email = ?"
        return _first(self.db.query(sql, [account_id, email]))

    def users_by_email(self, email: str) -> list[dict]:
        return list(self.db.query("select * from users where email = ?", [email]))

    def add_user(self, account_id: str, email: str, user_info: dict, *, signed_up: bool) -> dict:
        """Remember a user of ``account_id``; ``signed_up`` is False while a manual signup is due."""
        row = {
            "account_id": account_id,
            "email": email,
            "first_name": user_info.get("first_name"),
            "last_name": user_info.get("last_name"),
            "databricks_user_id": user_info.get("databricks_user_id"),
            "signed_up": int(signed_up),
            "expired": 0,
            "created_at": self.clock.now(),
        }
        self.db["users"].insert(row)
        return row

    def expire_users(self, email: str) -> None:
        self.db.execute("update users set expired = 1 where email = ?", [email])

    def complete_signup(self, email: str) -> int:
        """Mark every user with ``email`` as signed up; returns how many there were."""
        return self.db.execute("update users set signed_up = 1 where email = ?", [email]).rowcount

    # -- connections ------------------------------------------------------------------------

    def connection(self, connection_id: str) -> dict | None:
        """The connection with its ``payload`` decoded, or None."""
        row = _first(self.db.query("select * from connections where id = ?", [connection_id]))
        if row is not None:
            row["payload"] = json.loads(row["payload"])
        return row

    def add_connection(self, account_id: str, email: str, payload: dict) -> str:
        """Store a new connection (``payload`` must already have its secrets masked)."""
        connection_id = str(uuid.uuid4())
        self.db["connections"].insert({
            "id": connection_id,
            "account_id": account_id,
            "email": email,
            "workspace_id": payload.get("workspace_id"),
            "cloud_provider": payload.get("cloud_provider"),
            "payload": json.dumps(payload),
            "created_at": self.clock.now(),
        })
        return connection_id

    def delete_connection(self, connection_id: str) -> bool:
        cursor = self.db.execute("delete from connections where id = ?", [connection_id])
        return cursor.rowcount > 0

    def counts(self) -> dict[str, int]:
        return {name: self.db[name].count for name in ("accounts", "users", "connections")}


class KeepChanges(Exception):
    """Mix-in for exceptions that :meth:`PartnerState.write` commits before re-raising."""


def _first(rows) -> dict | None:
    return next(iter(rows), None)
