"""Control routes for the fake workspace's compute: state-transition mode and the simulator clock.

* ``GET /-/settings/transitions`` → ``{"transitions": "immediate|delayed|manual", "transition_delay_s": 5.0}``
* ``PUT /-/settings/transitions`` with either or both keys (switching to ``immediate`` completes
  pending transitions; switching to ``delayed`` schedules the manual ones).
* ``GET /-/transitions`` → ``{"pending": [...]}``; ``POST /-/transitions/advance`` (body optional,
  ``{"id": "<warehouse or cluster id>"}``) completes pending transitions now.
* ``GET /-/clock``; ``POST /-/clock/advance {"seconds": N}`` when the simulator runs on a manual
  or scaled clock (tests, scenario replays); the real clock answers 400.

No authentication: ``/-/`` is the simulator's own namespace, like ``/-/reset``.
"""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint

from .. import lifecycle
from ..errors import NotFound, PcsimError
from .common import body, ctx
from .errors import ApiError, invalid

blp = Blueprint("workspace_control", __name__, url_prefix="/-",
                description="Simulator control: warehouse/cluster state transitions and the clock")


def _invalid(exc: PcsimError):
    status, code = (404, "RESOURCE_DOES_NOT_EXIST") if isinstance(exc, NotFound) else (400, "INVALID_PARAMETER_VALUE")
    raise ApiError(status, code, str(exc)) from None


@blp.route("/settings/transitions", methods=["GET"])
def get_transitions():
    """The transition mode and delay of this server."""
    return jsonify(lifecycle.settings(ctx()))


@blp.route("/settings/transitions", methods=["PUT", "POST"])
def put_transitions():
    """Change the mode (``immediate``, ``delayed``, ``manual``) and/or ``transition_delay_s``."""
    data = body()
    unknown = set(data) - {"transitions", "transition_delay_s"}
    if unknown:
        invalid(f"Unknown field(s): {', '.join(sorted(unknown))} (expected transitions, transition_delay_s)")
    try:
        return jsonify(lifecycle.configure(ctx(), data.get("transitions"), data.get("transition_delay_s")))
    except PcsimError as exc:
        _invalid(exc)


@blp.route("/transitions", methods=["GET"])
def list_transitions():
    """Warehouse and cluster transitions still under way."""
    return jsonify({**lifecycle.settings(ctx()), "pending": lifecycle.pending(ctx())})


@blp.route("/transitions/advance", methods=["POST"])
def advance_transitions():
    """Complete pending transitions now: all, or one object's (``{"id": ...}``)."""
    object_id = body().get("id")
    if object_id is not None and not isinstance(object_id, str):
        invalid("id must be a warehouse or cluster id (a string)")
    try:
        return jsonify({"advanced": lifecycle.advance(ctx(), object_id)})
    except PcsimError as exc:
        _invalid(exc)


def _can_advance(clock) -> bool:
    return callable(getattr(clock, "advance", None))


def _clock_info(clock) -> dict:
    return {"now": clock.now(), "clock": type(clock).__name__, "can_advance": _can_advance(clock)}


@blp.route("/clock", methods=["GET"])
def get_clock():
    """The simulator's current time (epoch seconds), its clock and whether it can be advanced."""
    return jsonify(_clock_info(ctx().clock))


@blp.route("/clock/advance", methods=["POST"])
def advance_clock():
    """Move a manual (or scaled) clock forward by ``seconds`` (delayed transitions, token expiry, ...)."""
    clock = ctx().clock
    if not _can_advance(clock):
        raise ApiError(400, "INVALID_STATE", "This simulator runs on the real clock, which cannot be advanced; "
                       "use a manual or scaled clock (tests, scenario replays) or POST /-/transitions/advance")
    seconds = body().get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < float("inf"):
        invalid(f"seconds must be a finite number >= 0, got {seconds!r}")
    clock.advance(float(seconds))
    return jsonify(_clock_info(clock))
