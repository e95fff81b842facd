"""Checking and following a partner's ``redirect_uri``.

A redirect is allowed only when it is an absolute http(s) URL without user info whose host equals,
or is a subdomain of, one of the partner's ``hostnames``. Following it is a GET without
credentials that does not follow further redirects; any 2xx or 3xx answer passes.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests


@dataclass
class RedirectCheck:
    allowed: bool
    reason: str
    host: str | None = None


def check(uri, hostnames: list[str]) -> RedirectCheck:
    allow = ", ".join(hostnames) or "(empty)"
    if not isinstance(uri, str) or not uri.strip():
        return RedirectCheck(False, "redirect_uri is empty")
    if any(c in uri for c in "\r\n\t") or uri != uri.strip():
        return RedirectCheck(False, f"redirect_uri {uri!r} contains whitespace or control characters")
    try:
        parts = urlsplit(uri)
        port = parts.port  # noqa: F841 - raises on a malformed port
    except ValueError as exc:
        return RedirectCheck(False, f"redirect_uri {uri!r} is not a valid URL ({exc})")
    if parts.scheme.lower() not in ("http", "https"):
        what = f"scheme {parts.scheme!r}" if parts.scheme else "a relative URL"
        return RedirectCheck(False, f"redirect_uri {uri!r} uses {what}; only absolute http(s) URLs are allowed")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return RedirectCheck(False, f"redirect_uri {uri!r} carries user info before the host; not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return RedirectCheck(False, f"redirect_uri {uri!r} has no host")
    for allowed in hostnames:
        allowed = allowed.lower().rstrip(".")
        if host == allowed or host.endswith("." + allowed):
            return RedirectCheck(True, f"host {host} is allowed by hostnames [{allow}]", host)
    return RedirectCheck(False, f"redirect host {host} is not in the partner's hostnames allow-list [{allow}]", host)


@dataclass
class FollowResult:
    ok: bool
    status: int | None
    message: str


def follow(session: requests.Session, uri: str, timeout: float) -> FollowResult:
    """GET the redirect like a fresh browser tab would: no credentials, no further redirects."""
    try:
        resp = session.get(uri, timeout=timeout, allow_redirects=False, headers={"User-Agent": "pcsim-browser"})
    except requests.RequestException as exc:
        return FollowResult(False, None, f"could not open {uri}: {type(exc).__name__}")
    ok = 200 <= resp.status_code < 400
    return FollowResult(ok, resp.status_code, f"GET {uri} answered {resp.status_code}")
