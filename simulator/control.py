"""The simulator's control namespace ``/-/`` for tests and scenarios: fault rules.

(``/-/health``, ``/-/exchanges`` and ``/-/reset`` live in ``server.py``; other modules add their
own ``/-/`` routes next to the API group they steer.)
"""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_smorest import Blueprint

from . import faults
from .errors import PcsimError

blp = Blueprint("control", __name__, url_prefix="/-", description="Simulator control: fault injection")


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
    if not faults.remove(_ctx(), fault_id):
        return jsonify({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"no fault rule {fault_id}"}), 404
    return jsonify({})
