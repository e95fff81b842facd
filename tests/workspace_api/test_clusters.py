"""Clusters with the real databricks-sdk (2.1 paths), plus the 2.0 paths and the raw error shapes."""
from __future__ import annotations

import re

import pytest
import requests
from databricks.sdk.errors import BadRequest, InvalidState, PermissionDenied, ResourceDoesNotExist
from databricks.sdk.service.compute import ListClustersFilterBy, State

from simulator.partnerconnect import provisioning

from ..conftest import WS_GCP
from .conftest import connect_partner, sdk, user_pat

CLUSTER_PARTNER = {"resources_to_provision": [{"resource_type": "InteractiveCluster"}],
                   "object_permissions": [{"name": "Cluster", "level": "CAN_RESTART"}]}


@pytest.fixture
def cluster_connection(sim, world, double):
    return connect_partner(world, double, **CLUSTER_PARTNER)


def test_partner_connect_cluster_start_restart_terminate(sim, world, cluster_connection):
    cid = cluster_connection["cluster_id"]
    app_id = cluster_connection["service_principal_id"]
    assert re.fullmatch(r"\d{4}-\d{6}-[a-z0-9]{8}", cid)
    w = sdk(sim.url, token=cluster_connection["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    assert [c.cluster_id for c in w.clusters.list()] == [cid]

    c = w.clusters.get(cid)
    assert (c.state, c.spark_version, c.node_type_id, c.creator_user_name) == \
        (State.TERMINATED, provisioning.SPARK_VERSION, "i3.xlarge", app_id)
    assert c.termination_reason.code.value == "INACTIVITY" and c.start_time == int(world.clock.now() * 1000)

    running = w.clusters.start(cid).result()  # CAN_RESTART may start
    assert running.state == State.RUNNING and running.driver is not None and len(running.executors) == 1
    with pytest.raises(InvalidState, match="unexpected state Running"):
        w.clusters.start(cid)
    world.clock.advance(60)
    restarted = w.clusters.restart(cid).result()
    assert restarted.state == State.RUNNING and restarted.last_restarted_time == int(world.clock.now() * 1000)

    world.clock.advance(60)
    terminated = w.clusters.delete(cid).result()
    assert terminated.state == State.TERMINATED
    assert terminated.termination_reason.code.value == "USER_REQUEST"
    assert terminated.termination_reason.type.value == "SUCCESS"
    assert terminated.termination_reason.parameters == {"username": app_id}
    assert terminated.terminated_time == int(world.clock.now() * 1000) > terminated.start_time
    assert w.clusters.get(cid).state == State.TERMINATED  # the record is kept

    with pytest.raises(PermissionDenied):
        w.clusters.edit(cid, spark_version=provisioning.SPARK_VERSION, num_workers=2)  # needs CAN_MANAGE
    with pytest.raises(PermissionDenied):
        w.clusters.permanent_delete(cid)
    with pytest.raises(PermissionDenied, match="not allowed to create"):
        w.clusters.create(spark_version=provisioning.SPARK_VERSION, cluster_name="mine")

    admin = sdk(sim.url, token=user_pat(world), auth_type="pat")
    other = admin.clusters.create(spark_version=provisioning.SPARK_VERSION, cluster_name="admin only").result()
    assert [c.cluster_id for c in w.clusters.list()] == [cid]  # lists leave out what the SP was not granted
    assert {c.cluster_id for c in admin.clusters.list()} == {cid, other.cluster_id}


def test_admin_create_with_select_helpers_edit_list_and_permanent_delete(sim, world, admin_client):
    version = admin_client.clusters.select_spark_version(long_term_support=True)
    assert version == "16.4.x-scala2.12"
    assert admin_client.clusters.select_spark_version(latest=True) == "16.4.x-scala2.12"  # 17.x are Scala 2.13
    node = admin_client.clusters.select_node_type(local_disk=True)
    assert node == "m5d.large"  # smallest AWS type with a local disk (m5.large has none)
    assert admin_client.clusters.select_node_type(min_gpus=1) == "g4dn.xlarge"

    c = admin_client.clusters.create(cluster_name="etl", spark_version=version, node_type_id=node, num_workers=2,
                                     autotermination_minutes=30, custom_tags={"team": "data"}).result()
    assert (c.state, c.cluster_name, c.num_workers, len(c.executors), c.autotermination_minutes) == \
        (State.RUNNING, "etl", 2, 2, 30)
    assert c.creator_user_name == "ada@acme.databricks-test.com" and c.cluster_source.value == "API"
    assert c.custom_tags == {"team": "data"} and c.default_tags["ClusterId"] == c.cluster_id

    edited = admin_client.clusters.edit(c.cluster_id, spark_version="15.4.x-scala2.12", node_type_id=node,
                                        cluster_name="etl2", num_workers=1).result()
    assert (edited.cluster_name, edited.spark_version, edited.num_workers, edited.state) == \
        ("etl2", "15.4.x-scala2.12", 1, State.RUNNING)
    assert "custom_tags" not in admin_client.clusters.get(c.cluster_id).as_dict() or \
        not admin_client.clusters.get(c.cluster_id).custom_tags  # edit replaces the spec

    running = admin_client.clusters.list(filter_by=ListClustersFilterBy(cluster_states=[State.RUNNING]))
    assert [x.cluster_id for x in running] == [c.cluster_id]
    assert list(admin_client.clusters.list(filter_by=ListClustersFilterBy(cluster_states=[State.TERMINATED]))) == []

    with pytest.raises(BadRequest, match="Invalid spark version"):
        admin_client.clusters.create(spark_version="1.0.x-scala2.10", cluster_name="x")
    with pytest.raises(BadRequest, match="not supported on aws"):
        admin_client.clusters.create(spark_version=version, node_type_id="n2-standard-4", cluster_name="x")

    admin_client.clusters.permanent_delete(c.cluster_id)
    with pytest.raises(ResourceDoesNotExist):
        admin_client.clusters.get(c.cluster_id)
    headers = {"Authorization": f"Bearer {user_pat(world)}"}
    for version_path in ("2.0", "2.1"):
        gone = requests.get(f"{sim.url}/api/{version_path}/clusters/get", params={"cluster_id": c.cluster_id},
                            headers=headers, timeout=5)
        assert gone.status_code == 400
        assert gone.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": f"Cluster {c.cluster_id} does not exist"}


def test_cluster_states_with_manual_transitions_never_report_failure(sim, world, admin_client):
    requests.put(sim.url + "/-/settings/transitions", json={"transitions": "manual"}, timeout=5)
    headers = {"Authorization": f"Bearer {user_pat(world)}"}
    wait = admin_client.clusters.create(cluster_name="m", spark_version="16.4.x-scala2.12", num_workers=0)

    def state_via_20():  # the 2.0 path answers the same
        return requests.get(f"{sim.url}/api/2.0/clusters/get?cluster_id={wait.cluster_id}", headers=headers,
                            timeout=5).json()

    first = state_via_20()
    assert first["state"] == "PENDING" and "POST /-/transitions/advance" in first["state_message"]
    requests.post(sim.url + "/-/transitions/advance", json={"id": wait.cluster_id}, timeout=5)
    assert wait.result().state == State.RUNNING
    admin_client.clusters.delete(wait.cluster_id)
    terminating = state_via_20()
    assert terminating["state"] == "TERMINATING" and terminating["termination_reason"]["code"] == "USER_REQUEST"
    requests.post(sim.url + "/-/transitions/advance", json={}, timeout=5)
    assert state_via_20()["state"] == "TERMINATED"
    admin_client.clusters.start(wait.cluster_id)
    assert state_via_20()["state"] == "PENDING"  # never TERMINATED right after start


def test_node_types_of_a_gcp_workspace_have_every_sort_field(sim, world):
    w = sdk(sim.url, token=user_pat(world, workspace_id=WS_GCP), auth_type="pat")
    types = w.clusters.list_node_types().node_types
    assert len(types) >= 3 and {t.node_type_id for t in types} >= {"n2-standard-4", "n2-highmem-4"}
    for t in types:
        d = t.as_dict()
        for key in ("is_deprecated", "num_cores", "memory_mb", "num_gpus", "instance_type_id"):
            assert d.get(key) is not None, (t.node_type_id, key)
        assert all(v is not None for v in d["node_instance_type"].values())
    assert w.clusters.select_node_type(local_disk=True) == "n2-highmem-4"
    versions = {v.key for v in w.clusters.spark_versions().versions}
    assert provisioning.SPARK_VERSION in versions
