"""Request plumbing shared by every workspace API module: the JSON body (parsed whatever the
Content-Type says, explicit nulls treated as absent), query arguments, the authenticated principal,
and Databricks-shaped timestamps."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request

from ..context import Context
from ..workspaces import INT64_MAX  # SQLite's INTEGER: a larger id cannot exist, and binding it would overflow
from .errors import ApiError, invalid

INT64_MIN = -(2**63)


def ctx() -> Context:
    return current_app.config["PCSIM_CONTEXT"]


def drop_nulls(value):
    """Explicit ``null`` fields are treated as absent (prefect-databricks sends them everywhere)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def body() -> dict:
    """The request's JSON object (``{}`` when empty); 400 MALFORMED_REQUEST when it is not JSON."""
    raw = request.get_data(cache=True)
    if not raw or not raw.strip():
        return {}
    data = request.get_json(force=True, silent=True)
    if data is None:
        raise ApiError(400, "MALFORMED_REQUEST", "Request body is not valid JSON")
    if not isinstance(data, dict):
        raise ApiError(400, "MALFORMED_REQUEST", "Request body must be a JSON object")
    return drop_nulls(data)


def required(data: dict, key: str, kind: type | tuple = str):
    """A required field of the body or query, of the given type."""
    value = data.get(key)
    if value is None or value == "":
        invalid(f"Missing required field: {key}")
    if kind is int and isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        invalid(f"Field {key} must be of type {names}")
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        invalid(f"Field {key} must be a 64-bit integer (at most {INT64_MAX}), got {value}")
    return value


def arg(name: str, default=None, kind: type = str):
    """A query argument (or, for GETs with a JSON body, a body field) converted to ``kind``."""
    value = request.args.get(name)
    if value is None and request.method == "GET" and request.get_data(cache=True):
        value = body().get(name)
    if value is None:
        return default
    if kind is bool:
        return str(value).lower() == "true"
    try:
        value = kind(value)
    except (TypeError, ValueError, OverflowError):
        invalid(f"Query parameter {name} must be of type {kind.__name__}, got {value!r}")
    if kind is int and not INT64_MIN <= value <= INT64_MAX:
        invalid(f"Query parameter {name} must be a 64-bit integer (at most {INT64_MAX}), got {value}")
    return value


def millis(seconds: float | None) -> int | None:
    """Epoch seconds → epoch milliseconds (Databricks' timestamp unit)."""
    return None if seconds is None else int(round(seconds * 1000))


@dataclass
class Principal:
    """Who is calling: a user (by email) or a service principal (by application id)."""

    kind: str  # "user" | "service_principal"
    id: int  # users.id or service_principals.id
    scim_id: int  # the id the SCIM API shows (per-cloud user id, or the SP's id)
    workspace_id: int
    user_name: str  # email, or application id
    display_name: str
    is_admin: bool
    auth: str  # "pat" | "oauth"

    @property
    def is_service_principal(self) -> bool:
        return self.kind == "service_principal"


def principal() -> Principal:
    """The authenticated caller of this request (set by the auth check)."""
    return g.pcsim_principal


def workspace_id() -> int:
    return principal().workspace_id


def page(items: list) -> tuple[list, dict]:
    """Offset pagination by ``page_size``/``page_token`` (a number as a string): the page, and the
    ``next_page_token``/``prev_page_token`` to add (never an empty token: SDKs loop while one is set)."""
    size = arg("page_size", 0, int)
    token = arg("page_token", "")
    if token and not token.isdigit():
        invalid(f"Invalid page_token {token!r}")
    start = int(token or 0)
    if not size or size <= 0:
        return items[start:], {}
    tokens = {}
    if start + size < len(items):
        tokens["next_page_token"] = str(start + size)
    if start > 0:
        tokens["prev_page_token"] = str(max(start - size, 0))
    return items[start:start + size], tokens
