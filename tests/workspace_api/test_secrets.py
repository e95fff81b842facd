"""Secret scopes, secrets and ACLs with the real databricks-sdk, and the raw error shapes."""
from __future__ import annotations

import base64
import logging

import pytest
import requests
from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceAlreadyExists
from databricks.sdk.service.workspace import AclPermission

from .conftest import sdk, user_pat

SECRET = "s3cr3t-value ✓"


def test_scopes_put_list_get_delete(sim, world, admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    w = admin_client
    w.secrets.create_scope("etl-creds")
    with pytest.raises(ResourceAlreadyExists, match="Scope etl-creds already exists!"):
        w.secrets.create_scope("etl-creds")
    assert [(s.name, s.backend_type.value) for s in w.secrets.list_scopes()] == [("etl-creds", "DATABRICKS")]

    w.secrets.put_secret("etl-creds", "password", string_value=SECRET)
    w.secrets.put_secret("etl-creds", "blob", bytes_value=base64.b64encode(b"\x00\xff\x10").decode())
    listed = {s.key: s.last_updated_timestamp for s in w.secrets.list_secrets("etl-creds")}
    assert listed == {"blob": int(world.clock.now() * 1000), "password": int(world.clock.now() * 1000)}
    assert base64.b64decode(w.secrets.get_secret("etl-creds", "password").value) == SECRET.encode()
    assert base64.b64decode(w.secrets.get_secret("etl-creds", "blob").value) == b"\x00\xff\x10"
    w.secrets.put_secret("etl-creds", "password", string_value="rotated")
    assert base64.b64decode(w.secrets.get_secret("etl-creds", "password").value) == b"rotated"

    w.secrets.delete_secret("etl-creds", "blob")
    with pytest.raises(NotFound):
        w.secrets.get_secret("etl-creds", "blob")
    with pytest.raises(BadRequest, match="Scope name"):
        w.secrets.create_scope("bad name!")
    with pytest.raises(BadRequest, match="Exactly one of string_value and bytes_value"):
        w.secrets.put_secret("etl-creds", "k", string_value="a", bytes_value="YQ==")

    headers = {"Authorization": f"Bearer {user_pat(world)}", "Content-Type": "text/json"}  # legacy CLI style
    missing = requests.post(sim.url + "/api/2.0/secrets/put", data='{"scope":"nope","key":"k","string_value":"v"}',
                            headers=headers, timeout=5)
    assert missing.status_code == 404
    assert missing.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Scope nope does not exist!"}
    legacy = requests.post(sim.url + "/api/2.0/secrets/put", headers=headers, timeout=5,
                           data='{"scope":"etl-creds","key":"cli","string_value":"from-cli"}')
    assert legacy.status_code == 200 and legacy.json() == {}

    w.secrets.delete_scope("etl-creds")
    assert list(w.secrets.list_scopes()) == []
    with pytest.raises(NotFound, match="Scope etl-creds does not exist!"):
        list(w.secrets.list_secrets("etl-creds"))
    assert SECRET not in caplog.text and "rotated" not in caplog.text


def test_acls_decide_what_non_admins_and_service_principals_may_do(sim, world, admin_client, sp_client,
                                                                   pat_connection):
    bob = sdk(sim.url, token=user_pat(world, "bob@acme.databricks-test.com"), auth_type="pat")
    bob.secrets.create_scope("bobs")  # the creator manages their scope
    bob.secrets.put_secret("bobs", "k", string_value="v")
    assert [a.principal for a in bob.secrets.list_acls("bobs")] == ["bob@acme.databricks-test.com"]

    admin_client.secrets.create_scope("team")
    admin_client.secrets.put_secret("team", "db", string_value="pw")
    assert [s.name for s in bob.secrets.list_scopes()] == ["bobs"]  # scopes without any permission are hidden
    with pytest.raises(PermissionDenied, match="READ permission on scope team"):
        bob.secrets.get_secret("team", "db")

    admin_client.secrets.put_acl("team", "bob@acme.databricks-test.com", AclPermission.READ)
    assert [s.name for s in bob.secrets.list_scopes()] == ["bobs", "team"]  # any ACL makes a scope listed
    assert base64.b64decode(bob.secrets.get_secret("team", "db").value) == b"pw"
    with pytest.raises(PermissionDenied, match="WRITE permission"):
        bob.secrets.put_secret("team", "db", string_value="hijack")
    acls = {a.principal: a.permission.value for a in admin_client.secrets.list_acls("team")}
    assert acls == {"ada@acme.databricks-test.com": "MANAGE", "bob@acme.databricks-test.com": "READ"}
    assert admin_client.secrets.get_acl("team", "bob@acme.databricks-test.com").permission == AclPermission.READ
    admin_client.secrets.delete_acl("team", "bob@acme.databricks-test.com")
    with pytest.raises(PermissionDenied):
        bob.secrets.get_secret("team", "db")
    with pytest.raises(NotFound):
        admin_client.secrets.get_acl("team", "bob@acme.databricks-test.com")

    app_id = pat_connection["service_principal_id"]  # a partner's service principal reads with an ACL
    with pytest.raises(PermissionDenied):
        sp_client.secrets.get_secret("team", "db")
    admin_client.secrets.put_acl("team", app_id, AclPermission.READ)
    assert base64.b64decode(sp_client.secrets.get_secret("team", "db").value) == b"pw"
