"""The tile dialog's plan (what "Connect" would provision) and desktop partners (connection files,
configs without a connect endpoint)."""
from __future__ import annotations

import json

import pytest

from simulator import partners, workspaces
from simulator.errors import Invalid, NotFound
from simulator.partnerconnect import desktop, flows, provisioning
from simulator.partnerconnect.plan import NEW, plan
from simulator.partnerconnect.wire import PartnerConfigSchema, validate_against

from . import partner_double
from .conftest import WS_AWS, WS_GCP

CONFIGS = {
    "warehouse_pat": {},
    "cluster_m2m_u2m": {"resources_to_provision": [{"resource_type": "InteractiveCluster"}],
                        "auth_options": ["AUTH_OAUTH_M2M", "AUTH_OAUTH_U2M"],
                        "object_permissions": [{"name": "Cluster", "level": "CAN_RESTART"},
                                               {"name": "Job", "level": "CAN_MANAGE"}]},
    "both_computes": {"resources_to_provision": [{"resource_type": "SqlEndpoint"},
                                                 {"resource_type": "InteractiveCluster"},
                                                 {"resource_type": "DestLocation"}],
                      "object_permissions": [{"name": "SQL_Endpoint", "level": "CAN_USE"},
                                             {"name": "Cluster", "level": "CAN_ATTACH_TO"}]},
    "no_data": {"resources_to_provision": [{"resource_type": "PAT"}], "data_permissions": [],
                "object_permissions": []},
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("catalog", ["sales", None])
def test_plan_matches_what_provision_creates(world, name, catalog):
    partner = partners.register(world, partner_double.config("http://127.0.0.1:9", **CONFIGS[name]))
    workspace = workspaces.get_workspace(world, WS_AWS)
    expected = plan(partner, workspace, catalog)
    with world.store.atomic() as db:
        db["connections"].insert({"partner_name": partner.name, "workspace_id": WS_AWS, "status": "pending",
                                  "created_at": 0.0})
        made = provisioning.provision(world, db, partner=partner, workspace=workspace, connection_id=1,
                                      catalog_name=catalog).summary()
    assert expected.service_principal == made["service_principal"]["display_name"]
    assert bool(made["pat"]) == any("Personal access token" in c for c in expected.credentials)
    assert bool(made["oauth_secret"]) == any("M2M" in c for c in expected.credentials)
    assert bool(made["oauth_u2m_app_id"]) == any("U2M" in c for c in expected.credentials)
    assert (expected.warehouse or {}).get("name") == (made["warehouse"] or {}).get("name")
    assert (expected.cluster or {}).get("name") == (made["cluster"] or {}).get("name")
    ids = [c["id"] for c in (made["warehouse"], made["cluster"]) if c]
    actual = made["grants"]
    for compute_id in ids:
        actual = [g.replace(compute_id, NEW) for g in actual]
    assert expected.grants == actual


def test_plan_writes_nothing(world):
    partner = partners.register(world, partner_double.config("http://127.0.0.1:9"))
    before = {t: world.store.count(t) for t in ("service_principals", "tokens", "warehouses", "grants")}
    plan(partner, workspaces.get_workspace(world, WS_GCP), "main")
    assert {t: world.store.count(t) for t in before} == before


def desktop_config(**overrides):
    return partner_double.config("http://127.0.0.1:9", name="Desk", endpoints={}, pcsim={"desktop": True},
                                 **overrides)


def test_desktop_config_may_omit_connect_path_others_may_not():
    assert validate_against(PartnerConfigSchema, desktop_config())[1] == []
    cfg = partner_double.config("http://127.0.0.1:9")
    del cfg["endpoints"]["connect_path"]
    assert [str(v) for v in validate_against(PartnerConfigSchema, cfg)[1]] == \
        ["endpoints.connect_path: is required (got nothing (field absent))"]
    cfg["pcsim"]["desktop"] = "yes"
    messages = [str(v) for v in validate_against(PartnerConfigSchema, cfg)[1]]
    assert "endpoints.connect_path: is required (got nothing (field absent))" in messages
    assert any(m.startswith("pcsim.desktop: must be a JSON boolean") for m in messages)


def test_desktop_partner_cannot_be_connected_through_the_api(world):
    partners.register(world, desktop_config())
    with pytest.raises(Invalid, match="has no connect endpoint"):
        flows.connect(world, partner_name="Desk", workspace_id=WS_AWS, user_email="ada@acme.databricks-test.com")


def test_starter_warehouse_is_created_once_and_is_no_connection_resource(world):
    first = desktop.ensure_starter_warehouse(world, WS_AWS)
    again = desktop.ensure_starter_warehouse(world, WS_AWS)
    assert first["id"] == again["id"] and first["connection_id"] is None
    assert world.store.count("warehouses", "workspace_id = ?", (WS_AWS,)) == 1
    assert desktop.compute(world, WS_AWS) == [{"kind": "warehouse", "id": first["id"], "name": "Starter Warehouse"}]
    assert desktop.compute(world, WS_GCP) == []


def test_connection_file_for_a_cluster(world):
    partners.register(world, desktop_config())
    with world.store.atomic() as db:
        db["clusters"].insert({"id": "0101-000000-abcdefgh", "workspace_id": WS_GCP, "name": "Shared",
                               "spark_version": "x", "node_type_id": "y", "created_at": 0.0})
    filename, content_type, data = desktop.connection_file(world, "Desk", WS_GCP, "0101-000000-abcdefgh")
    body = json.loads(data)
    assert filename == f"desk-{WS_GCP}-0101-000000-abcdefgh.json" and content_type == "application/json"
    assert body["workspace_id"] == WS_GCP and body["compute"]["type"] == "cluster"
    assert body["http_path"] == f"sql/protocolv1/o/{WS_GCP}/0101-000000-abcdefgh"
    assert (body["hostname"], body["port"]) == ("127.0.0.1", 9999)


def test_connection_file_errors(world, double_partner):
    partners.register(world, desktop_config())
    with pytest.raises(NotFound, match="no SQL warehouse or cluster 'nope'"):
        desktop.connection_file(world, "Desk", WS_AWS, "nope")
    with pytest.raises(Invalid, match="choose a SQL warehouse or cluster"):
        desktop.connection_file(world, "Desk", WS_AWS, "")
    with pytest.raises(Invalid, match="is not a desktop tool"):
        desktop.connection_file(world, "Double", WS_AWS, "x")
