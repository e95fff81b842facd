"""The simulator's request signature on every call it makes to a partner.

Scheme (version ``v1``)::

    X-Databricks-PC-Timestamp: <unix seconds>
    X-Databricks-PC-Signature: v1=<lowercase hex HMAC-SHA256(secret, message)>

    message = f"{timestamp}.{METHOD}.{path_with_query}.".encode() + raw_body

``path_with_query`` is the request path as sent (``/connectors?pagination_token=abc``); the body is
the exact bytes sent (empty for GET). A partner checks a request with :func:`verify`.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Databricks-PC-Timestamp"
SIGNATURE_HEADER = "X-Databricks-PC-Signature"
VERSION = "v1"


class SignatureError(ValueError):
    """Why a request's signature was not accepted."""


def _as_bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def compute(secret: str | bytes, timestamp: int | str, method: str, path: str, body: bytes | str | None) -> str:
    """The hex digest for one request (without the ``v1=`` prefix)."""
    message = f"{timestamp}.{method.upper()}.{path}.".encode("utf-8") + _as_bytes(body)
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, method: str, path: str, body: bytes | str | None, now: float) -> dict[str, str]:
    """The two headers to add to a request made at ``now`` (unix seconds)."""
    ts = int(now)
    return {
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: f"{VERSION}={compute(secret, ts, method, path, body)}",
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def verify(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes | str | None,
    secret: str | bytes,
    tolerance_s: int = 300,
    now: float | None = None,
) -> bool:
    """Check a signed request; returns True or raises :class:`SignatureError` saying what is wrong.

    ``headers`` may be any mapping (a Flask ``request.headers`` works); ``path`` must include the
    query string exactly as received; ``body`` is the raw request body.
    """
    ts_value = _header(headers, TIMESTAMP_HEADER)
    sig_value = _header(headers, SIGNATURE_HEADER)
    if not ts_value:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    if not sig_value:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        ts = int(ts_value)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not an integer: {ts_value!r}") from None
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        raise SignatureError(f"timestamp {ts} is more than {tolerance_s}s away from now ({int(current)})")
    expected = f"{VERSION}={compute(secret, ts, method, path, body)}"
    candidates = [part.strip() for part in sig_value.split(",")]
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise SignatureError("signature does not match (wrong secret, or method, path, query or body changed)")
    return True
