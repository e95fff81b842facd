"""Auth and identity with the real databricks-sdk, using credentials from a Partner Connect flow."""
from __future__ import annotations

import pytest
import requests
from databricks.sdk.errors import PermissionDenied

from simulator import workspaces
from simulator.partnerconnect import flows, provisioning
from simulator.workspace_api.scim import USER_SCHEMA

from ..conftest import WS_AWS, WS_GCP
from .conftest import sdk, user_pat


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


ADA, BOB, CY = ("ada@acme.databricks-test.com", "bob@acme.databricks-test.com", "cy@acme.databricks-test.com")


def test_scim_filter_selects_users_case_insensitively(admin_client):
    w = admin_client
    assert [u.user_name for u in w.users.list(filter=f'userName eq "{ADA}"')] == [ADA]
    assert [u.user_name for u in w.users.list(filter='USERNAME Eq "Ada@ACME.databricks-test.com"')] == [ADA]
    assert [u.user_name for u in w.users.list(filter='(userName sw "ada" or userName sw "CY") and active eq true')] \
        == [ADA, CY]
    assert [u.user_name for u in w.users.list(filter='emails.value ew "@acme.databricks-test.com" and '
                                                      'displayName sw "bob"')] == [BOB]
    assert [u.user_name for u in w.users.list(filter=f'userName ne "{ADA}" and emails.value pr')] == [BOB, CY]
    assert [u.user_name for u in w.users.list(filter='displayName co "zz" or active eq false')] == []
    bob_id = next(u.id for u in w.users.list(filter=f'userName eq "{BOB}"'))
    assert [u.user_name for u in w.users.list(filter=f'id eq "{bob_id}"')] == [BOB]
    assert [g.display_name for g in w.groups.list(filter='displayName eq "admins"')] == ["admins"]


def test_scim_filter_selects_service_principals_by_application_id(admin_client, sp_client, pat_connection):
    other = admin_client.service_principals.create(display_name="etl bot")
    partner_app_id = pat_connection["service_principal_id"]
    found = list(sp_client.service_principals.list(filter=f'applicationId eq "{partner_app_id}"'))
    assert [sp.application_id for sp in found] == [partner_app_id]
    found = list(sp_client.service_principals.list(filter=f'applicationId eq "{other.application_id.upper()}"'))
    assert [sp.display_name for sp in found] == ["etl bot"]  # a UUID compares case-insensitively
    assert len(list(sp_client.service_principals.list(filter='displayName co "bot" or displayName co "Partner"'))) == 2


def test_scim_filter_counts_and_pages_the_filtered_set(sim, world):
    headers = {"Authorization": f"Bearer {user_pat(world)}"}
    url = sim.url + "/api/2.0/preview/scim/v2/Users"
    two = 'userName sw "ada" or userName sw "cy"'
    first = requests.get(url, params={"filter": two, "count": 1}, headers=headers, timeout=5).json()
    assert first["totalResults"] == 2 and [u["userName"] for u in first["Resources"]] == [ADA]
    second = requests.get(url, params={"filter": two, "count": 1, "startIndex": 2}, headers=headers, timeout=5).json()
    assert second["totalResults"] == 2 and [u["userName"] for u in second["Resources"]] == [CY]
    past = requests.get(url, params={"filter": two, "startIndex": 3}, headers=headers, timeout=5).json()
    assert past["totalResults"] == 2 and past["Resources"] == []
    quoted = requests.get(url, params={"filter": r'displayName eq "say \"hi\""'}, headers=headers, timeout=5)
    assert quoted.status_code == 200 and quoted.json()["totalResults"] == 0
    slim = requests.get(url, params={"filter": f'userName eq "{ADA}"', "attributes": "userName"}, headers=headers,
                        timeout=5).json()["Resources"]
    assert slim == [{"schemas": [USER_SCHEMA], "id": slim[0]["id"], "userName": ADA}]  # id is always returned
    lean = requests.get(url, params={"excludedAttributes": "groups,emails"}, headers=headers, timeout=5).json()
    assert all("groups" not in u and "emails" not in u and u["userName"] for u in lean["Resources"])


@pytest.mark.parametrize("text,why", [
    ("garbage((", "attribute 'garbage' is not supported (supported: userName, displayName, id, applicationId, "
                  "active, emails.value)"),
    ('userName gt "a"', "operator 'gt' is not supported (supported: eq, ne, co, sw, ew, pr)"),
    ('userName eq "ada', "unterminated string at position 13"),
    ('userName eq ada', "expected a quoted string, true or false at position 13, got 'ada'"),
    ('(userName eq "a"', "expected ')' at the end"),
    ('userName eq "a" and', "expected an attribute or '(' at the end"),
    ('userName eq "a" userName eq "b"', "expected and, or or the end at position 17, got 'userName'"),
    ('active eq "true"', "active is a boolean: use active eq true|false or active ne true|false"),
    ('not (userName eq "a")', "'not' is not supported"),
    ('emails[type eq "work"]', "value filters (emails[...]) are not supported; use emails.value"),
])
def test_unsupported_scim_filters_are_400_with_the_reason(sim, world, text, why):
    headers = {"Authorization": f"Bearer {user_pat(world)}"}
    for resource in ("Users", "ServicePrincipals", "Groups"):
        resp = requests.get(f"{sim.url}/api/2.0/preview/scim/v2/{resource}", params={"filter": text},
                            headers=headers, timeout=5)
        assert resp.status_code == 400, resp.text
        assert resp.json() == {"error_code": "INVALID_PARAMETER_VALUE",
                               "message": f"Unsupported filter {text!r}: {why}"}


def test_sdk_sees_a_bad_filter_as_invalid_parameter_value(admin_client):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue, match="Unsupported filter 'garbage\\(\\(': attribute 'garbage'"):
        list(admin_client.users.list(filter="garbage(("))
