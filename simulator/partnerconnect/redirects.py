"""Checking and following a partner's ``redirect_uri``.

A redirect is allowed only when it is an absolute http(s) URL without user info whose host equals,
or is a subdomain of, one of the partner's ``hostnames`` (an IP address has no subdomains).
Following it is a GET without credentials that does not follow further redirects; any 2xx or 3xx
answer passes.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests


@dataclass
class RedirectCheck:
    allowed: bool
    reason: str
    host: str | None = None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def check(uri, hostnames: list[str]) -> RedirectCheck:
    allow = ", ".join(hostnames) or "(empty)"

    def blocked(reason: str) -> RedirectCheck:
        return RedirectCheck(False, f"{reason} (hostnames allow-list [{allow}])")

    if not isinstance(uri, str) or not uri.strip():
        return blocked("redirect_uri is empty")
    if any(c in uri for c in "\r\n\t") or uri != uri.strip():
        return blocked(f"redirect_uri {uri!r} contains whitespace or control characters")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        return blocked(f"redirect_uri {uri!r} is not a valid URL ({exc})")
    if parts.scheme.lower() not in ("http", "https"):
        what = f"scheme {parts.scheme!r}" if parts.scheme else "a relative URL"
        return blocked(f"redirect_uri {uri!r} uses {what}; only absolute http(s) URLs are allowed")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return blocked(f"redirect_uri {uri!r} carries user info before the host; not allowed")
    if "\\" in parts.netloc:  # a browser ends the host at a backslash: https://evil.com\.partner.com
        return blocked(f"redirect_uri {uri!r} has a backslash in its host part; not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return blocked(f"redirect_uri {uri!r} has no host")
    for allowed in hostnames:
        allowed = allowed.lower().rstrip(".")
        if host == allowed or (host.endswith("." + allowed) and not _is_ip(allowed)):  # an IP has no subdomains
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
