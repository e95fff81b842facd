"""Jobs and runs, with a lifecycle computed from timestamps on the simulator clock.

At submit time every task gets a deterministic timeline (when it is ready, how long it waits for
compute, how long it runs, how it ends) from the task graph, the compute it uses and the run
rules. Reading a run evaluates that timeline at "now" (plus a cancel or timeout, if any), so
nothing depends on a background thread: QUEUED/PENDING → RUNNING → TERMINATING → TERMINATED
with ``result_state``, multi-task runs follow ``depends_on`` and ``run_if``, cancel → CANCELED,
``timeout_seconds`` → TIMEDOUT, a cluster that fails to start → INTERNAL_ERROR.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..context import Context
from ..errors import Invalid, NotFound
from ..sqlengine import Actor
from . import compute, rules, sql

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    creator TEXT NOT NULL,
    settings TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    job_id INTEGER,
    number_in_job INTEGER,
    run_name TEXT NOT NULL,
    run_type TEXT NOT NULL,
    creator TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    idempotency_token TEXT,
    timeout_seconds INTEGER,
    cancelled_at REAL,
    spec TEXT NOT NULL,
    UNIQUE (workspace_id, idempotency_token)
);
CREATE TABLE IF NOT EXISTS task_runs (
    run_id INTEGER PRIMARY KEY,
    parent_run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    task_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    spec TEXT NOT NULL,
    plan TEXT NOT NULL
);
"""
WORKLOADS = ("notebook_task", "spark_python_task", "python_wheel_task", "spark_jar_task", "spark_submit_task",
             "sql_task", "dbt_task", "pipeline_task", "run_job_task", "condition_task", "for_each_task")
RUN_IF = ("ALL_SUCCESS", "ALL_DONE", "NONE_FAILED", "AT_LEAST_ONE_SUCCESS", "ALL_FAILED", "AT_LEAST_ONE_FAILED")
TERMINATING_S = 2.0
ACTIVE = ("QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED")


def ensure(ctx: Context) -> None:
    ctx.store.ensure(SCHEMA)
    ctx.store.ensure(rules.SCHEMA)


# ---------------------------------------------------------------- submit

def _normalise_tasks(spec: dict) -> list[dict]:
    tasks = spec.get("tasks")
    if tasks is None:  # the 2.0 single-task shape: workload and compute at the top level
        single = {k: v for k, v in spec.items() if k in WORKLOADS or k in ("existing_cluster_id", "new_cluster",
                                                                              "libraries", "timeout_seconds")}
        if not any(k in single for k in WORKLOADS):
            raise Invalid("A run needs tasks (or a task type such as notebook_task at the top level)")
        single["task_key"] = spec.get("run_name") or "task"
        tasks = [single]
    if not isinstance(tasks, list) or not tasks:
        raise Invalid("tasks must be a non-empty array")
    keys = set()
    job_clusters = {c.get("job_cluster_key") for c in spec.get("job_clusters") or []}
    for task in tasks:
        if not isinstance(task, dict):
            raise Invalid("each task must be an object")
        key = task.get("task_key")
        if not key or not isinstance(key, str):
            raise Invalid("Missing required field: task_key")
        if key in keys:
            raise Invalid(f"Task key {key} is used by more than one task")
        keys.add(key)
        if not any(k in task for k in WORKLOADS):
            raise Invalid(f"Task {key} has no task type (one of {', '.join(WORKLOADS)})")
        if task.get("job_cluster_key") and task["job_cluster_key"] not in job_clusters:
            raise Invalid(f"Task {key} refers to job cluster {task['job_cluster_key']!r}, which is not defined "
                          "in job_clusters")
        if task.get("run_if", "ALL_SUCCESS") not in RUN_IF:
            raise Invalid(f"Task {key}: run_if must be one of {', '.join(RUN_IF)}")
    for task in tasks:
        for dep in task.get("depends_on") or []:
            if dep.get("task_key") not in keys:
                raise Invalid(f"Task {task['task_key']} depends on {dep.get('task_key')!r}, which is not a task of "
                              "this run")
    return _topological(tasks)


def _topological(tasks: list[dict]) -> list[dict]:
    by_key = {t["task_key"]: t for t in tasks}
    done, order = set(), []
    for _ in range(len(tasks)):  # bounded: each pass places at least one task, or there is a cycle
        ready = [t for k, t in by_key.items() if k not in done
                 and all(d["task_key"] in done for d in t.get("depends_on") or [])]
        if not ready:
            break
        for task in ready:
            done.add(task["task_key"])
            order.append(task)
    if len(order) != len(tasks):
        raise Invalid("The task dependencies form a cycle")
    return order


