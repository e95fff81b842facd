"""SQL Statement Execution with the real databricks-sdk, on the simulator's DuckDB engine, with the
credentials and grants a Partner Connect flow provisions."""
from __future__ import annotations

import pytest
import requests
from databricks.sdk.errors import BadRequest, NotFound, NotImplemented, PermissionDenied
from databricks.sdk.service.sql import (
    ColumnInfoTypeName,
    Disposition,
    Format,
    ServiceErrorCode,
    StatementParameterListItem,
    StatementState,
)

from simulator import sqlengine, workspaces
from simulator.sqlengine import Actor
from simulator.store import Store

from ..conftest import WS_AWS
from .conftest import connect_partner, sdk, user_pat

WRITER_PERMISSIONS = [{"permission": p} for p in ("USE_CATALOG", "USE_SCHEMA", "CREATE_SCHEMA", "CREATE_TABLE",
                                                  "SELECT", "MODIFY")]


def warehouse_of(payload: dict) -> str:
    return payload["http_path"].rsplit("/", 1)[-1]


def run(w, warehouse_id: str, statement: str, **kwargs):
    return w.statement_execution.execute_statement(statement=statement, warehouse_id=warehouse_id, **kwargs)


def rows(resp) -> list[list]:
    assert resp.status.state == StatementState.SUCCEEDED, resp.status
    return resp.result.data_array or []


def failure(resp) -> tuple:
    assert resp.status.state == StatementState.FAILED
    return resp.status.error.error_code, resp.status.error.message, resp.status.sql_state


def test_select_from_samples_returns_typed_manifest_and_string_cells(sp_client, pat_connection):
    wid = warehouse_of(pat_connection)
    resp = run(sp_client, wid, "SELECT tpep_pickup_datetime, trip_distance, fare_amount, pickup_zip "
                               "FROM samples.nyctaxi.trips ORDER BY tpep_pickup_datetime LIMIT 3")
    data = rows(resp)
    assert data[0] == ["2016-02-01T00:00:00.000Z", "0.4", "3.5", "10001"]
    assert len(data) == 3 and all(isinstance(cell, str) for row in data for cell in row)
    columns = resp.manifest.schema.columns
    assert [(c.name, c.type_name, c.type_text) for c in columns] == [
        ("tpep_pickup_datetime", ColumnInfoTypeName.TIMESTAMP, "timestamp"),
        ("trip_distance", ColumnInfoTypeName.DOUBLE, "double"),
        ("fare_amount", ColumnInfoTypeName.DOUBLE, "double"), ("pickup_zip", ColumnInfoTypeName.INT, "int")]
    assert resp.manifest.format == Format.JSON_ARRAY and resp.manifest.total_row_count == 3
    assert resp.manifest.truncated is False and resp.manifest.total_chunk_count == 1

    joined = run(sp_client, wid, "SELECT c.c_mktsegment, count(*), sum(o.o_totalprice) AS total "
                                 "FROM samples.tpch.customer c JOIN samples.tpch.orders o ON o.o_custkey = c.c_custkey "
                                 "GROUP BY c.c_mktsegment ORDER BY 1")
    assert rows(joined)[0] == ["AUTOMOBILE", "300", "62324782.50"]
    assert [c.name for c in joined.manifest.schema.columns] == ["c_mktsegment", "count(1)", "total"]
    total = joined.manifest.schema.columns[2]
    assert (total.type_name, total.type_text, total.type_precision, total.type_scale) == \
        (ColumnInfoTypeName.DECIMAL, "decimal(38,2)", 38, 2)
    assert sp_client.statement_execution.get_statement(joined.statement_id).result.data_array == joined.result.data_array


