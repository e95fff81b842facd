"""Command execution 1.2 with the real databricks-sdk: SQL on the simulator's engine, other languages
answered from scripts set through ``/-/commands/script``."""
from __future__ import annotations

import pytest
import requests
from databricks.sdk.errors import InvalidParameterValue, PermissionDenied
from databricks.sdk.service.compute import (
    CommandStatus,
    ContextStatus,
    Language,
    ResultType,
)

from .conftest import connect_partner, sdk

CLUSTER_PARTNER = {"resources_to_provision": [{"resource_type": "InteractiveCluster"}],
                   "object_permissions": [{"name": "Cluster", "level": "CAN_RESTART"}]}


@pytest.fixture
def cluster_connection(sim, world, double):
    """A partner connected with an interactive cluster it may attach to (and USE_CATALOG + SELECT on main)."""
    payload = connect_partner(world, double, **CLUSTER_PARTNER)
    w = sdk(sim.url, token=payload["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    return w, payload["cluster_id"]


def _script(sim, **body):
    resp = requests.post(sim.url + "/-/commands/script", json=body, timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_sql_commands_run_on_the_engine_and_keep_the_context_session(cluster_connection):
    w, cluster_id = cluster_connection
    context = w.command_execution.create(cluster_id=cluster_id, language=Language.SQL).result()
    assert context.status == ContextStatus.RUNNING
    assert w.command_execution.context_status(cluster_id, context.id).status == ContextStatus.RUNNING

    def sql(command):
        return w.command_execution.execute(cluster_id=cluster_id, context_id=context.id, language=Language.SQL,
                                           command=command).result()

    done = sql("SELECT n_name AS name, n_nationkey AS key, CAST(n_nationkey AS DOUBLE) * 1.5 AS half FROM samples.tpch.nation "
               "WHERE n_regionkey = 1 ORDER BY n_nationkey")
    assert done.status == CommandStatus.FINISHED and done.results.result_type == ResultType.TABLE
    assert done.results.data[:2] == [["ARGENTINA", 1, 1.5], ["BRAZIL", 2, 3.0]]
    assert [(f["name"], f["type"]) for f in done.results.schema] == [
        ("name", '"string"'), ("key", '"long"'), ("half", '"double"')]
    assert done.results.is_json_schema is True and done.results.truncated is False

    assert sql("USE samples.tpch").status == CommandStatus.FINISHED
    assert sql("SELECT count(*) AS n FROM orders").results.data == [[1500]]  # the context remembers USE

    failed = sql("SELECT * FROM sales.default.anything")
    assert failed.status == CommandStatus.FINISHED and failed.results.result_type == ResultType.ERROR
    assert "INSUFFICIENT_PERMISSIONS" in failed.results.cause and failed.results.summary.startswith("AnalysisException")

    w.command_execution.destroy(cluster_id, context.id)
    with pytest.raises(InvalidParameterValue, match="does not exist"):
        w.command_execution.context_status(cluster_id, context.id)


def test_other_languages_answer_scripted_results(sim, cluster_connection):
    w, cluster_id = cluster_connection
    context = w.command_execution.create(cluster_id=cluster_id, language=Language.PYTHON).result()

    def run(command, language=Language.PYTHON):
        return w.command_execution.execute(cluster_id=cluster_id, context_id=context.id, language=language,
                                           command=command)

    default = run("print(spark.version)").result()
    assert default.status == CommandStatus.FINISHED and default.results.result_type == ResultType.TEXT
    assert not default.results.data

    _script(sim, match="spark.version", language="python", data="3.5.0")
    _script(sim, match=r"raise \w+Error", status="Finished", resultType="error",
            summary="ValueError: bad input", cause="Traceback (most recent call last): ... ValueError: bad input")
    _script(sim, match="dbutils.fs.ls", language="scala", data="scala only")
    assert run("print(spark.version)").result().results.data == "3.5.0"
    boom = run("raise ValueError('bad input')").result()
    assert boom.status == CommandStatus.FINISHED and boom.results.result_type == ResultType.ERROR
    assert boom.results.summary == "ValueError: bad input" and "Traceback" in boom.results.cause
    assert not run("dbutils.fs.ls('/')").result().results.data  # scripted for scala only

    _script(sim, match="long_job()", status="Running")
    running = run("long_job()")
    status = w.command_execution.command_status(cluster_id, context.id, running.command_id)
    assert status.status == CommandStatus.RUNNING and status.results is None
    cancelled = w.command_execution.cancel(cluster_id=cluster_id, context_id=context.id,
                                           command_id=running.command_id).result()
    assert cancelled.status == CommandStatus.CANCELLED

    assert len(requests.get(sim.url + "/-/commands/script", timeout=5).json()["scripts"]) == 4
    assert requests.delete(sim.url + "/-/commands/script", timeout=5).json() == {}
    assert not run("print(spark.version)").result().results.data
    assert run("%sql SELECT 1 + 1 AS two").result().results.data == [[2]]  # the notebook SQL magic really runs


def test_script_validation_and_unknown_or_forbidden_clusters(sim, world, double):
    bad = requests.post(sim.url + "/-/commands/script", json={"match": "x", "status": "Done"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert requests.post(sim.url + "/-/commands/script", json={}, timeout=5).status_code == 400

    payload = connect_partner(world, double, resources_to_provision=[{"resource_type": "InteractiveCluster"}],
                              object_permissions=[])  # a cluster the partner may not attach to
    w = sdk(sim.url, token=payload["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    with pytest.raises(InvalidParameterValue, match="Cluster 0101-000000-nope does not exist"):
        w.command_execution.create(cluster_id="0101-000000-nope", language=Language.SQL).result()
    with pytest.raises(PermissionDenied, match="attach to"):
        w.command_execution.create(cluster_id=payload["cluster_id"], language=Language.SQL).result()