def _facts(spec: dict, task: dict, workspace_id: int) -> dict:
    return {"run_name": spec.get("run_name"), "task_key": task["task_key"], "workspace_id": workspace_id,
            "notebook_path": (task.get("notebook_task") or {}).get("notebook_path"),
            "python_file": (task.get("spark_python_task") or {}).get("python_file"),
            "package_name": (task.get("python_wheel_task") or {}).get("package_name")}


def _run_if_allows(run_if: str, results: list[str]) -> bool:
    ok = [r == "SUCCESS" for r in results]
    if not results:
        return True
    return {
        "ALL_SUCCESS": all(ok), "ALL_DONE": True, "NONE_FAILED": all(r not in ("FAILED", "TIMEDOUT") for r in results),
        "AT_LEAST_ONE_SUCCESS": any(ok), "ALL_FAILED": not any(ok), "AT_LEAST_ONE_FAILED": not all(ok),
    }[run_if]


def _compute_wait(ctx: Context, task: dict, workspace_id: int, started_job_clusters: set) -> tuple[float, dict]:
    """Seconds the task waits for compute, and the cluster it runs on."""
    start_s = float(ctx.settings.cluster_start_s)
    if task.get("existing_cluster_id"):
        cid = task["existing_cluster_id"]
        cluster = ctx.store.one("SELECT * FROM clusters WHERE id = ? AND workspace_id = ?", (cid, workspace_id))
        if cluster is None:
            raise Invalid(f"Cluster {cid} does not exist")
        return compute.ensure_running(ctx, cluster), {"cluster_id": cid}
    if task.get("job_cluster_key"):
        key = task["job_cluster_key"]
        wait = 0.0 if key in started_job_clusters else start_s
        started_job_clusters.add(key)
        return wait, {"job_cluster_key": key}
    if task.get("new_cluster"):
        return start_s, {"new_cluster": True}
    return 0.0, {}  # serverless / SQL warehouse tasks


def _plan(ctx: Context, spec: dict, tasks: list[dict], workspace_id: int, now: float, actor) -> list[dict]:
    ends: dict[str, dict] = {}
    plans = []
    started_job_clusters: set = set()
    run_rules = rules.list_rules(ctx)
    for task in tasks:
        deps = [ends[d["task_key"]] for d in task.get("depends_on") or []]
        ready = max([now] + [d["end"] for d in deps])
        outcome = rules.outcome_for(run_rules, _facts(spec, task, workspace_id))
        plan = {"ready": ready, "outcome": outcome}
        if not _run_if_allows(task.get("run_if", "ALL_SUCCESS"), [d["result"] for d in deps]):
            upstream = "UPSTREAM_CANCELED" if any(d["result"] == "CANCELED" for d in deps) else "UPSTREAM_FAILED"
            plan.update(start=ready, end=ready, result=upstream, skipped=True, cluster={})
        else:
            wait, cluster = _compute_wait(ctx, task, workspace_id, started_job_clusters)
            wait = float(outcome.get("pending_s", wait))
            start = ready + wait
            if outcome.get("cluster_error"):
                plan.update(start=start, end=start, result="FAILED", cluster_error=_cluster_error(outcome),
                            cluster=cluster)
            else:
                outcome.update(sql.run(ctx, workspace_id=workspace_id, actor=actor, task=task, outcome=outcome))
                duration = float(outcome.get("duration_s", ctx.settings.task_duration_s))
                plan.update(start=start, end=start + duration, result=outcome.get("result_state", "SUCCESS"),
                            cluster=cluster)
        if plan["cluster"].get("new_cluster") or plan["cluster"].get("job_cluster_key"):
            plan["cluster"]["cluster_id"] = ctx.ids.cluster_id(now)
        ends[task["task_key"]] = plan
        plans.append(plan)
    return plans


def _cluster_error(outcome: dict) -> dict:
    err = outcome["cluster_error"]
    if isinstance(err, str):
        err = {"message": err}
    return {"code": err.get("code", "CLUSTER_ERROR"), "type": err.get("type", "CLOUD_FAILURE"),
            "message": err.get("message", "The cluster could not be started")}


