"""The simulator's control namespace ``/-/`` for tests and scenarios: fault rules, a JSON dump of the
state (``/-/state``) and the exchange log as a HAR file (``/-/exchanges.har``).

(``/-/health``, ``/-/exchanges`` and ``/-/reset`` live in ``server.py``; other modules add their
own ``/-/`` routes next to the API group they steer.)
"""
from __future__ import annotations

from datetime import datetime, timezone
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from flask import current_app, jsonify, request
from flask_smorest import Blueprint

from . import __version__, exchanges, faults, partners, workspaces
from .errors import Invalid, PcsimError
from .workspaces import INT64_MAX

blp = Blueprint("control", __name__, url_prefix="/-",
                description="Simulator control: fault injection, state dump, exchange log as HAR")


def _ctx():
    return current_app.config["PCSIM_CONTEXT"]


def _error(exc: PcsimError, status: int = 400):
    return jsonify({"error_code": "INVALID_PARAMETER_VALUE" if status == 400 else "RESOURCE_DOES_NOT_EXIST",
                    "message": str(exc)}), status


@blp.route("/faults", methods=["GET"])
def list_faults():
    """Fault rules in order of precedence, with how often each matched (``seen``) and fired."""
    return jsonify({"faults": faults.list_rules(_ctx())})


@blp.route("/faults", methods=["POST"])
def add_fault():
    """Add a rule, e.g. ``{"path": "/api/2.*/jobs/runs/get", "status": 429, "retry_after": 1, "times": 1}``
    or, for the simulator's calls to partners, ``{"target": "partner", "path": "*/connect", "status": 500}``."""
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        return jsonify({"error_code": "MALFORMED_REQUEST", "message": "body must be a JSON object"}), 400
    try:
        return jsonify(faults.add(_ctx(), data)), 201
    except PcsimError as exc:
        return _error(exc)


@blp.route("/faults", methods=["DELETE"])
def clear_faults():
    """Remove every rule."""
    return jsonify({"removed": faults.remove(_ctx())})


@blp.route("/faults/<int:fault_id>", methods=["DELETE"])
def delete_fault(fault_id):
    """Remove one rule."""
    if fault_id > INT64_MAX or not faults.remove(_ctx(), fault_id):
        return jsonify({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"no fault rule {fault_id}"}), 404
    return jsonify({})


# ---------------------------------------------------------------- state dump and HAR export

def exchange_filters(args) -> dict:
    """``last``, ``partner`` and ``workspace_id`` of ``/-/exchanges`` (and its HAR form); Invalid
    names the bad one."""
    last, wid = args.get("last", "50"), (args.get("workspace_id") or "").strip()
    try:
        last = int(last)
    except ValueError:
        raise Invalid(f"last must be a whole number, got {last!r}") from None
    try:
        workspace_id = int(wid) if wid else None
    except ValueError:
        raise Invalid(f"workspace_id must be an integer, got {wid!r}") from None
    if workspace_id is not None and not 0 < workspace_id <= INT64_MAX:
        raise Invalid(f"workspace_id must be a positive 64-bit integer (at most {INT64_MAX}), got {wid}")
    return {"last": last, "partner": args.get("partner") or None, "workspace_id": workspace_id}


@blp.route("/state", methods=["GET"])
def state():
    """Everything the state file holds, as JSON, secrets left out: workspaces (with catalogs), users
    with memberships, partners (secrets masked), connections with their resources, row counts."""
    from .partnerconnect import flows  # the flows import the registries: keep this module light

    ctx = _ctx()
    store = ctx.store
    members: dict[int, list] = {}
    for row in store.query("SELECT user_id, workspace_id, is_admin FROM memberships ORDER BY workspace_id"):
        members.setdefault(row["user_id"], []).append({"workspace_id": row["workspace_id"],
                                                       "is_admin": bool(row["is_admin"])})
    users = []
    for user in store.query("SELECT * FROM users ORDER BY email"):
        users.append({**user, "memberships": members.get(user["id"], [])})
    spaces = [{**ws, "is_free_trial": bool(ws["is_free_trial"]), "self_test": bool(ws.get("self_test")),
               "catalogs": workspaces.catalogs(ctx, ws["id"])} for ws in workspaces.list_workspaces(ctx)]
    tables = [t for t in store.db.table_names() if not t.startswith("sqlite_")]
    return jsonify({
        "workspaces": spaces,
        "users": users,
        "partners": [p.summary() for p in partners.list_partners(ctx)],  # masked: never reveal=True here
        "connections": flows.list_connections(ctx),
        "counts": {table: store.count(f"[{table}]") for table in sorted(tables)},
    })


def _header_list(headers: dict | None) -> list[dict]:
    return [{"name": str(k), "value": str(v)} for k, v in (headers or {}).items()]


def _header(headers: dict | None, name: str) -> str | None:
    return next((str(v) for k, v in (headers or {}).items() if k.lower() == name), None)


def _har_entry(row: dict) -> dict:
    """One exchange as a HAR 1.2 entry (bodies and headers masked as stored; simulator fields as ``_x``)."""
    request_body = row["request_body"] or ""
    response_body = row["response_body"] or ""
    answered = row["status"] is not None
    har_request = {
        "method": row["method"], "url": row["url"], "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": _header_list(row["request_headers"]),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(row["url"]).query,
                                                                       keep_blank_values=True)],
        "headersSize": -1, "bodySize": len(request_body.encode()),
    }
    if request_body:
        har_request["postData"] = {"mimeType": _header(row["request_headers"], "content-type") or "application/json",
                                   "text": request_body}
    status = row["status"] or 0
    try:
        reason = HTTPStatus(status).phrase if answered else ""
    except ValueError:
        reason = ""
    har_response = {
        "status": status, "statusText": reason, "httpVersion": "HTTP/1.1" if answered else "", "cookies": [],
        "headers": _header_list(row["response_headers"]),
        "content": {"size": len(response_body.encode()),
                    "mimeType": _header(row["response_headers"], "content-type") or "x-unknown",
                    "text": response_body},
        "redirectURL": _header(row["response_headers"], "location") or "",
        "headersSize": -1, "bodySize": len(response_body.encode()) if answered else -1,
    }
    if row["error"]:
        har_response["_error"] = row["error"]
    duration = float(row["duration_ms"] or 0)
    return {
        "startedDateTime": datetime.fromtimestamp(row["at"], timezone.utc).isoformat(timespec="milliseconds"),
        "time": duration, "request": har_request, "response": har_response, "cache": {},
        "timings": {"send": 0, "wait": duration, "receive": 0},
        "_id": row["id"], "_flowId": row["flow_id"], "_partner": row["partner_name"],
        "_workspaceId": row["workspace_id"], "_operation": row["operation"], "_attempt": row["attempt"],
        "_checks": row["checks"] or [],
    }


@blp.route("/exchanges.har", methods=["GET"])
def exchanges_har():
    """The exchange log as a HAR 1.2 document, oldest first (``?last=N&partner=NAME&workspace_id=ID``,
    as ``/-/exchanges``); secrets are masked as in the log. Open it in a browser's network panel."""
    try:
        rows = exchanges.recent(_ctx(), **exchange_filters(request.args))
    except PcsimError as exc:
        return _error(exc)
    har = {"log": {"version": "1.2", "creator": {"name": "Partner Connect Simulator", "version": __version__},
                   "pages": [], "entries": [_har_entry(r) for r in reversed(rows)]}}
    resp = jsonify(har)
    resp.headers["Content-Disposition"] = 'attachment; filename="pcsim-exchanges.har"'
    return resp
