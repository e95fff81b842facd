"""One test pins the error shape of every error path of the simulator's HTTP surface: each answer
is JSON ``{"error_code": str, "message": str}`` (nothing else, no stack trace) with the status
Databricks uses; the OAuth token endpoint alone answers in OAuth's ``{"error", "error_description"}``."""
from __future__ import annotations

import pytest
import requests

from ..conftest import WS_GCP

SP = "sp"
CASES = [
    # who, method, path, body, status, error_code, message fragment
    ("none", "GET", "/api/2.0/preview/scim/v2/Me", None, 401, "UNAUTHENTICATED", "Missing Authorization"),
    ("basic", "GET", "/api/2.0/preview/scim/v2/Me", None, 401, "UNAUTHENTICATED", "Malformed Authorization"),
    ("bogus", "GET", "/api/2.0/preview/scim/v2/Me", None, 403, "PERMISSION_DENIED", "Invalid access token."),
    (SP, "GET", f"/w/{WS_GCP}/api/2.0/preview/scim/v2/Me", None, 403, "PERMISSION_DENIED", "Invalid access token."),
    (SP, "GET", "/api/2.0/nope", None, 501, "NOT_IMPLEMENTED", "GET /api/2.0/nope"),
    (SP, "DELETE", "/api/2.0/preview/scim/v2/Me", None, 501, "NOT_IMPLEMENTED", "DELETE /api/2.0/preview/scim/v2/Me"),
    (SP, "POST", "/api/2.1/jobs/runs/submit", "{", 400, "MALFORMED_REQUEST", "not valid JSON"),
    (SP, "POST", "/api/2.1/jobs/runs/submit", "[1]", 400, "MALFORMED_REQUEST", "must be a JSON object"),
    (SP, "POST", "/api/2.1/jobs/runs/submit", {"tasks": []}, 400, "INVALID_PARAMETER_VALUE", "tasks must be"),
    (SP, "GET", "/api/2.0/preview/scim/v2/Users/123", None, 404, "RESOURCE_DOES_NOT_EXIST", "User 123"),
    (SP, "POST", "/api/2.0/preview/scim/v2/Users", {"userName": "x@y.com"}, 403, "PERMISSION_DENIED", "admins"),
    (SP, "GET", "/api/2.0/sql/warehouses/0000000000000000", None, 404, "RESOURCE_DOES_NOT_EXIST", "0000000000000000"),
    (SP, "POST", "/api/2.0/sql/warehouses", {"name": "x"}, 403, "PERMISSION_DENIED", "not allowed"),
    (SP, "GET", "/api/2.1/clusters/get?cluster_id=nope", None, 400, "INVALID_PARAMETER_VALUE", "Cluster nope does not exist"),
    (SP, "GET", "/api/2.0/clusters/get?cluster_id=nope", None, 400, "INVALID_PARAMETER_VALUE", "Cluster nope does not exist"),
    (SP, "POST", "/api/2.1/clusters/start", {}, 400, "INVALID_PARAMETER_VALUE", "cluster_id"),
    (SP, "GET", "/api/2.1/jobs/runs/get?run_id=1", None, 400, "INVALID_PARAMETER_VALUE", "Run 1 does not exist"),
    (SP, "GET", "/api/2.1/jobs/runs/get", None, 400, "INVALID_PARAMETER_VALUE", "run_id"),
    (SP, "GET", "/api/2.2/jobs/get?job_id=1", None, 400, "INVALID_PARAMETER_VALUE", "Job 1 does not exist"),
    (SP, "GET", "/api/2.0/jobs/runs/get-output?run_id=1", None, 400, "INVALID_PARAMETER_VALUE", "Run 1 does not exist"),
    (SP, "POST", "/api/2.0/token/delete", {"token_id": "abc"}, 404, "RESOURCE_DOES_NOT_EXIST", "abc"),
    (SP, "GET", "/api/2.0/token-management/tokens", None, 403, "PERMISSION_DENIED", "admins"),
    (SP, "GET", "/api/2.0/secrets/list?scope=nope", None, 404, "RESOURCE_DOES_NOT_EXIST", "Scope nope does not exist!"),
    (SP, "POST", "/api/2.0/secrets/put", {"scope": "nope", "key": "k", "string_value": "v"}, 404,
     "RESOURCE_DOES_NOT_EXIST", "Scope nope"),
    (SP, "GET", "/api/2.0/sql/statements/nope", None, 404, "RESOURCE_DOES_NOT_EXIST", "Statement nope"),
    (SP, "POST", "/api/2.0/sql/statements", {"statement": "select 1"}, 400, "INVALID_PARAMETER_VALUE", "warehouse_id"),
    (SP, "POST", "/api/2.0/sql/statements", {"statement": "select 1", "warehouse_id": "nope"}, 404,
     "RESOURCE_DOES_NOT_EXIST", "SQL warehouse nope"),
    (SP, "GET", "/api/1.2/contexts/status?clusterId=nope&contextId=1", None, 400, "INVALID_PARAMETER_VALUE", "Cluster nope"),
    (SP, "POST", "/api/1.2/commands/execute", {"clusterId": "nope", "contextId": "1", "language": "sql",
                                              "command": "select 1"}, 400, "INVALID_PARAMETER_VALUE", "Cluster nope"),
    (SP, "GET", "/api/2.1/unity-catalog/catalogs/nope", None, 404, "CATALOG_DOES_NOT_EXIST", "Catalog 'nope'"),
    (SP, "GET", "/api/2.1/unity-catalog/permissions/CATALOG/nope", None, 404, "CATALOG_DOES_NOT_EXIST", "'nope'"),
    (SP, "POST", "/api/2.0/partnerhub/self-test-partners/create", {"partner": {}}, 403, "PERMISSION_DENIED", "admin"),
    ("none", "POST", "/-/faults", {"path": "x"}, 400, "INVALID_PARAMETER_VALUE", "starting with '/'"),
    ("none", "POST", "/-/run-rules", {"bogus": 1}, 400, "INVALID_PARAMETER_VALUE", "bogus"),
    ("none", "POST", "/-/transitions/advance", {"id": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST", "nope"),
    ("none", "GET", "/-/nope", None, 404, "NOT_FOUND", ""),
    ("none", "GET", "/.well-known/databricks-config?o=42", None, 404, "RESOURCE_DOES_NOT_EXIST", "Workspace 42"),
]


def test_every_error_path_answers_the_databricks_shape(sim, pat_connection):
    token = pat_connection["user_info"]["auth"]["personal_access_token"]
    auth = {"none": {}, "basic": {"Authorization": "Basic eDp5"}, "bogus": {"Authorization": "Bearer dapi" + "0" * 32},
            SP: {"Authorization": f"Bearer {token}"}}
    wrong = []
    for who, method, path, body, status, code, fragment in CASES:
        kwargs = {"data": body} if isinstance(body, str) else {"json": body} if body is not None else {}
        resp = requests.request(method, sim.url + path, headers=auth[who], timeout=5, **kwargs)
        got = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else resp.text
        ok = (resp.status_code == status and isinstance(got, dict) and set(got) == {"error_code", "message"}
              and got["error_code"] == code and isinstance(got["message"], str) and fragment in got["message"]
              and "Traceback" not in resp.text)
        if not ok:
            wrong.append(f"{method} {path}: expected {status} {code} ~{fragment!r}, got {resp.status_code} {got!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("form,auth,status,error", [
    ({"grant_type": "password"}, None, 400, "unsupported_grant_type"),
    ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, ("nobody", "dose" + "1" * 32), 401, "invalid_client"),
])
def test_oauth_token_errors_use_the_oauth_shape(sim, form, auth, status, error):
    resp = requests.post(sim.url + "/oidc/v1/token", data=form, auth=auth, timeout=5)
    assert resp.status_code == status and resp.headers["Content-Type"] == "application/json"
    assert set(resp.json()) == {"error", "error_description"} and resp.json()["error"] == error
