"""Self-testing partners end to end: created through the API with an admin's PAT, authorised with a
secret, visible only in their workspace, connected to a real partner double, updated and deleted."""
from __future__ import annotations

import json
import re

import pytest
import requests

from simulator import partners
from simulator.errors import Invalid, NotFound
from simulator.partnerconnect import flows
from simulator.workspace_api import selftest

from .. import partner_double
from ..conftest import WS_AWS, WS_GCP
from .conftest import sdk, user_pat

ADA = "ada@acme.databricks-test.com"
BASE = "/api/2.0/partnerhub/self-test-partners"


def cli_config(double_url: str, **overrides) -> dict:
    """What the self-testing partner CLI reads from its file (and sends verbatim)."""
    partner = {"name": "Self Test Double", "category": "INGEST", "sign_up_url": f"{double_url}/signup",
               "connect_url": f"{double_url}/pc/connect", "delete_url": f"{double_url}/pc/delete-connection",
               "terms_of_service_url": f"{double_url}/tos", "privacy_policy_url": f"{double_url}/privacy",
               "hostname": "127.0.0.1, localhost", "supported_features": ["UNITY_CATALOG"],
               "integration_type": "WAREHOUSE_READ"}
    partner.update(overrides)
    return {"partner": partner}


class Api:
    """The self-testing CLI's four calls (Bearer PAT, body sent as raw text)."""

    def __init__(self, url: str, token: str):
        self.url, self.headers = url, {"Authorization": f"Bearer {token}"}

    def create(self, config):
        return requests.post(f"{self.url}{BASE}/create", data=json.dumps(config), headers=self.headers, timeout=10)

    def get(self):
        return requests.get(f"{self.url}{BASE}/get", headers=self.headers, timeout=10)

    def update(self, partner_id, config):
        return requests.put(f"{self.url}{BASE}/update/{partner_id}", data=json.dumps(config), headers=self.headers,
                            timeout=10)

    def delete(self, partner_id):
        return requests.delete(f"{self.url}{BASE}/delete/{partner_id}", headers=self.headers, timeout=10)


def test_self_test_partner_end_to_end(sim, world, double):
    api = Api(sim.url, user_pat(world))  # ada, an admin of WS_AWS
    created = api.create(cli_config(double.url))
    assert created.status_code == 200, created.text
    partner_id = created.json()["id"]
    assert re.fullmatch(r"[0-9A-F]{15}", partner_id)
    again = api.create(cli_config(double.url, name="Another"))
    assert again.status_code == 409 and again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert "Only one self-testing partner" in again.json()["message"]
    assert api.get().json() == {"partners": [{"id": partner_id, "name": "Self Test Double"}]}
    assert Api(sim.url, user_pat(world, workspace_id=WS_GCP)).get().json() == {}  # "partners" left out

    registered = partners.get(world, "Self Test Double")
    assert (registered.source, registered.self_test_workspace_id, registered.base_url) == ("self-test", WS_AWS, double.url)
    assert registered.endpoints == {"connect_path": "/pc/connect", "delete_connection_path": "/pc/delete-connection"}
    assert registered.config["hostnames"] == ["127.0.0.1", "localhost"]
    assert registered.resource_types == {"SqlEndpoint"}

    w = sdk(sim.url, token=user_pat(world), auth_type="pat")  # the Authorization secret, as Authorization.md says
    w.secrets.create_scope("partner-connect")
    w.secrets.put_secret("partner-connect", partner_id, string_value="Bearer partner-secret-123")

    with pytest.raises(NotFound, match="only visible in workspace"):
        flows.connect(world, partner_name="Self Test Double", workspace_id=WS_GCP, user_email=ADA)
    outcome = flows.connect(world, partner_name="Self Test Double", workspace_id=WS_AWS, user_email=ADA)
    assert outcome.ok, outcome.message
    connect = double.calls("connect")[-1]
    assert connect["path"] == "/pc/connect" and connect["headers"]["Authorization"] == "Bearer partner-secret-123"
    grants = {(g["securable_type"], g["privilege"]) for g in world.store.query("SELECT * FROM grants")}
    assert grants == {("catalog", "USE_CATALOG"), ("catalog", "USE_SCHEMA"), ("catalog", "SELECT"),
                      ("sql_warehouse", "CAN_USE")}

    w.secrets.delete_secret("partner-connect", partner_id)  # no secret: no Authorization header at call time
    double.script("connect", partner_double.ok_sign_in())
    flows.connect(world, partner_name="Self Test Double", workspace_id=WS_AWS, user_email="bob@acme.databricks-test.com")
    assert "Authorization" not in double.calls("connect")[-1]["headers"]
    w.secrets.put_secret("partner-connect", partner_id, string_value="Basic dXNlcjpwdw==")

    updated = api.update(partner_id, cli_config(double.url, integration_type="WAREHOUSE_READ_WRITE"))
    assert updated.status_code == 200 and updated.json() == {}
    [notified] = double.calls("delete_connection")  # the connection went the usual way
    assert notified["headers"]["Authorization"] == "Basic dXNlcjpwdw=="
    assert notified["json"]["databricks_organization_id"] == WS_AWS
    assert flows.list_connections(world, WS_AWS) == [] and world.store.count("warehouses") == 0
    perms = [p["permission"] for p in partners.get(world, "Self Test Double").config["data_permissions"]]
    assert perms == ["USE_CATALOG", "USE_SCHEMA", "SELECT", "CREATE_SCHEMA", "CREATE_TABLE", "MODIFY"]

    assert flows.connect(world, partner_name="Self Test Double", workspace_id=WS_AWS, user_email=ADA).ok
    renamed = api.update(partner_id, cli_config(double.url, name="Renamed Double"))
    assert renamed.status_code == 200 and len(double.calls("delete_connection")) == 2
    assert api.get().json() == {"partners": [{"id": partner_id, "name": "Renamed Double"}]}
    with pytest.raises(NotFound):
        partners.get(world, "Self Test Double")
    assert partners.get(world, "Renamed Double").authorization_header() == "Basic dXNlcjpwdw=="

    assert flows.connect(world, partner_name="Renamed Double", workspace_id=WS_AWS, user_email=ADA).ok
    deleted = api.delete(partner_id)
    assert deleted.status_code == 200 and len(double.calls("delete_connection")) == 3
    assert api.get().json() == {} and flows.list_connections(world) == []
    with pytest.raises(NotFound):
        partners.get(world, "Renamed Double")
    assert api.delete(partner_id).status_code == 404
    assert api.create(cli_config(double.url)).status_code == 200  # the workspace may have a new one now


