"""Jobs and runs with the real databricks-sdk: lifecycle on the simulator clock, run rules,
multi-task aggregates, cancel, timeouts, idempotency, retries and token refresh mid-run."""
from __future__ import annotations

import pytest
import requests
from databricks.sdk.errors import NotFound as SdkNotFound
from databricks.sdk.errors import ResourceDoesNotExist
from databricks.sdk.service import jobs as j
from databricks.sdk.service.compute import ClusterSpec

from simulator import faults, lifecycle
from simulator.clock import ScaledClock
from simulator.jobs import rules

from .conftest import connect_partner, sdk

CLUSTER = ClusterSpec(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1)


def notebook(key, path="/Shared/etl", **kw):
    return j.SubmitTask(task_key=key, notebook_task=j.NotebookTask(notebook_path=path), new_cluster=CLUSTER, **kw)


def after(*keys):
    return [j.TaskDependency(task_key=k) for k in keys]


def test_submit_reaches_success_on_the_manual_clock(sp_client, world):
    waiter = sp_client.jobs.submit(run_name="nightly", tasks=[notebook("ingest"), notebook("report", depends_on=after("ingest"))])
    first = sp_client.jobs.get_run(waiter.run_id)
    assert first.state.life_cycle_state == j.RunLifeCycleState.PENDING and first.state.result_state is None
    assert [t.state.life_cycle_state for t in first.tasks] == [j.RunLifeCycleState.PENDING, j.RunLifeCycleState.BLOCKED]
    world.clock.advance(70)  # cluster started (60 s), first task running
    assert sp_client.jobs.get_run(waiter.run_id).state.life_cycle_state == j.RunLifeCycleState.RUNNING
    world.clock.advance(1000)
    run = waiter.result()
    assert (run.state.life_cycle_state, run.state.result_state) == (j.RunLifeCycleState.TERMINATED,
                                                                    j.RunResultState.SUCCESS)
    assert run.status.termination_details.code == j.TerminationCodeCode.SUCCESS
    ingest, report = run.tasks
    assert ingest.end_time <= report.start_time and ingest.run_id != report.run_id != run.run_id
    assert requests.get(run.run_page_url, timeout=5).status_code == 200


def test_accelerated_clock_finishes_without_waiting(sp_client, world):
    world.clock = ScaledClock(100_000)
    run = sp_client.jobs.submit(run_name="fast", tasks=[notebook("only")]).result()
    assert run.state.result_state == j.RunResultState.SUCCESS


def test_failing_task_gives_failed_with_scripted_error(sp_client, world):
    rules.add(world, {"match": {"notebook_path": "/Shared/broken*"}, "result_state": "FAILED",
                      "error": "ZeroDivisionError: division by zero", "error_trace": "Traceback ...\nZeroDivisionError"})
    waiter = sp_client.jobs.submit(run_name="broken", tasks=[notebook("calc", path="/Shared/broken_calc")])
    world.clock.advance(1000)
    run = waiter.result()  # the SDK waiter returns on any terminal state
    assert run.state.result_state == j.RunResultState.FAILED
    assert run.state.state_message == "ZeroDivisionError: division by zero"
    output = sp_client.jobs.get_run_output(run.tasks[0].run_id)
    assert output.error == "ZeroDivisionError: division by zero" and "Traceback" in output.error_trace
    assert output.notebook_output is None


def test_multi_task_failure_aggregate_and_per_task_states(sp_client, world):
    rules.add(world, {"match": {"task_key": "transform"}, "result_state": "FAILED", "error": "bad row"})
    rules.add(world, {"match": {"task_key": "extract"}, "notebook_output": "42 rows"})
    waiter = sp_client.jobs.submit(run_name="pipeline", tasks=[
        notebook("extract"), notebook("transform", depends_on=after("extract")),
        notebook("load", depends_on=after("transform")),
        notebook("cleanup", depends_on=after("transform"), run_if=j.RunIf.ALL_DONE)])
    world.clock.advance(10_000)
    run = waiter.result()
    results = {t.task_key: t.state.result_state for t in run.tasks}
    assert results == {"extract": j.RunResultState.SUCCESS, "transform": j.RunResultState.FAILED,
                       "load": j.RunResultState.UPSTREAM_FAILED, "cleanup": j.RunResultState.SUCCESS}
    assert run.state.result_state == j.RunResultState.FAILED
    extract = next(t for t in run.tasks if t.task_key == "extract")
    assert sp_client.jobs.get_run_output(extract.run_id).notebook_output.result == "42 rows"
    with pytest.raises(Exception, match="multiple tasks"):
        sp_client.jobs.get_run_output(run.run_id)


