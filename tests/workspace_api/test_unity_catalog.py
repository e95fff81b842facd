"""Unity Catalog (catalogs, schemas, tables, grants) with the real databricks-sdk, backed by the SQL
engine: what SQL creates the API shows, what the API creates SQL can use, and the grants API
shows and changes what Partner Connect granted."""
from __future__ import annotations

import pytest
import requests
from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied
from databricks.sdk.service.catalog import (
    CatalogType,
    ColumnInfo,
    ColumnTypeName,
    DataSourceFormat,
    PermissionsChange,
    Privilege,
    TableType,
)
from databricks.sdk.service.sql import StatementState

from .conftest import user_pat


def _sql(w, warehouse_id, statement):
    resp = w.statement_execution.execute_statement(statement=statement, warehouse_id=warehouse_id)
    assert resp.status.state == StatementState.SUCCEEDED, resp.status
    return resp.result.data_array or []


def _warehouse(payload):
    return payload["http_path"].rsplit("/", 1)[-1]


def test_catalogs_list_and_get_follow_grants(sim, world, admin_client, sp_client, pat_connection):
    assert [c.name for c in admin_client.catalogs.list()] == ["main", "sales", "samples"]
    assert [c.name for c in sp_client.catalogs.list()] == ["main", "samples"]  # granted on main; samples for all
    main = sp_client.catalogs.get("main")
    assert main.catalog_type == CatalogType.MANAGED_CATALOG and main.owner == "ada@acme.databricks-test.com"
    assert main.full_name == "main" and main.metastore_id and main.created_at > 0
    assert admin_client.catalogs.get("samples").catalog_type == CatalogType.DELTASHARING_CATALOG
    with pytest.raises(PermissionDenied, match="USE CATALOG on Catalog 'sales'"):
        sp_client.catalogs.get("sales")
    with pytest.raises(NotFound):
        admin_client.catalogs.get("nope")

    headers = {"Authorization": f"Bearer {user_pat(world)}"}
    page = requests.get(sim.url + "/api/2.1/unity-catalog/catalogs?max_results=2", headers=headers, timeout=5).json()
    assert [c["name"] for c in page["catalogs"]] == ["main", "sales"] and page["next_page_token"] == "2"
    rest = requests.get(sim.url + "/api/2.1/unity-catalog/catalogs?max_results=2&page_token=2", headers=headers,
                        timeout=5).json()
    assert [c["name"] for c in rest["catalogs"]] == ["samples"] and "next_page_token" not in rest
    everything = requests.get(sim.url + "/api/2.1/unity-catalog/catalogs?max_results=0", headers=headers,
                              timeout=5).json()
    assert len(everything["catalogs"]) == 3 and "next_page_token" not in everything

    created = admin_client.catalogs.create(name="finance", comment="money")
    assert created.name == "finance" and created.comment == "money"
    with pytest.raises(PermissionDenied):
        sp_client.catalogs.create(name="partner_catalog")
    assert "finance" in [c.name for c in admin_client.catalogs.list()]


def test_grants_show_partner_connect_grants_and_updates_take_effect(admin_client, sp_client, pat_connection):
    sp = pat_connection["service_principal_id"]
    wid = _warehouse(pat_connection)
    grants = admin_client.grants.get("catalog", "main")
    assert [(a.principal, sorted(p.value for p in a.privileges)) for a in grants.privilege_assignments] == \
        [(sp, ["SELECT", "USE_CATALOG"])]
    assert admin_client.grants.get("CATALOG", "main", principal=sp).privilege_assignments[0].principal == sp
    assert admin_client.grants.get("catalog", "sales").privilege_assignments in (None, [])

    _sql(admin_client, wid, "CREATE TABLE sales.default.deals AS SELECT 7 AS amount")
    sales_read = PermissionsChange(principal=sp, add=[Privilege.USE_CATALOG, Privilege.SELECT])
    updated = admin_client.grants.update("catalog", "sales", changes=[sales_read])
    assert sorted(p.value for p in updated.privilege_assignments[0].privileges) == ["SELECT", "USE_CATALOG"]
    assert _sql(sp_client, wid, "SELECT amount FROM sales.default.deals") == [["7"]]  # the grant is enforced

    admin_client.grants.update("catalog", "sales", changes=[PermissionsChange(principal=sp, remove=[Privilege.SELECT])])
    denied = sp_client.statement_execution.execute_statement(statement="SELECT * FROM sales.default.deals",
                                                             warehouse_id=wid)
    assert denied.status.state == StatementState.FAILED and "SELECT on Table 'sales.default.deals'" in \
        denied.status.error.message

    effective = admin_client.grants.get_effective("schema", "main.default", principal=sp)
    inherited = {(p.privilege.value, p.inherited_from_type.value, p.inherited_from_name)
                 for p in effective.privilege_assignments[0].privileges}
    assert inherited == {("USE_CATALOG", "CATALOG", "main"), ("SELECT", "CATALOG", "main")}

    with pytest.raises(PermissionDenied, match="MANAGE"):
        sp_client.grants.update("catalog", "main", changes=[PermissionsChange(principal=sp, add=[Privilege.MODIFY])])
    with pytest.raises(BadRequest, match="principal"):
        admin_client.grants.update("catalog", "main", changes=[PermissionsChange(principal="ghost@example.com",
                                                                                 add=[Privilege.SELECT])])
    via_sql = _sql(admin_client, wid, "SHOW GRANTS ON CATALOG sales")
    assert via_sql == [[sp, "USE CATALOG", "CATALOG", "sales"]]