def test_named_parameters_are_typed_and_null_when_missing(sp_client, pat_connection):
    resp = run(sp_client, warehouse_of(pat_connection),
               "SELECT :name AS name, :n + 1 AS next, :gone IS NULL AS gone_is_null, count(*) AS big "
               "FROM samples.tpch.orders WHERE o_totalprice > :min",
               parameters=[StatementParameterListItem(name="name", value="O'Brien"),
                           StatementParameterListItem(name="n", value="41", type="INT"),
                           StatementParameterListItem(name="gone", type="DATE"),
                           StatementParameterListItem(name="min", value="400000.5", type="DECIMAL(18,2)")])
    assert rows(resp) == [["O'Brien", "42", "true", "146"]]
    assert [c.type_name for c in resp.manifest.schema.columns] == [
        ColumnInfoTypeName.STRING, ColumnInfoTypeName.INT, ColumnInfoTypeName.BOOLEAN, ColumnInfoTypeName.LONG]
    unbound = run(sp_client, warehouse_of(pat_connection), "SELECT :nope")
    code, message, _ = failure(unbound)
    assert code == ServiceErrorCode.BAD_REQUEST and "UNBOUND_SQL_PARAMETER" in message


def test_wait_timeout_zero_answers_pending_then_polling_and_cancel(sim, world, admin_client, pat_connection):
    wid = warehouse_of(pat_connection)
    pending = run(admin_client, wid, "SELECT count(*) FROM samples.tpch.customer", wait_timeout="0s")
    assert pending.status.state == StatementState.PENDING and pending.manifest is None and pending.result is None
    polled = admin_client.statement_execution.get_statement(pending.statement_id)
    assert rows(polled) == [["150"]] and polled.statement_id == pending.statement_id

    rows(run(admin_client, wid, "CREATE TABLE main.default.audit (id INT)"))
    queued = run(admin_client, wid, "INSERT INTO main.default.audit VALUES (1)", wait_timeout="0s")
    admin_client.statement_execution.cancel_execution(queued.statement_id)
    assert admin_client.statement_execution.get_statement(queued.statement_id).status.state == StatementState.CANCELED
    assert rows(run(admin_client, wid, "SELECT count(*) FROM main.default.audit")) == [["0"]]  # it never ran

    # the trailing slash old SDKs use, and on_wait_timeout (the simulator always finishes in time)
    old = requests.post(sim.url + "/api/2.0/sql/statements/", timeout=5,
                        headers={"Authorization": f"Bearer {user_pat(world)}"},
                        json={"statement": "SELECT 1 AS one", "warehouse_id": wid, "on_wait_timeout": "CANCEL"})
    assert old.status_code == 200 and old.json()["result"]["data_array"] == [["1"]]


def test_chunked_results_row_limit_and_truncation(sim, world, sp_client, pat_connection):
    world.settings.sql_chunk_rows = 7
    wid = warehouse_of(pat_connection)
    resp = run(sp_client, wid, "SELECT r_regionkey FROM samples.tpch.region "
                               "UNION ALL SELECT n_nationkey FROM samples.tpch.nation ORDER BY 1 LIMIT 20")
    m = resp.manifest
    assert (m.total_row_count, m.total_chunk_count, m.truncated) == (20, 3, False)
    assert [(c.chunk_index, c.row_offset, c.row_count) for c in m.chunks] == [(0, 0, 7), (1, 7, 7), (2, 14, 6)]
    assert resp.result.row_count == 7 and resp.result.next_chunk_index == 1
    assert resp.result.next_chunk_internal_link == f"/api/2.0/sql/statements/{resp.statement_id}/result/chunks/1"
    collected, chunk = list(resp.result.data_array), resp.result
    while chunk.next_chunk_index is not None:
        chunk = sp_client.statement_execution.get_statement_result_chunk_n(resp.statement_id, chunk.next_chunk_index)
        collected += chunk.data_array
    assert chunk.chunk_index == 2 and chunk.row_offset == 14 and chunk.next_chunk_internal_link is None
    assert [int(r[0]) for r in collected] == sorted(list(range(5)) + list(range(25)))[:20]

    limited = run(sp_client, wid, "SELECT o_orderkey FROM samples.tpch.orders ORDER BY 1", row_limit=5)
    assert limited.manifest.truncated is True and limited.manifest.total_row_count == 5
    assert rows(limited) == [["1"], ["5"], ["9"], ["13"], ["17"]]
    exact = run(sp_client, wid, "SELECT * FROM samples.tpch.region", row_limit=5)
    assert exact.manifest.truncated is False and exact.manifest.total_row_count == 5
    with pytest.raises(BadRequest, match="out of range"):
        sp_client.statement_execution.get_statement_result_chunk_n(resp.statement_id, 3)