def test_self_test_api_refuses_non_admins_and_bad_configs(sim, world, double, pat_connection):
    bob = Api(sim.url, user_pat(world, "bob@acme.databricks-test.com"))
    refused = bob.create(cli_config(double.url))
    assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/json"
    assert refused.json()["message"].startswith("Workspace admin is required")
    sp = Api(sim.url, pat_connection["user_info"]["auth"]["personal_access_token"])
    assert sp.get().status_code == 403

    api = Api(sim.url, user_pat(world))
    bad = api.create({"partner": {"name": "X", "category": "INGEST", "connect_url": "ftp://x/connect",
                                  "integration_type": "EVERYTHING", "auth_options": ["AUTH_PAT", "AUTH_OAUTH_M2M"]}})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    message = bad.json()["message"]
    for expected in ("sign_up_url: is required", "hostname: is required", "connect_url: must be an absolute",
                     "integration_type: must be one of NO_INTEGRATION", "AUTH_PAT and AUTH_OAUTH_M2M cannot"):
        assert expected in message
    other_origin = api.create(cli_config(double.url, delete_url="http://elsewhere.example/delete"))
    assert other_origin.status_code == 400 and "same scheme, host and port" in other_origin.json()["message"]
    taken = api.create(cli_config(double.url, name="Double"))  # the name of a registered partner
    assert taken.status_code == 409 and taken.json() == {
        "error_code": "RESOURCE_ALREADY_EXISTS",
        "message": "A partner named 'Double' already exists in the simulator (registered with source 'cli', not a "
                   "self-testing partner); choose another name for the self-testing partner"}
    assert api.get().json() == {}
    assert partners.get(world, "Double").source == "cli"


def test_every_config_problem_is_listed_in_one_pass_including_the_category(sim, world, double):
    api = Api(sim.url, user_pat(world))
    bad = api.create({"partner": {"name": "X", "category": "BI", "connect_url": "ftp://x/connect",
                                  "integration_type": "EVERYTHING"}})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    message = bad.json()["message"]
    for expected in ("sign_up_url: is required", "connect_url: must be an absolute", "integration_type: must be one of",
                     "category: must be one of INGEST, DATA_PREP_AND_TRANSFORM, SECURITY_AND_GOVERNANCE, BI_AND_VIZ, "
                     "ML, DATA_QUALITY, REVERSE_ETL, SEMANTIC_LAYER, DATA_GOVERNANCE (got 'BI')"):
        assert expected in message, message
    only_category = api.create(cli_config(double.url, category="BI"))
    assert only_category.status_code == 400
    assert only_category.json()["message"] == ("invalid self-testing partner config:\n  - category: must be one of "
                                               "INGEST, DATA_PREP_AND_TRANSFORM, SECURITY_AND_GOVERNANCE, BI_AND_VIZ, "
                                               "ML, DATA_QUALITY, REVERSE_ETL, SEMANTIC_LAYER, DATA_GOVERNANCE "
                                               "(got 'BI')")
    with pytest.raises(Invalid, match="category: must be one of"):
        selftest.translate(cli_config(double.url, category="BI"), workspace=WS_AWS, partner_id="A")


