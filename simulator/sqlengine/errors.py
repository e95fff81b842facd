"""SQL failures shaped like Databricks SQL's: an error class, a message and a SQLSTATE.

``str(SqlError)`` reads ``[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`s`.`t` cannot be
found. SQLSTATE: 42P01``, the way Databricks prints them. ``error_code`` is what the Statement
Execution API puts in ``status.error.error_code``: only values of the API's ``ServiceErrorCode``
enum are used (``BAD_REQUEST`` for anything the statement got wrong, permissions included, and
``INTERNAL_ERROR`` for failures of the simulator itself), because clients drop any other value.
"""
from __future__ import annotations

import re

import duckdb

from .names import ALIAS_PREFIX


class SqlError(Exception):
    def __init__(self, error_class: str, message: str, sql_state: str, error_code: str = "BAD_REQUEST"):
        self.error_class = error_class
        self.detail = message
        self.sql_state = sql_state
        self.error_code = error_code
        super().__init__(f"[{error_class}] {message} SQLSTATE: {sql_state}")

    @property
    def message(self) -> str:
        return str(self)


def ident(*parts: str) -> str:
    """`a`.`b`.`c`, as Databricks quotes names in messages."""
    return ".".join(f"`{p}`" for p in parts)


def syntax_error(near: str | None, detail: str = "") -> SqlError:
    where = f" at or near '{near}'" if near else ""
    return SqlError("PARSE_SYNTAX_ERROR", f"Syntax error{where}.{(' ' + detail) if detail else ''}", "42601")


def unsupported(what: str) -> SqlError:
    return SqlError("UNSUPPORTED_FEATURE", f"{what} is not supported by the Partner Connect Simulator's SQL "
                                           "engine (DuckDB behind a Databricks SQL translation).", "0A000")


def catalog_not_found(name: str) -> SqlError:
    return SqlError("NO_SUCH_CATALOG_EXCEPTION", f"Catalog '{name}' was not found. Please verify the catalog name "
                                                 "and then retry the query or command again.", "42704")


def schema_not_found(catalog: str, schema: str) -> SqlError:
    return SqlError("SCHEMA_NOT_FOUND", f"The schema {ident(catalog, schema)} cannot be found. Verify the spelling "
                                        "and correctness of the schema and catalog.", "42704")


def table_not_found(catalog: str, schema: str, table: str) -> SqlError:
    return SqlError("TABLE_OR_VIEW_NOT_FOUND", f"The table or view {ident(catalog, schema, table)} cannot be "
                                               "found. Verify the spelling and correctness of the schema and "
                                               "catalog.", "42P01")


def insufficient(privilege: str, kind: str, name: str) -> SqlError:
    """Databricks' wording: ``User does not have USE CATALOG on Catalog 'sales'.``"""
    return SqlError("INSUFFICIENT_PERMISSIONS", f"Insufficient privileges: User does not have "
                                                f"{privilege.replace('_', ' ')} on {kind} '{name}'.", "42501")


_CLEAN = re.compile(r"\n\s*\nLINE \d+:.*", re.DOTALL)
_PREFIX = re.compile(r"^[A-Za-z ]+ Error: ")


def from_duckdb(exc: duckdb.Error) -> SqlError:
    """A DuckDB failure as the closest Databricks error class; catalog aliases become names again."""
    text = _PREFIX.sub("", _CLEAN.sub("", str(exc))).replace(ALIAS_PREFIX, "").strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, duckdb.ParserException):
        return SqlError("PARSE_SYNTAX_ERROR", f"Syntax error in the statement as translated for the simulator's "
                                              f"engine: {first}", "42601")
    if isinstance(exc, duckdb.CatalogException):
        if "does not exist" in first and first.startswith("Table"):
            return SqlError("TABLE_OR_VIEW_NOT_FOUND", first, "42P01")
        if "does not exist" in first and first.startswith("Schema"):
            return SqlError("SCHEMA_NOT_FOUND", first, "42704")
        if "already exists" in first:
            return SqlError("TABLE_OR_VIEW_ALREADY_EXISTS", first, "42P07")
        if "Function" in first or "function" in first:
            return SqlError("UNRESOLVED_ROUTINE", first, "42883")
        return SqlError("AMBIGUOUS_REFERENCE" if "ambiguous" in first.lower() else "INVALID_OBJECT", first, "42000")
    if isinstance(exc, duckdb.BinderException):
        if "not found" in first and "column" in first.lower():
            return SqlError("UNRESOLVED_COLUMN", first, "42703")
        return SqlError("DATATYPE_MISMATCH" if "type" in first.lower() else "INVALID_QUERY", first, "42K09")
    if isinstance(exc, (duckdb.ConversionException, duckdb.InvalidInputException)):
        return SqlError("CAST_INVALID_INPUT", first, "22018")
    if isinstance(exc, duckdb.OutOfRangeException):
        return SqlError("ARITHMETIC_OVERFLOW", first, "22003")
    if isinstance(exc, duckdb.ConstraintException):
        return SqlError("CONSTRAINT_VIOLATION", first, "23000")
    if isinstance(exc, duckdb.PermissionException):
        return SqlError("INSUFFICIENT_PERMISSIONS", "Insufficient privileges: the simulator does not allow access "
                                                    f"to local files or the network ({first})", "42501")
    if isinstance(exc, duckdb.NotImplementedException):
        return SqlError("UNSUPPORTED_FEATURE", first, "0A000")
    if isinstance(exc, duckdb.TransactionException):
        return SqlError("CONCURRENT_WRITE", first, "40000")
    return SqlError("INTERNAL_ERROR", f"The simulator's engine failed: {first}", "XX000", "INTERNAL_ERROR")
