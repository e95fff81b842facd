"""Jobs API (2.0, 2.1 and 2.2 paths, same handlers): one-time runs, jobs, run-now, runs get /
get-output / cancel / list; plus the control routes for run rules and a run page per run."""
from __future__ import annotations

import functools

from flask import jsonify, render_template_string, request
from flask_smorest import Blueprint

from ..errors import Invalid, NotFound
from ..jobs import model, rules
from .common import INT64_MAX, arg, body, ctx, principal, required, workspace_id
from .errors import ApiError

blp = Blueprint("jobs", __name__, description="Jobs and runs (simulated lifecycle)")
VERSIONS = "<any('2.0','2.1','2.2'):version>"


def route(path: str, method: str):
    """Register ``/api/{2.0,2.1,2.2}/jobs<path>``; model errors become Databricks' 400s."""
    def decorator(func):
        @functools.wraps(func)
        def view(version, **kwargs):
            try:
                return func(**kwargs)
            except (Invalid, NotFound) as exc:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", str(exc)) from None
        blp.add_url_rule(f"/api/{VERSIONS}/jobs{path}", func.__name__, view, methods=[method])
        return func
    return decorator


def _base() -> str:
    return request.url_root.rstrip("/")


def _creator() -> str:
    return principal().user_name


def _run_id(data: dict) -> int:
    return required(data, "run_id", int)


@route("/runs/submit", "POST")
def runs_submit():
    """One-time run: tasks with dependencies and compute; the same idempotency_token gives the same run."""
    return jsonify({"run_id": model.submit(ctx(), workspace_id=workspace_id(), creator=_creator(), spec=body(),
                                           creator_is_admin=principal().is_admin)})


@route("/runs/get", "GET")
def runs_get():
    return jsonify(model.get_run(ctx(), workspace_id(), _run_id(dict(request.args)), _base()))


@route("/runs/get-output", "GET")
def runs_get_output():
    return jsonify(model.get_output(ctx(), workspace_id(), _run_id(dict(request.args)), _base()))


@route("/runs/cancel", "POST")
def runs_cancel():
    model.cancel(ctx(), workspace_id(), _run_id(body()))
    return jsonify({})


@route("/runs/list", "GET")
def runs_list():
    limit = arg("limit", 25, int)
    if not 1 <= limit <= 25:
        raise Invalid("limit must be between 1 and 25")
    runs, has_more = model.list_runs(
        ctx(), workspace_id(), job_id=arg("job_id", None, int), active_only=arg("active_only", False, bool),
        completed_only=arg("completed_only", False, bool), limit=limit, offset=arg("offset", 0, int),
        run_type=arg("run_type"), base_url=_base())
    return jsonify({"runs": runs, "has_more": has_more} if runs else {"has_more": False})


@route("/create", "POST")
def jobs_create():
    return jsonify({"job_id": model.create_job(ctx(), workspace_id=workspace_id(), creator=_creator(),
                                               settings=body())})


@route("/get", "GET")
def jobs_get():
    return jsonify(model.get_job(ctx(), workspace_id(), required(dict(request.args), "job_id", int)))


@route("/list", "GET")
def jobs_list():
    jobs, has_more = model.list_jobs(ctx(), workspace_id(), limit=arg("limit", 20, int), offset=arg("offset", 0, int),
                                     name=arg("name"))
    return jsonify({"jobs": jobs, "has_more": has_more} if jobs else {"has_more": False})


@route("/delete", "POST")
def jobs_delete():
    model.delete_job(ctx(), workspace_id(), required(body(), "job_id", int))
    return jsonify({})


@route("/reset", "POST")
def jobs_reset():
    data = body()
    model.update_job(ctx(), workspace_id(), required(data, "job_id", int), new_settings=data.get("new_settings"),
                     replace=True)
    return jsonify({})


@route("/update", "POST")
def jobs_update():
    data = body()
    model.update_job(ctx(), workspace_id(), required(data, "job_id", int), new_settings=data.get("new_settings"),
                     fields_to_remove=data.get("fields_to_remove"))
    return jsonify({})


@route("/run-now", "POST")
def jobs_run_now():
    data = body()
    run_id, number = model.run_now(ctx(), workspace_id=workspace_id(), creator=_creator(),
                                   job_id=required(data, "job_id", int), params=data,
                                   creator_is_admin=principal().is_admin)
    return jsonify({"run_id": run_id, "number_in_job": number})


# ---------------------------------------------------------------- control and run pages

@blp.route("/-/run-rules", methods=["GET"])
def list_run_rules():
    """Scripted outcomes for simulated workloads (matching rules combine, newer ones overriding)."""
    return jsonify({"rules": rules.list_rules(ctx())})


@blp.route("/-/run-rules", methods=["POST"])
def add_run_rule():
    """E.g. ``{"match": {"task_key": "transform"}, "result_state": "FAILED", "error": "ZeroDivisionError"}``."""
    data = request.get_json(force=True, silent=True)
    try:
        return jsonify(rules.add(ctx(), data)), 201
    except Invalid as exc:
        return jsonify({"error_code": "INVALID_PARAMETER_VALUE", "message": str(exc)}), 400


@blp.route("/-/run-rules", methods=["DELETE"])
def clear_run_rules():
    return jsonify({"removed": rules.clear(ctx())})


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Run {{ run.run_id }}</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem}td,th{padding:.3rem .8rem;text-align:left}
th{background:#eee}</style></head><body>
<h1>{{ run.run_name }} <small>run {{ run.run_id }}</small></h1>
<p>State: <strong>{{ run.state.life_cycle_state }}</strong>{% if run.state.result_state %} —
<strong>{{ run.state.result_state }}</strong>{% endif %}. {{ run.state.state_message }}</p>
<table><tr><th>Task</th><th>Run id</th><th>State</th><th>Result</th><th>Message</th></tr>
{% for t in run.tasks %}<tr><td>{{ t.task_key }}</td><td>{{ t.run_id }}</td><td>{{ t.state.life_cycle_state }}</td>
<td>{{ t.state.result_state or "" }}</td><td>{{ t.state.state_message }}</td></tr>{% endfor %}</table>
<p>Simulated by the Partner Connect Simulator.</p></body></html>"""


@blp.route("/-/runs/<int:run_id>", methods=["GET"])
def run_page(run_id):
    """The page behind ``run_page_url`` (a run or a task run)."""
    c = ctx()
    model.ensure(c)
    row = None if run_id > INT64_MAX else c.store.one("SELECT r.* FROM runs r LEFT JOIN task_runs t ON t.parent_run_id = r.run_id "
                      "WHERE r.run_id = ? OR t.run_id = ? LIMIT 1", (run_id, run_id))
    if row is None:
        return render_template_string("<!doctype html><title>Not found</title><p>Run {{ id }} does not exist.</p>",
                                      id=run_id), 404
    return render_template_string(_PAGE, run=model.view(c, row, _base()))