def test_cancel_and_timeout(sp_client, world):
    waiter = sp_client.jobs.submit(run_name="long", tasks=[notebook("slow")])
    world.clock.advance(70)
    sp_client.jobs.cancel_run(waiter.run_id)
    world.clock.advance(5)
    run = sp_client.jobs.get_run(waiter.run_id)
    assert (run.state.life_cycle_state, run.state.result_state) == (j.RunLifeCycleState.TERMINATED,
                                                                    j.RunResultState.CANCELED)
    assert run.state.user_cancelled_or_timedout and run.status.termination_details.code == j.TerminationCodeCode.USER_CANCELED
    timed = sp_client.jobs.submit(run_name="capped", timeout_seconds=30, tasks=[notebook("slow")])
    world.clock.advance(500)
    assert sp_client.jobs.get_run(timed.run_id).state.result_state == j.RunResultState.TIMEDOUT


def test_idempotent_resubmit_returns_the_same_run(sp_client, world):
    first = sp_client.jobs.submit(run_name="once", idempotency_token="abc-123", tasks=[notebook("t")])
    second = sp_client.jobs.submit(run_name="once", idempotency_token="abc-123", tasks=[notebook("t")])
    assert first.run_id == second.run_id
    assert world.store.count("runs") == 1


def test_rate_limited_poll_is_retried_by_the_sdk(sp_client, world):
    waiter = sp_client.jobs.submit(run_name="rl", tasks=[notebook("t")])
    faults.add(world, {"path": "/api/2.*/jobs/runs/get", "status": 429, "retry_after": 0, "times": 1})
    world.clock.advance(1000)
    assert waiter.result().state.result_state == j.RunResultState.SUCCESS
    assert faults.list_rules(world)[0]["fired"] == 1


def test_oauth_token_expiring_mid_run_is_refreshed(sim, world, double):
    payload = connect_partner(world, double, auth_options=["AUTH_OAUTH_M2M"])
    world.settings.oauth_token_lifetime_s = 30  # shorter than the SDK's refresh margin
    w = sdk(sim.url, client_id=payload["service_principal_id"], client_secret=payload["service_principal_oauth_secret"],
            auth_type="oauth-m2m")
    waiter = w.jobs.submit(run_name="m2m", tasks=[notebook("t")])
    world.clock.advance(3600)  # every token issued so far is now expired on the server
    assert w.jobs.get_run(waiter.run_id).state.life_cycle_state == j.RunLifeCycleState.TERMINATED
    assert waiter.result().state.result_state == j.RunResultState.SUCCESS
    assert world.store.count("access_tokens") >= 3


def test_terminated_existing_cluster_is_started(sim, world, double):
    payload = connect_partner(world, double, resources_to_provision=[{"resource_type": "InteractiveCluster"}],
                              object_permissions=[{"name": "Cluster", "level": "CAN_RESTART"}])
    cluster_id = payload["cluster_id"]
    assert lifecycle.get(world, "cluster", cluster_id)["state"] == "TERMINATED"
    w = sdk(sim.url, token=payload["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    waiter = w.jobs.submit(run_name="on-cluster", tasks=[j.SubmitTask(
        task_key="t", existing_cluster_id=cluster_id, spark_python_task=j.SparkPythonTask(python_file="dbfs:/a.py"))])
    assert lifecycle.get(world, "cluster", cluster_id)["state"] == "RUNNING"  # immediate transitions
    world.clock.advance(100)
    run = waiter.result()
    assert run.state.result_state == j.RunResultState.SUCCESS and run.tasks[0].cluster_instance.cluster_id == cluster_id
    with pytest.raises(Exception, match="Cluster nope does not exist"):
        w.jobs.submit(run_name="x", tasks=[j.SubmitTask(task_key="t", existing_cluster_id="nope",
                                                         spark_python_task=j.SparkPythonTask(python_file="a.py"))])