def test_service_principal_reads_granted_catalog_and_is_refused_elsewhere(sp_client, admin_client, pat_connection):
    wid = warehouse_of(pat_connection)
    for catalog in ("main", "sales"):
        rows(run(admin_client, wid, f"CREATE TABLE {catalog}.default.leads AS SELECT 'ada' AS who, 1 AS n"))
    assert rows(run(sp_client, wid, "SELECT who, n FROM main.default.leads")) == [["ada", "1"]]

    code, message, sql_state = failure(run(sp_client, wid, "SELECT * FROM sales.default.leads"))
    assert code == ServiceErrorCode.BAD_REQUEST and sql_state == "42501"
    assert message.startswith("[INSUFFICIENT_PERMISSIONS]")
    assert "User does not have USE CATALOG on Catalog 'sales'" in message
    code, message, _ = failure(run(sp_client, wid, "SELECT m.n FROM main.default.leads m "
                                                   "JOIN sales.default.leads s ON s.n = m.n"))
    assert "Catalog 'sales'" in message  # every table of the statement is checked, not just the first
    _, message, _ = failure(run(sp_client, wid, "INSERT INTO main.default.leads VALUES ('eve', 2)"))
    assert "User does not have MODIFY on Table 'main.default.leads'" in message
    _, message, _ = failure(run(sp_client, wid, "CREATE SCHEMA main.partner"))
    assert "User does not have CREATE SCHEMA on Catalog 'main'" in message
    _, message, _ = failure(run(admin_client, wid, "DELETE FROM samples.tpch.orders"))
    assert "MODIFY on Table 'samples.tpch.orders'" in message  # samples is read-only, even for admins
    assert rows(run(sp_client, wid, "SHOW CATALOGS")) == [["main"], ["samples"]]
    assert rows(run(admin_client, wid, "SHOW CATALOGS")) == [["main"], ["sales"], ["hive_metastore"], ["samples"]]


