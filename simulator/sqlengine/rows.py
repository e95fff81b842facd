"""Plain ``INSERT`` for rows written inside ``store.atomic()``.

``store.atomic()`` opens a deferred transaction. In WAL mode a transaction that *reads* first and
then writes fails at once with "database is locked" (no busy wait) when another connection wrote
in between — which concurrent requests do. sqlite-utils' ``table.insert()`` reads the table's
schema first, so the API modules of the SQL engine insert with this instead: the transaction's
first statement is the write, which waits for the lock.
"""
from __future__ import annotations


def insert_row(db, table: str, row: dict, *, or_ignore: bool = False) -> int:
    """Insert one row; returns its rowid."""
    columns = ", ".join(f"[{k}]" for k in row)
    marks = ", ".join("?" for _ in row)
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    return db.execute(f"{verb} INTO [{table}] ({columns}) VALUES ({marks})", tuple(row.values())).lastrowid