def test_cluster_start_failure_and_stuck_pending(sp_client, world):
    rules.add(world, {"match": {"run_name": "doomed"}, "cluster_error": {"code": "CLUSTER_ERROR", "type": "CLOUD_FAILURE",
                                                                          "message": "Insufficient capacity"}})
    rules.add(world, {"match": {"run_name": "stuck"}, "pending_s": 10 ** 9})
    doomed = sp_client.jobs.submit(run_name="doomed", tasks=[notebook("t")])
    stuck = sp_client.jobs.submit(run_name="stuck", tasks=[notebook("t")])
    world.clock.advance(3600)
    run = sp_client.jobs.get_run(doomed.run_id)
    assert run.state.life_cycle_state == j.RunLifeCycleState.INTERNAL_ERROR
    assert run.status.termination_details.code == j.TerminationCodeCode.CLUSTER_ERROR
    assert "Insufficient capacity" in run.state.state_message
    assert sp_client.jobs.get_run(stuck.run_id).state.life_cycle_state == j.RunLifeCycleState.PENDING


def test_unknown_run_and_job_use_databricks_not_found_shape(sp_client, sim, pat_connection):
    with pytest.raises(ResourceDoesNotExist):
        sp_client.jobs.get_run(123)
    with pytest.raises((ResourceDoesNotExist, SdkNotFound)):
        sp_client.jobs.get(456)
    token = pat_connection["user_info"]["auth"]["personal_access_token"]
    resp = requests.get(f"{sim.url}/api/2.0/jobs/runs/get?run_id=123", headers={"Authorization": f"Bearer {token}"},
                        timeout=5)
    assert resp.status_code == 400 and resp.json() == {"error_code": "INVALID_PARAMETER_VALUE",
                                                       "message": "Run 123 does not exist"}


def test_jobs_crud_and_run_now(sp_client, world):
    created = sp_client.jobs.create(name="daily", tasks=[j.Task(task_key="t", notebook_task=j.NotebookTask(
        notebook_path="/Shared/daily"), new_cluster=CLUSTER)])
    assert sp_client.jobs.get(created.job_id).settings.name == "daily"
    assert [job.job_id for job in sp_client.jobs.list()] == [created.job_id]
    waiter = sp_client.jobs.run_now(created.job_id, notebook_params={"day": "monday"})
    world.clock.advance(1000)
    run = waiter.result()
    assert run.job_id == created.job_id and run.state.result_state == j.RunResultState.SUCCESS
    assert run.tasks[0].notebook_task.base_parameters == {"day": "monday"}
    assert [r.run_id for r in sp_client.jobs.list_runs(job_id=created.job_id)] == [run.run_id]
    sp_client.jobs.update(created.job_id, new_settings=j.JobSettings(name="renamed"))
    assert sp_client.jobs.get(created.job_id).settings.name == "renamed"
    sp_client.jobs.delete(created.job_id)
    assert list(sp_client.jobs.list()) == []


