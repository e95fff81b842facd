"""Auth and identity with the real databricks-sdk, using credentials from a Partner Connect flow."""
from __future__ import annotations

import pytest
import requests
from databricks.sdk.errors import PermissionDenied

from simulator import workspaces
from simulator.partnerconnect import flows, provisioning

from ..conftest import WS_AWS, WS_GCP
from .conftest import sdk


def test_service_principal_pat_reads_current_user(sp_client, pat_connection):
    me = sp_client.current_user.me()
    assert me.user_name == pat_connection["service_principal_id"]
    assert sp_client.get_workspace_id() == WS_AWS  # from X-Databricks-Org-Id, exact 64-bit


def test_user_pat_and_scim_lists(sim, world):
    with world.store.atomic() as db:
        user = workspaces.get_user(world, "ada@acme.databricks-test.com")
        pat, _ = provisioning.mint_pat(world, db, workspace_id=WS_AWS, owner_kind="user", owner_id=user["id"],
                                       comment="test")
    w = sdk(sim.url, token=pat, auth_type="pat")
    me = w.current_user.me()
    assert me.user_name == "ada@acme.databricks-test.com" and int(me.id) == user["aws_user_id"]
    assert any(g.display == "admins" for g in me.groups)
    emails = sorted(u.user_name for u in w.users.list())
    assert emails == ["ada@acme.databricks-test.com", "bob@acme.databricks-test.com", "cy@acme.databricks-test.com"]
    created = w.service_principals.create(display_name="etl bot")
    assert any(sp.application_id == created.application_id for sp in w.service_principals.list())
    w.service_principals.delete(created.id)
    assert {g.display_name for g in w.groups.list()} == {"admins", "users"}


def test_oauth_m2m_client_and_token_refresh(sim, world, m2m_connection):
    assert "personal_access_token" not in m2m_connection["user_info"].get("auth", {})
    world.settings.oauth_token_lifetime_s = 30  # < the SDK's 40 s margin: every call fetches a new token
    w = sdk(sim.url, client_id=m2m_connection["service_principal_id"],
            client_secret=m2m_connection["service_principal_oauth_secret"], auth_type="oauth-m2m")
    assert w.current_user.me().user_name == m2m_connection["service_principal_id"]
    assert w.current_user.me().user_name == m2m_connection["service_principal_id"]
    assert world.store.count("access_tokens") >= 2


def test_oauth_token_expires_on_the_simulator_clock(sim, world, m2m_connection):
    resp = requests.post(sim.url + "/oidc/v1/token", data={"grant_type": "client_credentials", "scope": "all-apis"},
                         auth=(m2m_connection["service_principal_id"], m2m_connection["service_principal_oauth_secret"]),
                         timeout=5)
    token = resp.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(sim.url + "/api/2.0/preview/scim/v2/Me", headers=headers, timeout=5).status_code == 200
    world.clock.advance(3601)
    expired = requests.get(sim.url + "/api/2.0/preview/scim/v2/Me", headers=headers, timeout=5)
    assert expired.status_code == 403 and expired.json() == {"error_code": "PERMISSION_DENIED",
                                                             "message": "Invalid access token."}
    bad = requests.post(sim.url + "/oidc/v1/token", data={"grant_type": "client_credentials"},
                        auth=(m2m_connection["service_principal_id"], "dose" + "0" * 32), timeout=5)
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"


def test_pat_stops_working_after_connection_is_deleted(sp_client, world):
    assert sp_client.current_user.me()
    flows.delete_connection(world, partner_name="Double", workspace_id=WS_AWS)
    with pytest.raises(PermissionDenied):
        sp_client.current_user.me()


def test_token_of_workspace_a_is_refused_in_workspace_b(sim, pat_connection):
    pat = pat_connection["user_info"]["auth"]["personal_access_token"]
    w = sdk(f"{sim.url}/w/{WS_AWS}", token=pat, auth_type="pat")
    assert w.current_user.me().user_name == pat_connection["service_principal_id"]
    foreign = sdk(f"{sim.url}/w/{WS_GCP}", token=pat, auth_type="pat")
    with pytest.raises(PermissionDenied):
        foreign.current_user.me()
    header = requests.get(sim.url + "/api/2.0/preview/scim/v2/Me", timeout=5,
                          headers={"Authorization": f"Bearer {pat}", "X-Databricks-Workspace-Id": str(WS_GCP)})
    assert header.status_code == 403
