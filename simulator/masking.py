"""Masking of secrets before anything is logged, stored in the exchange log or shown.

PATs (``dapi…``), OAuth secrets (``dose…``), Basic credentials, signatures and any JSON field whose
name says it is a secret are replaced by a short display form that cannot be used.
"""
from __future__ import annotations

import json
import re

SECRET_KEYS = {
    "personal_access_token", "service_principal_oauth_secret", "oauth_token", "password",
    "client_secret", "token_value", "access_token", "refresh_token", "secret", "string_value",
    "bytes_value", "basic_password", "signing_secret", "authorization",
}
_SECRET_PATTERN = re.compile(r"\b(dapi|dose|pcoa)[0-9a-f]{8,}\b")
_MASKED_HEADERS = {"authorization", "x-databricks-pc-signature", "cookie", "proxy-authorization"}


def mask_value(value: str) -> str:
    """``dapi0123…`` style: the kind of secret stays recognisable, the value does not."""
    if not isinstance(value, str) or not value:
        return value
    match = re.match(r"^(dapi|dose|pcoa)", value)
    if match:
        return value[:8] + "…"
    return "****"


def mask_text(text: str | None) -> str | None:
    if not text:
        return text
    return _SECRET_PATTERN.sub(lambda m: m.group(0)[:8] + "…", text)


def mask_header(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered not in _MASKED_HEADERS:
        return value
    if lowered == "x-databricks-pc-signature":
        return value.split("=", 1)[0] + "=****"
    scheme, _, rest = value.partition(" ")
    return f"{scheme} ****" if rest else "****"


def mask_headers(headers) -> dict[str, str]:
    return {k: mask_header(k, v) for k, v in dict(headers).items()}


def mask_json(value):
    """A copy of a JSON value with secret-named fields and token-shaped strings masked."""
    if isinstance(value, dict):
        return {k: (mask_value(v) if k.lower() in SECRET_KEYS and isinstance(v, str) else mask_json(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_body(raw: bytes | str | None) -> str | None:
    """Mask a raw HTTP body: parsed as JSON when it is JSON, pattern-masked otherwise."""
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if not text:
        return text
    try:
        return json.dumps(mask_json(json.loads(text)))
    except ValueError:
        return mask_text(text)