def test_prefect_style_payload_with_nulls_on_2_1(sim, pat_connection, world):
    token = pat_connection["user_info"]["auth"]["personal_access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    task = {"task_key": "a", "notebook_task": {"notebook_path": "/p", "base_parameters": None, "source": None},
            "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 1}, "dbt_task": None,
            "existing_cluster_id": None, "depends_on": None, "libraries": None}
    resp = requests.post(f"{sim.url}/api/2.1/jobs/runs/submit", json={"run_name": "p", "tasks": [task],
                                                                      "idempotency_token": None}, headers=headers,
                         timeout=5)
    assert resp.status_code == 200, resp.text
    run = requests.get(f"{sim.url}/api/2.1/jobs/runs/get", params={"run_id": resp.json()["run_id"]}, headers=headers,
                       timeout=5).json()
    assert "state_message" in run["state"] and "next_page_token" not in run
    listed = requests.get(f"{sim.url}/api/2.2/jobs/runs/list", headers=headers, timeout=5).json()
    assert [r["run_id"] for r in listed["runs"]] == [run["run_id"]] and "next_page_token" not in listed
    bad = requests.post(f"{sim.url}/api/2.0/jobs/runs/submit", json={"tasks": [{"task_key": "x"}]}, headers=headers,
                        timeout=5)
    assert bad.status_code == 400 and "has no task type" in bad.json()["message"]


def test_run_rules_control_api(sim):
    bad = requests.post(f"{sim.url}/-/run-rules", json={"match": {"colour": "x"}}, timeout=5)
    assert bad.status_code == 400 and "unknown run rule field" in bad.json()["message"]
    ok = requests.post(f"{sim.url}/-/run-rules", json={"match": {"task_key": "t"}, "duration_s": 5}, timeout=5)
    assert ok.status_code == 201
    assert requests.get(f"{sim.url}/-/run-rules", timeout=5).json()["rules"][0]["duration_s"] == 5
    assert requests.delete(f"{sim.url}/-/run-rules", timeout=5).json() == {"removed": 1}


def test_sql_task_and_scripted_sql_cells_run_on_the_sql_engine(sim, world, double):
    writer = [{"permission": p} for p in ("USE_CATALOG", "USE_SCHEMA", "SELECT", "CREATE_TABLE", "MODIFY")]
    payload = connect_partner(world, double, data_permissions=writer)
    sp_client = sdk(sim.url, token=payload["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    warehouse = payload["cluster_id"]
    create = sp_client.api_client.do("POST", "/api/2.0/sql/queries", body={"query": {
        "display_name": "daily totals", "warehouse_id": warehouse, "catalog": "main",
        "query_text": "CREATE TABLE main.default.daily AS SELECT 1 AS day, 42 AS total"}})
    denied = sp_client.api_client.do("POST", "/api/2.0/sql/queries", body={"query": {
        "display_name": "other catalog", "warehouse_id": warehouse, "query_text": "SELECT * FROM sales.default.x"}})
    rules.add(world, {"match": {"task_key": "append"}, "sql": "INSERT INTO main.default.daily VALUES (2, 58)"})
    waiter = sp_client.jobs.submit(run_name="sql", tasks=[
        j.SubmitTask(task_key="create", sql_task=j.SqlTask(warehouse_id=warehouse,
                                                           query=j.SqlTaskQuery(query_id=create["id"]))),
        j.SubmitTask(task_key="append", depends_on=after("create"), notebook_task=j.NotebookTask(notebook_path="/n"),
                     new_cluster=CLUSTER),
        j.SubmitTask(task_key="denied", sql_task=j.SqlTask(warehouse_id=warehouse,
                                                           query=j.SqlTaskQuery(query_id=denied["id"]))),
    ])
    world.clock.advance(1000)
    run = waiter.result()
    results = {t.task_key: t.state.result_state for t in run.tasks}
    assert results == {"create": j.RunResultState.SUCCESS, "append": j.RunResultState.SUCCESS,
                       "denied": j.RunResultState.FAILED}
    create_task = next(t for t in run.tasks if t.task_key == "create")
    output = sp_client.jobs.get_run_output(create_task.run_id)
    assert output.sql_output.query_output.query_text.startswith("CREATE TABLE main.default.daily")
    denied_task = next(t for t in run.tasks if t.task_key == "denied")
    assert "USE CATALOG" in sp_client.jobs.get_run_output(denied_task.run_id).error
    rows = sp_client.statement_execution.execute_statement(
        "SELECT day, total FROM main.default.daily ORDER BY day", warehouse_id=warehouse).result.data_array
    assert rows == [["1", "42"], ["2", "58"]]
