"""SQL warehouses with the real databricks-sdk, and the state-transition modes of the simulator."""
from __future__ import annotations

import time

import pytest
import requests
from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceAlreadyExists
from databricks.sdk.service.sql import CreateWarehouseRequestWarehouseType, State

from simulator.clock import RealClock
from simulator.context import Context
from simulator.server import create_app
from simulator.store import Store

from ..conftest import WS_AWS
from .conftest import sdk, user_pat


def _warehouse_id(payload: dict) -> str:
    return payload["http_path"].rsplit("/", 1)[-1]


def _control(sim, method: str, path: str, json=None):
    return requests.request(method, sim.url + path, json=json, timeout=5)


def test_partner_connect_warehouse_start_with_waiter_and_permissions(sim, world, sp_client, admin_client,
                                                                     pat_connection):
    wid = _warehouse_id(pat_connection)
    other = admin_client.warehouses.create(name="admin only", cluster_size="X-Small").result()
    assert [w.id for w in sp_client.warehouses.list()] == [wid]  # the SP sees only what it was granted
    assert {w.id for w in admin_client.warehouses.list()} == {wid, other.id}

    got = sp_client.warehouses.get(wid)
    assert got.state == State.STOPPED and got.name == "Double Endpoint" and got.cluster_size == "Small"
    assert got.odbc_params.hostname == "127.0.0.1" and got.odbc_params.port == sim.port
    assert got.odbc_params.protocol == sim.url.split(":")[0] and got.odbc_params.path == f"/sql/1.0/warehouses/{wid}"
    assert got.jdbc_url == (f"jdbc:spark://127.0.0.1:{sim.port}/default;transportMode=http;ssl={int(sim.url.startswith('https'))};AuthMech=3;"
                            f"httpPath=/sql/1.0/warehouses/{wid};")

    started = time.monotonic()
    running = sp_client.warehouses.start(wid).result()  # CAN_USE may start; the waiter's first poll succeeds
    assert running.state == State.RUNNING and running.num_clusters == 1
    assert time.monotonic() - started < 2
    with pytest.raises(PermissionDenied, match="CAN_MANAGE"):
        sp_client.warehouses.stop(wid)  # stopping needs CAN_MANAGE
    with pytest.raises(PermissionDenied):
        sp_client.warehouses.get(other.id)
    with pytest.raises(PermissionDenied):
        sp_client.warehouses.create(name="sp", cluster_size="Small")
    assert admin_client.warehouses.stop(wid).result().state == State.STOPPED
    assert world.store.one("SELECT state FROM warehouses WHERE id = ?", (wid,))["state"] == "STOPPED"


def test_create_edit_delete_and_validation(sim, world, admin_client):
    w = admin_client.warehouses.create(name="etl", cluster_size="X-Small", enable_serverless_compute=True,
                                       warehouse_type=CreateWarehouseRequestWarehouseType.PRO,
                                       auto_stop_mins=10, max_num_clusters=3).result()
    assert (w.state, w.enable_serverless_compute, w.warehouse_type.value, w.max_num_clusters, w.creator_name) == \
        (State.RUNNING, True, "PRO", 3, "ada@acme.databricks-test.com")
    with pytest.raises(BadRequest, match="requires warehouse_type PRO"):
        admin_client.warehouses.create(name="x", cluster_size="Small", enable_serverless_compute=True,
                                       warehouse_type=CreateWarehouseRequestWarehouseType.CLASSIC)
    with pytest.raises(BadRequest, match="cluster_size must be one of"):
        admin_client.warehouses.create(name="x", cluster_size="Huge")
    with pytest.raises(BadRequest, match="auto_stop_mins"):
        admin_client.warehouses.create(name="x", cluster_size="Small", auto_stop_mins=5)
    with pytest.raises(ResourceAlreadyExists):
        admin_client.warehouses.create(name="etl", cluster_size="Small")

    edited = admin_client.warehouses.edit(w.id, name="etl2", cluster_size="Medium").result()
    assert (edited.name, edited.cluster_size, edited.state) == ("etl2", "Medium", State.RUNNING)

    admin_client.warehouses.delete(w.id)
    assert admin_client.warehouses.get(w.id).state == State.DELETED
    assert w.id not in {x.id for x in admin_client.warehouses.list()}
    with pytest.raises(NotFound):
        admin_client.warehouses.start(w.id)

    headers = {"Authorization": f"Bearer {user_pat(world)}"}
    missing = requests.get(f"{sim.url}/api/2.0/sql/warehouses/0123456789abcdef", headers=headers, timeout=5)
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    listed = requests.get(f"{sim.url}/api/2.0/sql/warehouses", headers=headers, timeout=5).json()
    assert "next_page_token" not in listed
    admin_client.warehouses.create(name="a", cluster_size="Small")
    admin_client.warehouses.create(name="b", cluster_size="Small")
    first = requests.get(f"{sim.url}/api/2.0/sql/warehouses?page_size=1", headers=headers, timeout=5).json()
    assert [x["name"] for x in first["warehouses"]] == ["a"] and first["next_page_token"] == "1"
    last = requests.get(f"{sim.url}/api/2.0/sql/warehouses?page_size=1&page_token=1", headers=headers,
                        timeout=5).json()
    assert [x["name"] for x in last["warehouses"]] == ["b"] and "next_page_token" not in last
    assert [x.name for x in admin_client.warehouses.list(page_size=1)] == ["a", "b"]  # the SDK follows tokens


