"""Personal access tokens and token management with the real databricks-sdk."""
from __future__ import annotations

import re

import pytest
import requests
from databricks.sdk.errors import NotFound, PermissionDenied

from simulator import workspaces
from simulator.partnerconnect.provisioning import secret_hash

from .conftest import sdk, user_pat

ADA = "ada@acme.databricks-test.com"


def test_own_tokens_create_list_expire_and_delete(sim, world, admin_client):
    short = admin_client.tokens.create(comment="ci", lifetime_seconds=3600)
    forever = admin_client.tokens.create(comment="forever")
    assert re.fullmatch(r"dapi[0-9a-f]{32}", short.token_value)
    assert re.fullmatch(r"[0-9a-f]{64}", short.token_info.token_id)
    assert short.token_info.creation_time == int(world.clock.now() * 1000)
    assert short.token_info.expiry_time - short.token_info.creation_time == 3_600_000
    assert forever.token_info.expiry_time == -1

    assert sdk(sim.url, token=short.token_value, auth_type="pat").current_user.me().user_name == ADA
    listed = {t.token_id: t for t in admin_client.tokens.list()}
    assert {short.token_info.token_id, forever.token_info.token_id} <= set(listed)
    assert listed[short.token_info.token_id].comment == "ci"
    raw = requests.get(sim.url + "/api/2.0/token/list", headers={"Authorization": f"Bearer {forever.token_value}"},
                       timeout=5)
    assert short.token_value not in raw.text and "token_value" not in raw.text
    row = world.store.one("SELECT * FROM tokens WHERE token_id = ?", (short.token_info.token_id,))
    assert row["token_hash"] == secret_hash(short.token_value) and short.token_value not in str(row)

    world.clock.advance(3601)  # the simulator clock expires the short token
    with pytest.raises(PermissionDenied):
        sdk(sim.url, token=short.token_value, auth_type="pat").current_user.me()
    assert short.token_info.token_id not in {t.token_id for t in admin_client.tokens.list()}

    admin_client.tokens.delete(forever.token_info.token_id)
    with pytest.raises(PermissionDenied):
        sdk(sim.url, token=forever.token_value, auth_type="pat").current_user.me()
    with pytest.raises(NotFound):
        admin_client.tokens.delete(forever.token_info.token_id)


def test_service_principal_sees_its_partner_connect_pat_and_makes_more(sim, sp_client, pat_connection):
    [pc_token] = sp_client.tokens.list()
    assert pc_token.comment == "Partner Connect: Double" and pc_token.expiry_time == -1
    extra = sp_client.tokens.create(comment="rotation", lifetime_seconds=600)
    again = sdk(sim.url, token=extra.token_value, auth_type="pat")
    assert again.current_user.me().user_name == pat_connection["service_principal_id"]
    assert len(sp_client.tokens.list()) == 2


def test_on_behalf_of_tokens_for_service_principals(sim, world, admin_client, sp_client, pat_connection):
    app_id = pat_connection["service_principal_id"]
    sp_row = world.store.one("SELECT id FROM service_principals WHERE application_id = ?", (app_id,))
    ada = workspaces.get_user(world, ADA)
    obo = admin_client.token_management.create_obo_token(application_id=app_id, comment="obo", lifetime_seconds=600)
    info = obo.token_info
    assert (info.owner_id, info.created_by_username, info.created_by_id, info.comment) == \
        (sp_row["id"], ADA, ada["aws_user_id"], "obo")
    assert info.expiry_time - info.creation_time == 600_000
    assert sdk(sim.url, token=obo.token_value, auth_type="pat").current_user.me().user_name == app_id

    everything = {t.token_id: t for t in admin_client.token_management.list()}
    assert info.token_id in everything
    pc_tokens = [t for t in everything.values() if t.comment == "Partner Connect: Double"]
    assert len(pc_tokens) == 1 and pc_tokens[0].owner_id == sp_row["id"]
    assert [t.token_id for t in admin_client.token_management.list(created_by_username=ADA)
            if t.comment == "obo"] == [info.token_id]
    assert admin_client.token_management.get(info.token_id).token_info.comment == "obo"

    admin_client.token_management.delete(info.token_id)
    with pytest.raises(PermissionDenied):
        sdk(sim.url, token=obo.token_value, auth_type="pat").current_user.me()
    with pytest.raises(NotFound):
        admin_client.token_management.get(info.token_id)
    with pytest.raises(NotFound):
        admin_client.token_management.create_obo_token(application_id="00000000-0000-4000-8000-000000000000")

    with pytest.raises(PermissionDenied, match="Only workspace admins"):
        list(sp_client.token_management.list())
    bob = sdk(sim.url, token=user_pat(world, "bob@acme.databricks-test.com"), auth_type="pat")
    with pytest.raises(PermissionDenied):
        bob.token_management.create_obo_token(application_id=app_id)
