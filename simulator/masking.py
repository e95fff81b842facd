"""Masking of secrets before anything is logged, stored in the exchange log or shown.

PATs (``dapi…``), OAuth secrets (``dose…``), Basic credentials, signatures and any JSON field whose
name says it is a secret are replaced by a short display form that cannot be used.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

SECRET_KEYS = {
    "personal_access_token", "service_principal_oauth_secret", "oauth_token", "password",
    "client_secret", "token_value", "access_token", "refresh_token", "secret", "string_value",
    "bytes_value", "basic_password", "signing_secret", "authorization",
}
# Token-shaped strings anywhere (glued to other text, any case, inside URL-encoded text too).
_SECRET_PATTERN = re.compile(r"(dapi|dose|pcoa)[0-9a-f]{16,}", re.IGNORECASE)
_MASKED_HEADERS = {"authorization", "x-databricks-pc-signature", "cookie", "proxy-authorization"}


def mask_value(value: str) -> str:
    """``dapi0123…`` style: the kind of secret stays recognisable, the value does not."""
    if not isinstance(value, str) or not value:
        return value
    match = re.match(r"^(dapi|dose|pcoa)", value, re.IGNORECASE)
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


MIN_SECRET_LENGTH = 6  # shorter values (test passwords such as "x") would mask ordinary words


class Scrubber:
    """Replaces known secret values in text: the exact strings Databricks sent on a call (PAT, OAuth
    secret, the partner's Authorization value and the credentials inside it, the signing secret),
    also URL-encoded and in any letter case, before anything of the answer is kept or shown.
    ``changed`` tells whether an answer echoed one of them."""

    def __init__(self, secrets: Iterable[str | None]):
        values = set()
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH:
                values.update({secret, quote(secret, safe=""), quote_plus(secret)})
        ordered = sorted(values, key=len, reverse=True)  # longest first: a header value before its parts
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE) if ordered else None
        self.changed = False

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        if self._pattern is not None:
            replaced = self._pattern.sub(lambda m: mask_value(m.group(0)), text)
            self.changed |= replaced != text
            text = replaced
        masked = mask_text(text)
        self.changed |= masked != text
        return masked


def credential_parts(authorization: str | None) -> list[str]:
    """An Authorization value and what it carries: the token after the scheme, and for Basic the
    decoded ``user:password`` and the password alone."""
    if not authorization:
        return []
    parts = [authorization]
    scheme, _, rest = authorization.partition(" ")
    if rest:
        parts.append(rest)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(rest, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            if decoded:
                parts += [decoded, decoded.partition(":")[2]]
    return parts


def secret_values(value) -> list[str]:
    """Every value under a secret-named key inside a JSON value."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() in SECRET_KEYS and isinstance(item, str):
                found.append(item)
            else:
                found += secret_values(item)
    elif isinstance(value, list):
        for item in value:
            found += secret_values(item)
    return found