def test_privilege_assignments_page_by_page_size(admin_client, pat_connection):
    sp = pat_connection["service_principal_id"]
    admin_client.grants.update("catalog", "main", changes=[PermissionsChange(principal="users",
                                                                             add=[Privilege.USE_CATALOG])])
    path = "/api/2.1/unity-catalog/privilege-assignments/catalog/main"
    first = admin_client.api_client.do("GET", path, query={"page_size": 1})
    assert len(first["privilege_assignments"]) == 1 and first["next_page_token"] == "1"
    rest = admin_client.api_client.do("GET", path, query={"page_size": 1, "page_token": "1"})
    assert len(rest["privilege_assignments"]) == 1 and "next_page_token" not in rest
    assert {a["principal"] for a in first["privilege_assignments"] + rest["privilege_assignments"]} == {sp, "users"}
    assert len(admin_client.api_client.do("GET", path)["privilege_assignments"]) == 2


def test_schemas_and_tables_are_the_sql_engines(admin_client, pat_connection):
    wid = _warehouse(pat_connection)
    _sql(admin_client, wid, "CREATE SCHEMA main.from_sql COMMENT 'made with SQL'")
    _sql(admin_client, wid, "CREATE TABLE main.from_sql.t (id BIGINT NOT NULL, amount DECIMAL(12,3), "
                            "seen TIMESTAMP_NTZ, note STRING COMMENT 'free text')")
    schemas = {s.name: s for s in admin_client.schemas.list(catalog_name="main")}
    assert set(schemas) == {"default", "from_sql", "information_schema"}
    assert schemas["from_sql"].comment == "made with SQL" and schemas["from_sql"].owner == "ada@acme.databricks-test.com"

    table = admin_client.tables.get("main.from_sql.t")
    assert (table.table_type, table.data_source_format, table.full_name) == \
        (TableType.MANAGED, DataSourceFormat.DELTA, "main.from_sql.t")
    assert [(c.name, c.type_name, c.type_text, c.nullable, c.position) for c in table.columns] == [
        ("id", ColumnTypeName.LONG, "bigint", False, 0), ("amount", ColumnTypeName.DECIMAL, "decimal(12,3)", True, 1),
        ("seen", ColumnTypeName.TIMESTAMP_NTZ, "timestamp_ntz", True, 2), ("note", ColumnTypeName.STRING, "string", True, 3)]
    assert table.columns[1].type_precision == 12 and table.columns[3].comment == "free text"

    api_schema = admin_client.schemas.create(name="from_api", catalog_name="main", comment="made with the API")
    assert api_schema.full_name == "main.from_api"
    created = admin_client.tables.create(
        name="events", catalog_name="main", schema_name="from_api", table_type=TableType.EXTERNAL,
        data_source_format=DataSourceFormat.DELTA, storage_location="s3://bucket/events",
        columns=[ColumnInfo(name="id", type_text="int", type_name=ColumnTypeName.INT, position=0),
                 ColumnInfo(name="label", type_text="string", type_name=ColumnTypeName.STRING, position=1)])
    assert [c.name for c in created.columns] == ["id", "label"]
    _sql(admin_client, wid, "INSERT INTO main.from_api.events VALUES (1, 'first')")
    assert _sql(admin_client, wid, "SELECT label FROM main.from_api.events") == [["first"]]
    assert [t.name for t in admin_client.tables.list(catalog_name="main", schema_name="from_api")] == ["events"]
    assert admin_client.tables.exists("main.from_api.events").table_exists is True
    assert admin_client.tables.exists("main.from_api.nothing").table_exists is False

    admin_client.tables.delete("main.from_api.events")
    admin_client.schemas.delete("main.from_api")
    assert ["from_api"] not in _sql(admin_client, wid, "SHOW SCHEMAS IN main")
    with pytest.raises(NotFound):
        admin_client.schemas.get("main.from_api")


def test_service_principal_sees_only_its_catalogs_through_the_api(sp_client, admin_client, pat_connection):
    assert [s.name for s in sp_client.schemas.list(catalog_name="samples")] == ["information_schema", "nyctaxi", "tpch"]
    assert [t.name for t in sp_client.tables.list(catalog_name="samples", schema_name="tpch")] == \
        ["customer", "nation", "orders", "region"]
    with pytest.raises(PermissionDenied):
        list(sp_client.schemas.list(catalog_name="sales"))
    with pytest.raises(PermissionDenied, match="CREATE SCHEMA on Catalog 'main'"):
        sp_client.schemas.create(name="mine", catalog_name="main")