def test_self_test_names_never_take_over_or_get_taken_over(sim, world, double):
    from databricks.sdk.errors import ResourceAlreadyExists

    aws, gcp = Api(sim.url, user_pat(world)), Api(sim.url, user_pat(world, workspace_id=WS_GCP))
    partner_id = aws.create(cli_config(double.url)).json()["id"]
    other_ws = gcp.create(cli_config(double.url))  # another workspace's self-testing partner has the name
    assert other_ws.status_code == 409 and other_ws.json()["message"] == (
        "A partner named 'Self Test Double' already exists in the simulator (the self-testing partner of another "
        "workspace); choose another name for the self-testing partner")
    gcp_id = gcp.create(cli_config(double.url, name="GCP Double")).json()["id"]
    renamed = gcp.update(gcp_id, cli_config(double.url))  # nor by renaming
    assert renamed.status_code == 409 and "the self-testing partner of another workspace" in renamed.json()["message"]
    assert partners.get(world, "Self Test Double").self_test_workspace_id == WS_AWS
    w = sdk(sim.url, token=user_pat(world, workspace_id=WS_GCP), auth_type="pat")  # what the SDK makes of the 409
    with pytest.raises(ResourceAlreadyExists, match="self-testing partner of another workspace"):
        w.api_client.do("PUT", f"{BASE}/update/{gcp_id}", body=cli_config(double.url))

    # a partner registered over the self-testing one (an older `pcsim partners add --replace`, a scenario
    # run) is no longer the self-test API's: it is neither updated back nor deleted through it
    partners.register(world, partner_double.config(double.url, name="Self Test Double"), replace=True)
    assert aws.get().json() == {}
    assert aws.update(partner_id, cli_config(double.url)).status_code == 404
    assert aws.delete(partner_id).status_code == 404
    taken = aws.create(cli_config(double.url))
    assert taken.status_code == 409
    assert "registered with source 'cli', not a self-testing partner" in taken.json()["message"]
    survivor = partners.get(world, "Self Test Double")
    assert (survivor.source, survivor.self_test_workspace_id) == ("cli", None)
    assert aws.create(cli_config(double.url, name="Mine")).status_code == 200  # the workspace may have a new one


@pytest.mark.parametrize("integration_type,resources,data,objects", [
    ("NO_INTEGRATION", [], [], []),
    ("CLUSTER_COMPUTE", ["InteractiveCluster"], [], [("Cluster", "CAN_MANAGE")]),
    ("WAREHOUSE_READ", ["SqlEndpoint"], ["USE_CATALOG", "USE_SCHEMA", "SELECT"], [("SQL_Endpoint", "CAN_USE")]),
    ("WAREHOUSE_WRITE", ["SqlEndpoint", "DestLocation"],
     ["USE_CATALOG", "USE_SCHEMA", "CREATE_SCHEMA", "CREATE_TABLE", "MODIFY"], [("SQL_Endpoint", "CAN_USE")]),
    ("WAREHOUSE_READ_WRITE", ["SqlEndpoint", "DestLocation"],
     ["USE_CATALOG", "USE_SCHEMA", "SELECT", "CREATE_SCHEMA", "CREATE_TABLE", "MODIFY"], [("SQL_Endpoint", "CAN_USE")]),
    ("WORKSPACE_MANAGEMENT", ["PAT"], [], [("Job", "CAN_MANAGE"), ("Pool", "CAN_MANAGE")]),
])
def test_integration_types_decide_what_is_provisioned(integration_type, resources, data, objects):
    cfg = cli_config("https://partner.example", integration_type=integration_type,
                     supported_features=["UNITY_CATALOG", "EXTERNAL_LOCATION"])
    config = selftest.translate(cfg, workspace=WS_AWS, partner_id="363E6E44B000020")
    partners.validate_config(config)  # a valid certification-format config
    assert [r["resource_type"] for r in config["resources_to_provision"]] == resources
    assert [p["permission"] for p in config["data_permissions"]] == data
    assert [(o["name"], o["level"]) for o in config["object_permissions"]] == objects
    assert config["base_url"] == "https://partner.example" and config["endpoints"]["connect_path"] == "/pc/connect"


def test_legacy_privileges_without_unity_catalog_and_oauth_options():
    cfg = cli_config("http://localhost:5000", supported_features=[], integration_type="WAREHOUSE_READ_WRITE",
                     auth_options=["AUTH_OAUTH_M2M"])
    config = selftest.translate(cfg["partner"], workspace=WS_AWS, partner_id="363E6E44B000020")
    assert [p["permission"] for p in config["data_permissions"]] == ["USAGE", "SELECT", "READ_METADATA", "CREATE",
                                                                     "MODIFY"]
    assert config["auth_options"] == ["AUTH_OAUTH_M2M"] and config["base_url"] == "http://localhost:5000"
    with pytest.raises(Invalid, match="supported_features"):
        selftest.translate(cli_config("http://x", supported_features=["TELEPORT"]), workspace=1, partner_id="A")
