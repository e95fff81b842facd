"""The fake Databricks workspace REST API, where Partner Connect's credentials really work.

One flask-smorest blueprint per API group (``scim``, ``auth``, ...), documented in the simulator's
OpenAPI at ``/-/openapi.json`` with Swagger UI at ``/-/docs`` (assets served locally).
Generic behaviour, implemented once here:

* every ``/api/...`` request is authenticated (``auth.authenticate``);
* JSON bodies are parsed whatever the Content-Type says; explicit nulls count as absent;
* every 2xx answers JSON (``{}`` when empty); errors are ``{"error_code", "message"}``;
* trailing slashes are tolerated; unknown routes answer 501 ``NOT_IMPLEMENTED`` naming the route;
* ``/w/<workspace_id>/...`` addresses one workspace explicitly (see ``auth``).
"""
from __future__ import annotations

import logging
import re
import socket
import time

from flask import Flask, jsonify, request, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from .. import __version__, control, faults
from . import auth, jobs, scim
from . import clusters, compute_control, secrets, selftest, tokens, warehouses
from . import commands, common, queries, statements, unity_catalog
from .errors import STATUS_CODES, ApiError

log = logging.getLogger(__name__)

BLUEPRINTS = [control.blp, auth.blp, scim.blp, jobs.blp, compute_control.blp, warehouses.blp, clusters.blp,
              tokens.blp, secrets.blp, selftest.blp]
BLUEPRINTS += [statements.blp, commands.blp, unity_catalog.blp, queries.blp]
API_PREFIXES = ("/api/", "/oidc/", "/.well-known/", "/-/")
_PREFIX = re.compile(r"^/w/(\d+)(/.*)?$")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path == "/-"


class WorkspaceAddressing:
    """WSGI middleware: ``/w/<id>/rest`` → ``/rest`` addressed to workspace ``id``; trailing slashes
    on API paths are dropped so ``/api/2.0/sql/statements/`` reaches ``/api/2.0/sql/statements``."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        match = _PREFIX.match(path)
        if match:
            environ["pcsim.workspace_id"] = match.group(1)
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/w/{match.group(1)}"
            path = match.group(2) or "/"
        if len(path) > 1 and path.endswith("/") and path.startswith(("/api/", "/oidc/")):
            path = path.rstrip("/")
        environ["PATH_INFO"] = path
        return self.app(environ, start_response)


class DatabricksApi(Api):
    """flask-smorest with Databricks-shaped errors on the API paths (HTML pages keep Flask's)."""

    def handle_http_exception(self, error: HTTPException):
        if not is_api_path(request.path):
            return error
        code = STATUS_CODES.get(error.code, "UNKNOWN")
        message = error.description or error.name
        data = getattr(error, "data", None) or {}
        if data.get("messages"):  # webargs validation errors
            code, message = "INVALID_PARAMETER_VALUE", f"Invalid request: {data['messages']}"
        return jsonify({"error_code": code, "message": message}), error.code


def _apply_fault(fault: faults.Fault):
    """Answer a request the way an injected fault says: slow, dropped, or an error status."""
    if fault.latency_s:
        time.sleep(min(fault.latency_s, faults.MAX_LATENCY_S))
    if fault.drop or fault.timeout:
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError(f"fault #{fault.id} dropped the connection")
    if fault.status is None:
        return None  # latency only: carry on with the real answer
    resp = jsonify(fault.response_body())
    resp.status_code = fault.status
    resp.headers.update(fault.headers())
    return resp


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Partner Connect Simulator", API_VERSION=__version__, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/-/", OPENAPI_JSON_PATH="openapi.json", OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/-/swagger-ui-assets/",
    )
    app.wsgi_app = WorkspaceAddressing(app.wsgi_app)
    api = DatabricksApi(app)
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)

    @app.route("/-/swagger-ui-assets/<path:filename>")
    def swagger_assets(filename):
        """Swagger UI's JS/CSS from the installed swagger-ui-bundle package (no CDN)."""
        import swagger_ui_bundle
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    @app.before_request
    def _authenticate_and_inject_faults():
        workspace = None
        if request.path.startswith("/api/"):
            workspace = auth.authenticate().workspace_id
        elif not request.path.startswith(("/oidc/", "/.well-known/")):
            return None
        fault = faults.match(app.config["PCSIM_CONTEXT"], "api", request.method, request.path,
                             workspace if workspace is not None else auth.addressed_workspace())
        return _apply_fault(fault) if fault else None

    @app.after_request
    def _json_always(response):
        if request.path.startswith("/api/") and 200 <= response.status_code < 300 and not response.get_data():
            response.set_data(b"{}")
            response.mimetype = "application/json"
        return response

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        resp = jsonify(exc.body())
        resp.status_code = exc.status
        resp.headers.update(exc.headers)
        return resp

    @app.route("/api/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def not_implemented(rest):
        """Any Databricks route the simulator does not implement: 501, never a silent 200."""
        raise ApiError(501, "NOT_IMPLEMENTED", f"The simulator does not implement {request.method} /api/{rest}")

    @app.errorhandler(Exception)
    def _unexpected(exc):
        if isinstance(exc, HTTPException):
            return api.handle_http_exception(exc)
        if isinstance(exc, ConnectionAbortedError):  # an injected "drop": the socket is already gone
            return "", 500
        if isinstance(exc, OverflowError) and is_api_path(request.path):
            # a number SQLite cannot store (ids are 64-bit) that no edge check caught: the request's fault
            log.warning("number out of range on %s %s: %s", request.method, request.path, exc)
            return jsonify({"error_code": "INVALID_PARAMETER_VALUE",
                            "message": f"A number in the request is out of range on {request.method} "
                                       f"{request.path}: integers must fit in 64 bits "
                                       f"(at most {common.INT64_MAX})"}), 400
        log.exception("unexpected error on %s %s", request.method, request.path)
        if is_api_path(request.path):
            return jsonify({"error_code": "INTERNAL_ERROR",
                            "message": f"The simulator failed on {request.method} {request.path}: "
                                       f"{type(exc).__name__}"}), 500
        return "Internal error in the simulator; see its log.", 500
