"""A programmable partner for tests: each endpoint answers from a script of responses.

``double.script("connect", Reply(500), Reply(200, body={...}))`` makes the next two connect calls
answer 500 then 200; when the script runs out, the endpoint's default answer is used. Every
request received is recorded (method, path with query, headers, raw body, parsed JSON).
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Flask, Response, request

PATHS = {
    "connect": ("POST", "/pc/connect"),
    "delete_connection": ("POST", "/pc/delete-connection"),
    "test_connection": ("POST", "/pc/test-connection"),
    "delete_account": ("DELETE", "/pc/delete-account"),
    "expire_account": ("PUT", "/pc/expire-account"),
    "connectors": ("GET", "/pc/connectors"),
}


@dataclass
class Reply:
    status: int = 200
    body: object = None  # JSON-serialisable; ignored when raw is given
    raw: str | None = None
    content_type: str = "application/json"
    delay_s: float = 0.0
    headers: dict = field(default_factory=dict)


def ok_connect(connection_id="conn-123", redirect_uri="http://127.0.0.1/welcome", **overrides) -> Reply:
    body = {"redirect_uri": redirect_uri, "redirect_value": "create_trial", "connection_id": connection_id,
            "user_status": "new", "account_status": "new", "configured_resources": True}
    body.update(overrides)
    return Reply(200, {k: v for k, v in body.items() if v is not ...})


def ok_sign_in(redirect_uri="http://127.0.0.1/sign-in", **overrides) -> Reply:
    body = {"redirect_uri": redirect_uri, "redirect_value": "sign_in", "user_status": "existing",
            "account_status": "active", "configured_resources": False}
    body.update(overrides)
    return Reply(200, body)


def error(status: int, reason: str, display: str = "Something went wrong", debugging: str = "details") -> Reply:
    return Reply(status, {"error_reason": reason, "display_message": display, "debugging_message": debugging})


DEFAULTS = {
    "connect": lambda: ok_connect(),
    "delete_connection": lambda: Reply(200, {"resource_status": "resources_deleted"}),
    "test_connection": lambda: Reply(200, {"test_results": [{"test_name": "ping", "status": "PASS"}]}),
    "delete_account": lambda: Reply(200, {}),
    "expire_account": lambda: Reply(200, {}),
    "connectors": lambda: Reply(200, {"connectors": [{"identifier": "postgres", "name": "PostgreSQL",
                                                      "type": "source"}]}),
}


class PartnerDouble:
    def __init__(self):
        self.scripts = {op: deque() for op in PATHS}
        self.received: list[dict] = []
        self._lock = threading.Lock()
        self.app = Flask("partner-double")
        for op, (method, path) in PATHS.items():
            self.app.add_url_rule(path, op, self._handler(op), methods=[method])
        self.app.add_url_rule("/welcome", "welcome", lambda: "welcome")
        self.app.add_url_rule("/sign-in", "signin", lambda: "sign in")

    def script(self, operation: str, *replies: Reply) -> "PartnerDouble":
        self.scripts[operation].extend(replies)
        return self

    def calls(self, operation: str | None = None) -> list[dict]:
        return [r for r in self.received if operation is None or r["operation"] == operation]

    def _handler(self, operation):
        def handle():
            raw = request.get_data()
            with self._lock:
                self.received.append({
                    "operation": operation, "method": request.method,
                    "path": request.full_path.rstrip("?"), "headers": dict(request.headers), "raw": raw,
                    "json": json.loads(raw) if raw else None,
                })
                reply = self.scripts[operation].popleft() if self.scripts[operation] else DEFAULTS[operation]()
            if reply.delay_s:
                time.sleep(reply.delay_s)
            text = reply.raw if reply.raw is not None else json.dumps(reply.body)
            text = _echo(text, self.received[-1])
            return Response(text, status=reply.status, content_type=reply.content_type, headers=reply.headers)
        return handle


def _echo(text: str, received: dict) -> str:
    """A misbehaving partner echoing what it got: ``%PAT%``, ``%PAT_URL%`` and ``%AUTH%`` in a reply
    become the PAT of the request, URL-encoded, and its Authorization header."""
    pat = ((received["json"] or {}).get("user_info") or {}).get("auth", {}).get("personal_access_token", "")
    return (text.replace("%PAT_URL%", quote(f"token={pat}", safe="")).replace("%PAT%", pat)
            .replace("%AUTH%", received["headers"].get("Authorization", "")))


def config(base_url: str, **overrides) -> dict:
    """A valid partner config pointing at the double."""
    cfg = {
        "api_version": "2.1.1", "name": "Double", "description_blurb": "test double", "category": "INGEST",
        "base_url": base_url, "endpoints": {f"{k}_path" if k != "connectors" else "get_connectors_path": p
                                            for k, (_, p) in PATHS.items()},
        "sign_up_page": base_url + "/signup", "privacy_policy": base_url + "/privacy",
        "terms_of_service": base_url + "/tos", "logo_file": "logo.png", "icon_file": "icon.png",
        "resources_to_provision": [{"resource_type": "SqlEndpoint"}],
        "data_permissions": [{"permission": "USE_CATALOG"}, {"permission": "SELECT"}],
        "object_permissions": [{"name": "SQL_Endpoint", "level": "CAN_USE"}],
        "supported_clouds": ["aws", "azure", "gcp"], "hostnames": ["127.0.0.1"], "new_user_action": "auto_add",
        "supports_demo": True,
        "pcsim": {"basic_user": "dbx", "basic_password": "s3cret-basic-pw", "signing_secret": "test-signing-secret"},
    }
    cfg.update(overrides)
    return cfg