def submit(ctx: Context, *, workspace_id: int, creator: str, spec: dict, job_id: int | None = None,
           run_type: str = "SUBMIT_RUN", creator_is_admin: bool = False) -> int:
    """Create a run (one-time submit or a job's run); returns its run id. Idempotent by token."""
    ensure(ctx)
    token = spec.get("idempotency_token")
    if token is not None:
        if not isinstance(token, str) or len(token) > 64:
            raise Invalid("idempotency_token must be a string of at most 64 characters")
        existing = ctx.store.one("SELECT run_id FROM runs WHERE workspace_id = ? AND idempotency_token = ?",
                                 (workspace_id, token))
        if existing:
            return existing["run_id"]
    timeout = spec.get("timeout_seconds")
    if timeout is not None and (not isinstance(timeout, int) or timeout < 0):
        raise Invalid("timeout_seconds must be a non-negative integer")
    tasks = _normalise_tasks(spec)
    now = ctx.clock.now()
    plans = _plan(ctx, spec, tasks, workspace_id, now, Actor(creator, creator_is_admin))
    run_id = ctx.ids.int64() >> 10  # ~2**53: big like Databricks' run ids
    number = None
    if job_id is not None:
        number = ctx.store.count("runs", "job_id = ?", (job_id,)) + 1
    with ctx.store.atomic() as db:
        db["runs"].insert({"run_id": run_id, "workspace_id": workspace_id, "job_id": job_id, "number_in_job": number,
                           "run_name": spec.get("run_name") or "Untitled", "run_type": run_type, "creator": creator,
                           "submitted_at": now, "idempotency_token": token, "timeout_seconds": timeout or None,
                           "cancelled_at": None, "spec": json.dumps(spec)})
        for position, (task, plan) in enumerate(zip(tasks, plans)):
            db["task_runs"].insert({"run_id": run_id + position + 1, "parent_run_id": run_id,
                                    "task_key": task["task_key"], "position": position,
                                    "spec": json.dumps(task), "plan": json.dumps(plan)})
    return run_id


def cancel(ctx: Context, workspace_id: int, run_id: int) -> None:
    run = _run_row(ctx, workspace_id, run_id)
    if run["cancelled_at"] is None and view(ctx, run)["state"]["life_cycle_state"] in ACTIVE:
        with ctx.store.atomic() as db:
            db.execute("UPDATE runs SET cancelled_at = ? WHERE run_id = ?", (ctx.clock.now(), run_id))


# ---------------------------------------------------------------- reading: state at "now"

@dataclass
class TaskState:
    life: str
    result: str | None
    message: str
    start: float | None
    end: float | None
    termination: dict


def _stop(run: dict) -> tuple[float | None, str | None]:
    stops = []
    if run["cancelled_at"] is not None:
        stops.append((run["cancelled_at"], "CANCELED"))
    if run["timeout_seconds"]:
        stops.append((run["submitted_at"] + run["timeout_seconds"], "TIMEDOUT"))
    return min(stops) if stops else (None, None)


def _task_state(plan: dict, now: float, stop_at: float | None, stop_result: str | None) -> TaskState:
    start, end, result = plan["start"], plan["end"], plan["result"]
    if stop_at is not None and stop_at < end and not plan.get("skipped"):
        if stop_at < start:  # never got to run
            start = None
            result = "CANCELED" if stop_result == "CANCELED" else "TIMEDOUT"
        else:
            result = stop_result
        end = stop_at
    if plan.get("cluster_error") and now >= end:
        err = plan["cluster_error"]
        return TaskState("INTERNAL_ERROR", "FAILED", err["message"], start, end,
                         {"code": err["code"], "type": err["type"], "message": err["message"]})
    if start is not None and now < start:
        waiting = now < plan["ready"]
        return TaskState("BLOCKED" if waiting else "PENDING", None,
                         "Waiting for upstream tasks" if waiting else "Waiting for cluster", None, None, {})
    if end is not None and now < end:
        return TaskState("RUNNING", None, "In run", start, None, {})
    life = "TERMINATING" if now < end + TERMINATING_S else "TERMINATED"
    if plan.get("skipped"):
        life = "TERMINATED"
    return TaskState(life, result, _message(result, plan), start, end, _termination(result, plan))


def _message(result: str | None, plan: dict) -> str:
    if result == "FAILED":
        return plan["outcome"].get("error") or "Task failed"
    if result in ("UPSTREAM_FAILED", "UPSTREAM_CANCELED"):
        return "An upstream task did not succeed"
    if result == "CANCELED":
        return "Run cancelled"
    if result == "TIMEDOUT":
        return "Run timed out"
    return ""


