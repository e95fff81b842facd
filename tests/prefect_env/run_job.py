"""Runs prefect-databricks' own ``jobs_runs_submit_and_wait_for_completion`` against the simulator.

Executed in the Prefect virtualenv by tests/workspace_api/test_prefect.py; prints one JSON line:
{"ok": true, "result": {...}} or {"ok": false, "exception": "<class name>", "message": "..."}.
"""
import json
import sys


def main(instance: str, token: str, ca_file: str, scenario: str) -> None:
    from prefect import flow
    from prefect_databricks import DatabricksCredentials
    from prefect_databricks.flows import jobs_runs_submit_and_wait_for_completion
    from prefect_databricks.models.jobs import (
        AutoScale, NewCluster, NotebookTask, RunSubmitTaskSettings, TaskDependencies, TaskDependency,
    )

    cluster = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge",
                         autoscale=AutoScale(min_workers=1, max_workers=2))
    tasks = [
        RunSubmitTaskSettings(task_key="extract", new_cluster=cluster,
                              notebook_task=NotebookTask(notebook_path=f"/Shared/{scenario}/extract")),
        RunSubmitTaskSettings(task_key="load", new_cluster=cluster, depends_on=TaskDependencies([TaskDependency(task_key="extract")]),
                              notebook_task=NotebookTask(notebook_path=f"/Shared/{scenario}/load")),
    ]
    credentials = DatabricksCredentials(databricks_instance=instance, token=token, client_kwargs={"verify": ca_file})

    @flow(name=f"pcsim-{scenario}")
    def orchestrate():
        return jobs_runs_submit_and_wait_for_completion(
            databricks_credentials=credentials, run_name=f"prefect {scenario}", tasks=tasks,
            poll_frequency_seconds=1, max_wait_seconds=60)

    try:
        print(json.dumps({"ok": True, "result": orchestrate()}, default=str))
    except Exception as exc:  # the test asserts on the documented exception type
        print(json.dumps({"ok": False, "exception": type(exc).__name__, "message": str(exc)}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
