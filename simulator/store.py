"""The simulator's state in SQLite, through sqlite-utils.

One :class:`Store` per database file. Connections are per thread (the HTTP server answers on many
threads); ``:memory:`` becomes a named shared-cache in-memory database so every thread sees the
same data. Multi-row changes go through :meth:`Store.atomic`, so a failure leaves nothing
half-written. The schema is created (and extended) on open.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator

import sqlite_utils

DEFAULT_DB = "pcsim.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS workspaces (
    id INTEGER PRIMARY KEY,
    cloud TEXT NOT NULL CHECK (cloud IN ('aws', 'azure', 'gcp')),
    region TEXT NOT NULL,
    display_name TEXT NOT NULL,
    is_free_trial INTEGER NOT NULL DEFAULT 0,
    self_test INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT 'en-US',
    aws_user_id INTEGER NOT NULL UNIQUE,
    azure_user_id INTEGER NOT NULL UNIQUE,
    gcp_user_id INTEGER NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS memberships (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    is_admin INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE TABLE IF NOT EXISTS partners (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    source TEXT NOT NULL,
    basic_user TEXT,
    basic_password TEXT,
    authorization_value TEXT,
    signing_secret TEXT NOT NULL,
    self_test_workspace_id INTEGER REFERENCES workspaces(id) ON DELETE CASCADE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS connections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_name TEXT NOT NULL REFERENCES partners(name),
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    partner_connection_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'stale', 'pending')),
    status_message TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at REAL NOT NULL,
    catalog_name TEXT,
    destination_location TEXT,
    demo INTEGER NOT NULL DEFAULT 0,
    UNIQUE (partner_name, workspace_id)
);
CREATE TABLE IF NOT EXISTS service_principals (
    id INTEGER PRIMARY KEY,
    application_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    connection_id INTEGER REFERENCES connections(id),
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('user', 'service_principal')),
    owner_id INTEGER NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    comment TEXT,
    connection_id INTEGER REFERENCES connections(id),
    created_at REAL NOT NULL,
    expiry_time REAL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS oauth_secrets (
    id TEXT PRIMARY KEY,
    service_principal_id INTEGER NOT NULL REFERENCES service_principals(id),
    secret_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    connection_id INTEGER REFERENCES connections(id),
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS oauth_apps (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    connection_id INTEGER REFERENCES connections(id),
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS warehouses (
    id TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    cluster_size TEXT NOT NULL DEFAULT 'Small',
    warehouse_type TEXT NOT NULL DEFAULT 'PRO',
    enable_serverless_compute INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'STOPPED',
    target_state TEXT,  -- state being moved to (simulator.lifecycle); NULL when settled
    transition_at REAL,  -- when target_state is reached; NULL: waits for POST /-/transitions/advance
    state_since REAL,
    details TEXT,  -- JSON: the rest of the object as the API created/edited it
    connection_id INTEGER REFERENCES connections(id),
    creator TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS clusters (
    id TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    spark_version TEXT NOT NULL,
    node_type_id TEXT NOT NULL,
    num_workers INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL DEFAULT 'TERMINATED',
    target_state TEXT,  -- state being moved to (simulator.lifecycle); NULL when settled
    transition_at REAL,  -- when target_state is reached; NULL: waits for POST /-/transitions/advance
    state_since REAL,
    details TEXT,  -- JSON: the rest of the object as the API created/edited it
    connection_id INTEGER REFERENCES connections(id),
    creator TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS catalogs (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (workspace_id, name)
);
CREATE TABLE IF NOT EXISTS grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    connection_id INTEGER REFERENCES connections(id),
    principal TEXT NOT NULL,
    securable_type TEXT NOT NULL,
    securable_name TEXT NOT NULL,
    privilege TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    flow_id TEXT,
    at REAL NOT NULL,
    partner_name TEXT,
    workspace_id INTEGER,
    operation TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT,
    status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    error TEXT,
    duration_ms REAL NOT NULL,
    attempt INTEGER NOT NULL,
    checks TEXT
);
CREATE INDEX IF NOT EXISTS exchanges_partner ON exchanges (partner_name, workspace_id);
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    service_principal_id INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
"""

# Tables holding what Partner Connect provisions for a connection, in deletion order.
RESOURCE_TABLES = ("grants", "oauth_apps", "oauth_secrets", "warehouses", "clusters", "service_principals")


class Store:
    """Thread-safe access to one simulator database."""

    def __init__(self, path: str | os.PathLike = DEFAULT_DB):
        self.path = str(path)
        # The file's directory must exist: a typo in a path must not create directories.
        self._uri = f"file:pcsim-{uuid.uuid4().hex}?mode=memory&cache=shared" if self.path == ":memory:" else None
        self._local = threading.local()
        self._keepalive = self._connect() if self._uri else None  # keeps a shared in-memory db alive
        self._ensured: set[str] = set()
        self.ensure(SCHEMA)

    def ensure(self, schema_sql: str) -> None:
        """Create the tables of one module (idempotent; API modules call it for their own tables)."""
        if schema_sql not in self._ensured:
            self.db.conn.executescript(schema_sql)
            self._ensured.add(schema_sql)

    def _connect(self) -> sqlite3.Connection:
        if self._uri:
            conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's sqlite-utils handle."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite_utils.Database(self._connect())
            self._local.db = db
        return db

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite_utils.Database]:
        """One transaction (a savepoint when nested): all of it lands, or none of it.

        The outer transaction is ``BEGIN IMMEDIATE``: it takes the write lock up front, so a
        transaction that reads before it writes cannot fail half-way with "database is locked"
        when another thread wrote in between (WAL mode only upgrades a read lock if nothing changed).
        """
        db = self.db
        conn = db.conn
        if conn.in_transaction:
            with db.atomic():
                yield db
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def query(self, sql: str, params=()) -> list[dict]:
        return list(self.db.query(sql, params))

    def one(self, sql: str, params=()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def count(self, table: str, where: str | None = None, params=()) -> int:
        sql = f"SELECT COUNT(*) AS n FROM {table}" + (f" WHERE {where}" if where else "")
        return self.one(sql, params)["n"]

    def reset(self) -> None:
        """Delete every row of every table (keeps the schema)."""
        conn = self.db.conn
        conn.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.atomic() as db:
                for table in db.table_names():
                    if not table.startswith("sqlite_"):
                        db.execute(f"DELETE FROM [{table}]")
        finally:
            conn.execute("PRAGMA foreign_keys=ON")

    def get_meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        self.db.conn.commit()

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None


def dumps(value) -> str:
    """JSON for a TEXT column (ids stay exact: Python ints are arbitrary precision)."""
    return json.dumps(value, sort_keys=True)


def loads(value: str | None):
    return None if value is None else json.loads(value)