_TERMINATION = {
    "SUCCESS": ("SUCCESS", "SUCCESS"), "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "CANCELED": ("USER_CANCELED", "SUCCESS"), "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "UPSTREAM_FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"), "UPSTREAM_CANCELED": ("USER_CANCELED", "SUCCESS"),
    "SUCCESS_WITH_FAILURES": ("SUCCESS_WITH_FAILURES", "SUCCESS"),
}


def _termination(result: str | None, plan: dict) -> dict:
    if result is None:
        return {}
    code, kind = _TERMINATION.get(result, ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
    return {"code": code, "type": kind, "message": _message(result, plan)}


def _aggregate(states: list[TaskState], stop_result: str | None) -> TaskState:
    lives = [s.life for s in states]
    starts = [s.start for s in states if s.start is not None]
    if any(life in ("PENDING", "BLOCKED", "RUNNING") for life in lives):
        life = "RUNNING" if any(life == "RUNNING" for life in lives) or any(
            life in ("TERMINATED", "TERMINATING", "INTERNAL_ERROR") for life in lives) else "PENDING"
        return TaskState(life, None, "In run" if life == "RUNNING" else "Waiting for cluster",
                         min(starts) if starts else None, None, {})
    results = [s.result for s in states]
    end = max(s.end for s in states if s.end is not None)
    errored = next((s for s in states if s.life == "INTERNAL_ERROR"), None)
    if errored:
        return TaskState("INTERNAL_ERROR", "FAILED", errored.message, min(starts) if starts else None, end,
                         errored.termination)
    if stop_result in results:
        result = stop_result
    elif all(r == "SUCCESS" for r in results):
        result = "SUCCESS"
    elif any(r in ("FAILED", "UPSTREAM_FAILED", "TIMEDOUT") for r in results):
        result = "FAILED"
    else:
        result = "SUCCESS_WITH_FAILURES" if "SUCCESS" in results else results[0]
    life = "TERMINATING" if any(l == "TERMINATING" for l in lives) else "TERMINATED"
    failed = next((s for s in states if s.result == result), states[-1])
    message = failed.message if result != "SUCCESS" else ""
    return TaskState(life, result, message, min(starts) if starts else None, end,
                     _termination(result, {"outcome": {"error": failed.message}}))


def _ms(value: float | None) -> int:
    return 0 if value is None else int(round(value * 1000))


def _state_json(s: TaskState, cancelled: bool) -> tuple[dict, dict]:
    state = {"life_cycle_state": s.life, "state_message": s.message,
             "user_cancelled_or_timedout": s.result in ("CANCELED", "TIMEDOUT") or cancelled and s.result == "CANCELED"}
    if s.result and s.life in ("TERMINATING", "TERMINATED", "INTERNAL_ERROR"):
        state["result_state"] = s.result
    status_state = {"BLOCKED": "BLOCKED", "INTERNAL_ERROR": "TERMINATED"}.get(s.life, s.life)
    status = {"state": status_state}
    if s.termination and status_state == "TERMINATED" or s.life == "TERMINATING" and s.termination:
        status["termination_details"] = s.termination
    return state, status


def _run_row(ctx: Context, workspace_id: int, run_id: int) -> dict:
    ensure(ctx)
    run = ctx.store.one("SELECT * FROM runs WHERE run_id = ? AND workspace_id = ?", (run_id, workspace_id))
    if run is None:
        raise NotFound(f"Run {run_id} does not exist")
    return run


def view(ctx: Context, run: dict, base_url: str = "") -> dict:
    """The Run object as Databricks shapes it, evaluated at the clock's now."""
    now = ctx.clock.now()
    stop_at, stop_result = _stop(run)
    if stop_at is not None and stop_at > now:
        stop_at, stop_result = None, None
    task_rows = ctx.store.query("SELECT * FROM task_runs WHERE parent_run_id = ? ORDER BY position", (run["run_id"],))
    tasks, states = [], []
    for row in task_rows:
        spec, plan = json.loads(row["spec"]), json.loads(row["plan"])
        s = _task_state(plan, now, stop_at, stop_result)
        states.append(s)
        state, status = _state_json(s, stop_result == "CANCELED")
        task = {k: v for k, v in spec.items() if k != "task_key"}
        task.update(task_key=row["task_key"], run_id=row["run_id"], state=state, status=status,
                    start_time=_ms(s.start), end_time=_ms(s.end), attempt_number=0,
                    setup_duration=_ms(s.start - plan["ready"]) if s.start else 0,
                    execution_duration=_ms(s.end - s.start) if s.start and s.end else 0, cleanup_duration=0,
                    run_page_url=f"{base_url}/-/runs/{row['run_id']}")
        if plan["cluster"].get("cluster_id"):
            task["cluster_instance"] = {"cluster_id": plan["cluster"]["cluster_id"],
                                        "spark_context_id": str(row["run_id"])}
        tasks.append(task)
    agg = _aggregate(states, stop_result)
    state, status = _state_json(agg, stop_result == "CANCELED")
    out = {
        "run_id": run["run_id"], "run_name": run["run_name"], "run_type": run["run_type"],
        "creator_user_name": run["creator"], "number_in_job": run["number_in_job"] or run["run_id"],
        "original_attempt_run_id": run["run_id"], "state": state, "status": status, "tasks": tasks,
        "start_time": _ms(run["submitted_at"]), "end_time": _ms(agg.end) if agg.end else 0,
        "setup_duration": 0, "execution_duration": 0, "cleanup_duration": 0,
        "run_duration": _ms((agg.end or now) - run["submitted_at"]), "attempt_number": 0,
        "run_page_url": f"{base_url}/-/runs/{run['run_id']}", "format": "MULTI_TASK",
        "trigger": "ONE_TIME",
    }
    if run["job_id"] is not None:
        out["job_id"] = run["job_id"]
    if len(tasks) == 1 and "cluster_instance" in tasks[0]:
        out["cluster_instance"] = tasks[0]["cluster_instance"]
    return out


def get_run(ctx: Context, workspace_id: int, run_id: int, base_url: str = "") -> dict:
    return view(ctx, _run_row(ctx, workspace_id, run_id), base_url)


def get_output(ctx: Context, workspace_id: int, run_id: int, base_url: str = "") -> dict:
    """Output of one task run (or of a single-task run by its parent id)."""
    ensure(ctx)
    row = ctx.store.one("SELECT t.*, r.workspace_id FROM task_runs t JOIN runs r ON r.run_id = t.parent_run_id "
                        "WHERE t.run_id = ? AND r.workspace_id = ?", (run_id, workspace_id))
    if row is None:
        parent = _run_row(ctx, workspace_id, run_id)
        children = ctx.store.query("SELECT * FROM task_runs WHERE parent_run_id = ?", (parent["run_id"],))
        if len(children) != 1:
            raise Invalid(f"Retrieving the output of runs with multiple tasks is not supported. Please retrieve the "
                          f"output of each individual task run instead (run {run_id} has {len(children)} tasks).")
        row = children[0]
    parent = _run_row(ctx, workspace_id, row["parent_run_id"])
    run = view(ctx, parent, base_url)
    task = next(t for t in run["tasks"] if t["run_id"] == row["run_id"])
    out = {"metadata": task}
    life, result = task["state"]["life_cycle_state"], task["state"].get("result_state")
    if life not in ("TERMINATED", "INTERNAL_ERROR", "TERMINATING"):
        return out
    plan, spec = json.loads(row["plan"]), json.loads(row["spec"])
    outcome = plan["outcome"]
    if result in ("FAILED", "TIMEDOUT") or life == "INTERNAL_ERROR":
        out["error"] = task["state"]["state_message"]
        if outcome.get("error_trace"):
            out["error_trace"] = outcome["error_trace"]
    if "notebook_task" in spec and result == "SUCCESS":
        out["notebook_output"] = {"result": outcome.get("notebook_output", ""), "truncated": False}
    if outcome.get("sql_output") and result == "SUCCESS":
        out["sql_output"] = outcome["sql_output"]
    if ("spark_python_task" in spec or "python_wheel_task" in spec) and outcome.get("logs") is not None:
        out["logs"], out["logs_truncated"] = outcome["logs"], False
    return out


def list_runs(ctx: Context, workspace_id: int, *, job_id=None, active_only=False, completed_only=False,
              limit=25, offset=0, run_type=None, base_url="") -> tuple[list[dict], bool]:
    ensure(ctx)
    if active_only and completed_only:
        raise Invalid("active_only and completed_only cannot both be true")
    where, params = ["workspace_id = ?"], [workspace_id]
    if job_id is not None:
        where.append("job_id = ?")
        params.append(job_id)
    if run_type:
        where.append("run_type = ?")
        params.append(run_type)
    rows = ctx.store.query(f"SELECT * FROM runs WHERE {' AND '.join(where)} ORDER BY submitted_at DESC, run_id DESC",
                           tuple(params))
    views = [view(ctx, r, base_url) for r in rows]
    if active_only:
        views = [v for v in views if v["state"]["life_cycle_state"] in ACTIVE]
    if completed_only:
        views = [v for v in views if v["state"]["life_cycle_state"] not in ACTIVE]
    page = views[offset:offset + limit]
    return page, offset + limit < len(views)


# ---------------------------------------------------------------- jobs

def create_job(ctx: Context, *, workspace_id: int, creator: str, settings: dict) -> int:
    ensure(ctx)
    if not settings.get("name"):
        settings = {**settings, "name": "Untitled"}
    if settings.get("tasks"):
        _normalise_tasks(settings)
    job_id = ctx.ids.int64() >> 14
    with ctx.store.atomic() as db:
        db["jobs"].insert({"job_id": job_id, "workspace_id": workspace_id, "creator": creator,
                           "settings": json.dumps(settings), "created_at": ctx.clock.now()})
    return job_id


def _job_row(ctx: Context, workspace_id: int, job_id: int) -> dict:
    ensure(ctx)
    row = ctx.store.one("SELECT * FROM jobs WHERE job_id = ? AND workspace_id = ?", (job_id, workspace_id))
    if row is None:
        raise NotFound(f"Job {job_id} does not exist.")
    return row


def get_job(ctx: Context, workspace_id: int, job_id: int) -> dict:
    return _job_view(_job_row(ctx, workspace_id, job_id))


def _job_view(row: dict) -> dict:
    return {"job_id": row["job_id"], "creator_user_name": row["creator"], "created_time": _ms(row["created_at"]),
            "settings": json.loads(row["settings"]), "run_as_user_name": row["creator"]}


def list_jobs(ctx: Context, workspace_id: int, *, limit=20, offset=0, name=None) -> tuple[list[dict], bool]:
    ensure(ctx)
    rows = ctx.store.query("SELECT * FROM jobs WHERE workspace_id = ? ORDER BY created_at, job_id", (workspace_id,))
    jobs = [_job_view(r) for r in rows]
    if name:
        jobs = [j for j in jobs if j["settings"].get("name") == name]
    return jobs[offset:offset + limit], offset + limit < len(jobs)


def update_job(ctx: Context, workspace_id: int, job_id: int, *, new_settings: dict | None = None,
               fields_to_remove: list | None = None, replace: bool = False) -> None:
    row = _job_row(ctx, workspace_id, job_id)
    settings = {} if replace else json.loads(row["settings"])
    settings.update(new_settings or {})
    for key in fields_to_remove or []:
        settings.pop(key, None)
    if settings.get("tasks"):
        _normalise_tasks(settings)
    with ctx.store.atomic() as db:
        db.execute("UPDATE jobs SET settings = ? WHERE job_id = ?", (json.dumps(settings), job_id))


def delete_job(ctx: Context, workspace_id: int, job_id: int) -> None:
    _job_row(ctx, workspace_id, job_id)
    with ctx.store.atomic() as db:
        db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))


def run_now(ctx: Context, *, workspace_id: int, creator: str, job_id: int, params: dict,
            creator_is_admin: bool = False) -> tuple[int, int]:
    job = get_job(ctx, workspace_id, job_id)
    settings = json.loads(json.dumps(job["settings"]))
    notebook_params = params.get("notebook_params") or params.get("job_parameters") or {}
    for task in settings.get("tasks") or []:
        if notebook_params and "notebook_task" in task:
            task["notebook_task"]["base_parameters"] = {**task["notebook_task"].get("base_parameters", {}),
                                                        **notebook_params}
    spec = {**settings, "run_name": settings.get("name"), "idempotency_token": params.get("idempotency_token")}
    run_id = submit(ctx, workspace_id=workspace_id, creator=creator, spec=spec, job_id=job_id, run_type="JOB_RUN",
                    creator_is_admin=creator_is_admin)
    number = ctx.store.one("SELECT number_in_job FROM runs WHERE run_id = ?", (run_id,))["number_in_job"]
    return run_id, number