def test_service_principal_creates_schema_and_table_in_its_catalog(sim, world, double):
    payload = connect_partner(world, double, data_permissions=WRITER_PERMISSIONS)
    w = sdk(sim.url, token=payload["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    wid = warehouse_of(payload)
    assert payload["catalog_name"] == "main"
    assert rows(run(w, wid, "CREATE SCHEMA IF NOT EXISTS `main`.`partner_raw` COMMENT 'landing zone'")) == []
    rows(run(w, wid, "CREATE TABLE IF NOT EXISTS `main`.`partner_raw`.`Events` (id BIGINT NOT NULL, "
                     "`user name` STRING COMMENT 'who', amount DECIMAL(10,2), at TIMESTAMP, tags ARRAY<STRING>) "
                     "USING DELTA COMMENT 'synced events'"))
    inserted = run(w, wid, "INSERT INTO `main`.`partner_raw`.`events` VALUES "
                           "(1, 'ada', 12.5, TIMESTAMP '2024-05-01 10:00:00', array('a', 'b')), "
                           "(2, NULL, NULL, NULL, NULL)")
    assert rows(inserted) == [["2", "2"]]
    assert [c.name for c in inserted.manifest.schema.columns] == ["num_affected_rows", "num_inserted_rows"]
    selected = run(w, wid, "SELECT `user name`, amount, at, tags FROM events ORDER BY id",
                   catalog="main", schema="partner_raw")
    assert rows(selected) == [["ada", "12.50", "2024-05-01T10:00:00.000Z", '["a","b"]'], [None, None, None, None]]

    assert ["partner_raw"] in rows(run(w, wid, "SHOW SCHEMAS IN main"))
    assert rows(run(w, wid, "SHOW TABLES IN main.partner_raw")) == [["partner_raw", "events", "false"]]
    assert rows(run(w, wid, "DESCRIBE TABLE main.partner_raw.events")) == [
        ["id", "bigint", None], ["user name", "string", "who"], ["amount", "decimal(10,2)", None],
        ["at", "timestamp", None], ["tags", "array<string>", None]]
    assert ["Owner", payload["service_principal_id"]] in rows(run(w, wid, "DESCRIBE SCHEMA main.partner_raw"))
    assert rows(run(w, wid, "SELECT table_name, comment FROM main.information_schema.tables "
                            "WHERE table_schema = 'partner_raw'")) == [["events", "synced events"]]
    _, message, _ = failure(run(w, wid, "CREATE SCHEMA sales.partner_raw"))
    assert "Catalog 'sales'" in message


def test_show_describe_and_session_fields(admin_client, pat_connection):
    wid = warehouse_of(pat_connection)
    assert rows(run(admin_client, wid, "SHOW SCHEMAS IN samples")) == [["information_schema"], ["nyctaxi"], ["tpch"]]
    assert rows(run(admin_client, wid, "SHOW TABLES IN samples.tpch LIKE 'c*|o*'")) == [
        ["tpch", "customer", "false"], ["tpch", "orders", "false"]]
    assert ["o_totalprice", "decimal(18,2)", None] in rows(run(admin_client, wid, "DESCRIBE samples.tpch.orders"))
    assert rows(run(admin_client, wid, "SHOW COLUMNS IN samples.tpch.region")) == [
        ["r_regionkey"], ["r_name"], ["r_comment"]]
    resp = run(admin_client, wid, "SELECT current_catalog(), current_schema(), count(*) FROM orders",
               catalog="samples", schema="tpch")
    assert rows(resp) == [["samples", "tpch", "1500"]]
    assert rows(run(admin_client, wid, "SELECT current_catalog(), current_schema()")) == [["main", "default"]]
    assert rows(run(admin_client, wid, "USE CATALOG sales")) == []  # accepted; every statement has its own session
    _, message, _ = failure(run(admin_client, wid, "SELECT 1", catalog="nope"))
    assert "NO_SUCH_CATALOG_EXCEPTION" in message


def test_failed_statements_carry_error_class_and_sql_state(admin_client, pat_connection):
    wid = warehouse_of(pat_connection)
    code, message, sql_state = failure(run(admin_client, wid, "SELEC 1"))
    assert (code, sql_state) == (ServiceErrorCode.BAD_REQUEST, "42601") and "[PARSE_SYNTAX_ERROR]" in message
    code, message, sql_state = failure(run(admin_client, wid, "SELECT * FROM main.default.missing"))
    assert sql_state == "42P01" and "[TABLE_OR_VIEW_NOT_FOUND]" in message and "`main`.`default`.`missing`" in message
    _, message, sql_state = failure(run(admin_client, wid, "SELECT nope FROM samples.tpch.region"))
    assert sql_state == "42703" and "UNRESOLVED_COLUMN" in message
    _, message, _ = failure(run(admin_client, wid, "SELECT * FROM read_csv('/etc/passwd')"))
    assert "does not allow access to local files" in message
    _, message, _ = failure(run(admin_client, wid, "SELECT 1; SELECT 2"))
    assert "only one statement" in message


def test_request_errors_use_the_api_error_shape(sp_client, pat_connection):
    wid = warehouse_of(pat_connection)
    with pytest.raises(NotFound, match="0123456789abcdef"):
        run(sp_client, "0123456789abcdef", "SELECT 1")
    with pytest.raises(NotImplemented, match="EXTERNAL_LINKS"):
        run(sp_client, wid, "SELECT 1", disposition=Disposition.EXTERNAL_LINKS)
    with pytest.raises(BadRequest, match="JSON_ARRAY"):
        run(sp_client, wid, "SELECT 1", format=Format.ARROW_STREAM)
    with pytest.raises(BadRequest, match="wait_timeout"):
        run(sp_client, wid, "SELECT 1", wait_timeout="3s")
    with pytest.raises(NotFound):
        sp_client.statement_execution.get_statement("00000000-0000-0000-0000-000000000000")


def test_non_admin_user_reads_samples_only(sim, world, pat_connection):
    wid = warehouse_of(pat_connection)
    with world.store.atomic() as db:  # bob may use the warehouse, but holds no data grants
        db["grants"].insert({"workspace_id": WS_AWS, "connection_id": None, "principal": "bob@acme.databricks-test.com",
                             "securable_type": "sql_warehouse", "securable_name": wid, "privilege": "CAN_USE"})
    bob = sdk(sim.url, token=user_pat(world, "bob@acme.databricks-test.com"), auth_type="pat")
    assert rows(run(bob, wid, "SELECT count(*) FROM samples.nyctaxi.trips")) == [["200"]]
    _, message, _ = failure(run(bob, wid, "SHOW TABLES IN main.default"))
    assert "User does not have USE CATALOG on Catalog 'main'" in message
    outsider = sdk(sim.url, token=user_pat(world, "cy@acme.databricks-test.com"), auth_type="pat")
    assert rows(run(outsider, wid, "SELECT 1")) == [["1"]]  # cy is an admin: any warehouse, any data
    with pytest.raises(NotFound):
        bob.statement_execution.get_statement(run(outsider, wid, "SELECT 1").statement_id)  # not his statement


def test_service_principal_without_warehouse_grant_is_refused(sim, world, double):
    payload = connect_partner(world, double, object_permissions=[])
    w = sdk(sim.url, token=payload["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    with pytest.raises(PermissionDenied, match="CAN_USE"):
        run(w, warehouse_of(payload), "SELECT 1")


def test_tables_survive_a_new_engine_on_the_same_state_file(sim, world, admin_client, pat_connection):
    wid = warehouse_of(pat_connection)
    rows(run(admin_client, wid, "CREATE TABLE sales.default.kept AS SELECT 42 AS answer"))
    sqlengine.close_engines(world.store)  # as when the server restarts
    assert rows(run(admin_client, wid, "SELECT answer FROM sales.default.kept")) == [["42"]]

    sqlengine.close_engines()
    other = Store(world.store.path)  # another process's view of the same state file
    try:
        result = sqlengine.engine_for(other, WS_AWS).execute("SELECT answer FROM sales.default.kept",
                                                             actor=Actor("ops@example.com", is_admin=True))
        assert result.rows == [["42"]] and result.columns[0].type_name == "INT"
    finally:
        sqlengine.close_engines(other)
        other.close()

    world.store.reset()  # `pcsim reset`: the SQL data goes with the rest of the state
    workspaces.add_workspace(world, cloud="aws", region="us-west-2", workspace_id=WS_AWS, catalogs=("main", "sales"))
    fresh = sqlengine.engine_for(world.store, WS_AWS).execute("SHOW TABLES IN sales.default",
                                                              actor=Actor("ops@example.com", is_admin=True))
    assert fresh.rows == []


def test_concurrent_statements_are_serialised_per_workspace(admin_client, pat_connection):
    from concurrent.futures import ThreadPoolExecutor

    wid = warehouse_of(pat_connection)
    rows(run(admin_client, wid, "CREATE TABLE main.default.hits (n INT)"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: run(admin_client, wid, f"INSERT INTO main.default.hits VALUES ({n})"),
                                range(16)))
    assert all(rows(r) == [["1", "1"]] for r in results)
    assert rows(run(admin_client, wid, "SELECT count(*), sum(n) FROM main.default.hits")) == [["16", "120"]]
