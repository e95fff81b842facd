"""Partner services that are subtly wrong, for the certification tests: WSGI middleware around the
(correct) example partner that rewrites some answers or answers some calls itself."""
from __future__ import annotations

import io
import json
from urllib.parse import urlsplit, urlunsplit


class Tamper:
    """Wraps a WSGI app. ``intercept(req)`` may answer a request itself (``(status, body)``);
    ``rewrite(req, status, body)`` may change a JSON answer (returns ``(status, body)``)."""

    def __init__(self, app, *, intercept=None, rewrite=None):
        self.app, self.intercept, self.rewrite = app, intercept, rewrite

    def __call__(self, environ, start_response):
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        req = {"method": environ["REQUEST_METHOD"], "path": environ.get("PATH_INFO", ""),
               "json": json.loads(raw) if raw else None}
        answer = self.intercept(req) if self.intercept else None
        if answer is not None:
            return self._respond(start_response, *answer)
        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return lambda data: None

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        status = int(seen["status"].split()[0])
        content_type = dict((k.lower(), v) for k, v in seen["headers"]).get("content-type", "")
        if self.rewrite and "json" in content_type and body:
            status, data = self.rewrite(req, status, json.loads(body))
            return self._respond(start_response, status, data)
        start_response(seen["status"], seen["headers"])
        return [body]

    @staticmethod
    def _respond(start_response, status, data):
        body = json.dumps(data).encode()
        reason = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
                  500: "Internal Server Error"}.get(status, "Status")
        start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(body)))])
        return [body]


def _is_sign_in(req) -> bool:
    body = req["json"] or {}
    return req["path"].endswith("/connect") and bool((body.get("user_info") or {}).get("is_connection_established"))


def echoes_connection_id(app):
    """Sign-in answers carry the connection_id back (the contract says: absent on sign-in)."""
    def rewrite(req, status, body):
        if _is_sign_in(req) and status == 200:
            body["connection_id"] = req["json"]["connection_id"]
        return status, body
    return Tamper(app, rewrite=rewrite)


def keeps_deleted_connections(app):
    """delete-connection says resources_deleted but forgets nothing."""
    def intercept(req):
        if req["path"].endswith("/delete-connection"):
            return 200, {"resource_status": "resources_deleted"}
        return None
    return Tamper(app, intercept=intercept)


def null_in_error_bodies(app):
    """Error answers carry ``"debugging_message": null``."""
    def rewrite(req, status, body):
        if status >= 400 and isinstance(body, dict):
            body["debugging_message"] = None
        return status, body
    return Tamper(app, rewrite=rewrite)


def redirects_elsewhere(app):
    """Every redirect_uri points at a host outside the config's hostnames."""
    def rewrite(req, status, body):
        if isinstance(body, dict) and isinstance(body.get("redirect_uri"), str):
            parts = urlsplit(body["redirect_uri"])
            body["redirect_uri"] = urlunsplit(parts._replace(netloc="app.evil-partner.example"))
        return status, body
    return Tamper(app, rewrite=rewrite)


def created_on_sign_in(app):
    """Sign-ins answer 201 instead of 200."""
    def rewrite(req, status, body):
        return (201 if _is_sign_in(req) and status == 200 else status), body
    return Tamper(app, rewrite=rewrite)