def test_delayed_transitions_follow_the_simulator_clock(sim, world, admin_client):
    assert _control(sim, "PUT", "/-/settings/transitions", {"transitions": "delayed", "transition_delay_s": 30}).json() \
        == {"transitions": "delayed", "transition_delay_s": 30.0}
    wait = admin_client.warehouses.create(name="slow", cluster_size="Small")  # no .result(): SDK sleeps are real
    first = admin_client.warehouses.get(wait.id)
    assert first.state == State.STARTING and "reaches RUNNING" in first.health.summary
    assert _control(sim, "POST", "/-/clock/advance", {"seconds": 29}).json() == \
        {"now": world.clock.now(), "clock": "ManualClock", "can_advance": True}
    assert admin_client.warehouses.get(wait.id).state == State.STARTING
    _control(sim, "POST", "/-/clock/advance", {"seconds": 1})
    assert wait.result().state == State.RUNNING  # the waiter's first poll sees RUNNING
    admin_client.warehouses.stop(wait.id)
    assert admin_client.warehouses.get(wait.id).state == State.STOPPING
    world.clock.advance(30)
    assert admin_client.warehouses.get(wait.id).state == State.STOPPED
    assert world.store.one("SELECT state, target_state FROM warehouses WHERE id = ?", (wait.id,)) == \
        {"state": "STOPPED", "target_state": None}  # written back on read


def test_manual_transitions_and_control_api(sim, world, admin_client, tmp_path):
    _control(sim, "PUT", "/-/settings/transitions", {"transitions": "manual"})
    w = admin_client.warehouses.create(name="manual", cluster_size="Small")
    world.clock.advance(3600)
    assert admin_client.warehouses.get(w.id).state == State.STARTING  # never STOPPED right after start
    pending = _control(sim, "GET", "/-/transitions").json()
    assert pending["transitions"] == "manual"
    assert [(p["id"], p["state"], p["target_state"]) for p in pending["pending"]] == [(w.id, "STARTING", "RUNNING")]
    assert _control(sim, "POST", "/-/transitions/advance", {"id": w.id}).json() == \
        {"advanced": [{"kind": "warehouse", "id": w.id, "from": "STARTING", "to": "RUNNING"}]}
    assert admin_client.warehouses.get(w.id).state == State.RUNNING
    admin_client.warehouses.stop(w.id)
    assert admin_client.warehouses.get(w.id).state == State.STOPPING
    _control(sim, "PUT", "/-/settings/transitions", {"transitions": "immediate"})  # completes what is pending
    assert admin_client.warehouses.get(w.id).state == State.STOPPED
    assert _control(sim, "GET", "/-/transitions").json()["pending"] == []

    bad = _control(sim, "PUT", "/-/settings/transitions", {"transitions": "sometimes"})
    assert bad.status_code == 400 and "immediate, delayed, manual" in bad.json()["message"]
    unknown = _control(sim, "POST", "/-/transitions/advance", {"id": "nope"})
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert _control(sim, "POST", "/-/clock/advance", {"seconds": -1}).status_code == 400

    real = create_app(Context(store=Store(tmp_path / "real.db"), clock=RealClock())).test_client()
    refused = real.post("/-/clock/advance", json={"seconds": 1})
    assert refused.status_code == 400 and "real clock" in refused.get_json()["message"]


def test_state_file_from_before_the_transition_columns_is_migrated(tmp_path):
    import sqlite3

    from simulator import lifecycle, workspaces
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE warehouses (id TEXT PRIMARY KEY, workspace_id INTEGER NOT NULL, name TEXT NOT "
                       "NULL, cluster_size TEXT NOT NULL DEFAULT 'Small', warehouse_type TEXT NOT NULL DEFAULT 'PRO', "
                       "enable_serverless_compute INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'STOPPED', "
                       "connection_id INTEGER, creator TEXT, created_at REAL NOT NULL);")
    conn.close()
    c = Context(store=Store(path))
    workspaces.add_workspace(c, cloud="aws", region="us-west-2", workspace_id=WS_AWS)
    c.store.db["warehouses"].insert({"id": "w1", "workspace_id": WS_AWS, "name": "old", "created_at": 1.0})
    assert lifecycle.get(c, "warehouse", "w1")["state"] == "STOPPED"
    with c.store.atomic() as db:
        lifecycle.apply(c, db, "warehouse", "w1", "start")
    assert lifecycle.get(c, "warehouse", "w1")["state"] == "RUNNING"


def test_the_service_principal_gets_what_its_object_permissions_grant(sim, world, double):
    from simulator.partnerconnect import flows

    from .conftest import connect_partner
    restart = connect_partner(world, double, object_permissions=[{"name": "SQL_Endpoint", "level": "CAN_RESTART"}])
    w = sdk(sim.url, token=restart["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    assert w.warehouses.start(_warehouse_id(restart)).result().state == State.RUNNING  # as reference configs use it
    flows.delete_connection(world, partner_name="Double", workspace_id=WS_AWS)

    bare = connect_partner(world, double, object_permissions=[])
    w = sdk(sim.url, token=bare["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    assert list(w.warehouses.list()) == []
    with pytest.raises(PermissionDenied, match="does not have permission to see SQL warehouse"):
        w.warehouses.get(_warehouse_id(bare))
