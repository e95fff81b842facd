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
    ("none", "POST", "/-/clock/advance", '{"seconds": 1e400}', 400, "INVALID_PARAMETER_VALUE", "finite number"),
    ("none", "GET", "/-/nope", None, 404, "NOT_FOUND", ""),
    ("none", "GET", "/.well-known/databricks-config?o=42", None, 404, "RESOURCE_DOES_NOT_EXIST", "Workspace 42"),
    # control API fields of the wrong type: 400 naming the field, never a 500 or a bare Infinity
    ("none", "POST", "/-/faults", {"path": "/x", "status": 500, "method": 5}, 400, "INVALID_PARAMETER_VALUE",
     "fault method must be an HTTP method"),
    ("none", "POST", "/-/faults", {"path": "/x", "drop": "yes"}, 400, "INVALID_PARAMETER_VALUE",
     "drop must be a JSON boolean (true/false), got \"yes\""),
    ("none", "POST", "/-/faults", {"path": "/x", "status": 500, "timeout": 1}, 400, "INVALID_PARAMETER_VALUE",
     "timeout must be a JSON boolean"),
    ("none", "POST", "/-/faults", '{"path": "/x", "status": 500, "body": {"n": NaN}}', 400,
     "INVALID_PARAMETER_VALUE", "no NaN or Infinity"),
    ("none", "POST", "/-/run-rules", {"match": 5}, 400, "INVALID_PARAMETER_VALUE", "match must be a JSON object"),
    ("none", "POST", "/-/run-rules", {"match": {"task_key": 5}}, 400, "INVALID_PARAMETER_VALUE",
     "match.task_key must be a string"),
    ("none", "POST", "/-/run-rules", '{"match": {}, "pending_s": 1e400}', 400, "INVALID_PARAMETER_VALUE",
     "pending_s must be a finite, non-negative number of seconds"),
    ("none", "POST", "/-/run-rules", '{"duration_s": NaN}', 400, "INVALID_PARAMETER_VALUE", "finite"),
    ("none", "POST", "/-/run-rules", {"error": ["x"]}, 400, "INVALID_PARAMETER_VALUE", "error must be a string"),
    ("none", "PUT", "/-/settings/transitions", '{"transition_delay_s": 1e400}', 400, "INVALID_PARAMETER_VALUE",
     "transition_delay_s must be a finite number"),
    ("none", "POST", "/-/commands/script", {"match": "x", "workspace_id": "abc"}, 400, "INVALID_PARAMETER_VALUE",
     "workspace_id must be a positive 64-bit integer"),
    ("none", "POST", "/-/commands/script", {"match": "x", "language": 5}, 400, "INVALID_PARAMETER_VALUE",
     "language must be one of python, scala, sql, r, got 5"),
    ("none", "POST", "/-/commands/script", {"match": "x", "cluster_id": 5}, 400, "INVALID_PARAMETER_VALUE",
     "cluster_id must be a string"),
    ("none", "DELETE", "/-/commands/script?id=abc", None, 400, "INVALID_PARAMETER_VALUE", "id must be of type int"),
    ("none", "GET", "/-/exchanges?workspace_id=abc", None, 400, "INVALID_PARAMETER_VALUE", "workspace_id must be"),
    ("none", "GET", "/-/exchanges.har?last=x", None, 400, "INVALID_PARAMETER_VALUE", "last must be a whole number"),
]

BIG = 2**63  # one more than SQLite's INTEGER holds: binding it raised OverflowError (a 500)
INT64_CASES = [
    # who, method, path, body, status, error_code, message fragment
    ("none", "GET", f"/.well-known/databricks-config?o={BIG}", None, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "GET", f"/w/{BIG}/api/2.0/preview/scim/v2/Me", None, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "GET", f"/api/2.0/preview/scim/v2/Me?o={BIG}", None, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    ("none", "GET", f"/-/exchanges?workspace_id={BIG}", None, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    ("none", "GET", f"/-/exchanges.har?workspace_id={BIG}", None, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    ("none", "DELETE", f"/-/faults/{BIG}", None, 404, "RESOURCE_DOES_NOT_EXIST", f"no fault rule {BIG}"),
    ("none", "POST", "/-/faults", {"path": "/x", "status": 500, "workspace_id": BIG}, 400,
     "INVALID_PARAMETER_VALUE", "workspace_id must be a non-negative integer of at most 64 bits"),
    ("none", "POST", "/-/faults", {"path": "/x", "status": 500, "probability": 0.5, "seed": BIG}, 400,
     "INVALID_PARAMETER_VALUE", "seed must be a non-negative integer of at most 64 bits"),
    ("none", "POST", "/-/commands/script", {"match": "x", "workspace_id": BIG}, 400, "INVALID_PARAMETER_VALUE",
     "64-bit"),
    (SP, "GET", f"/api/2.1/jobs/runs/get?run_id={BIG}", None, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "GET", f"/api/2.0/jobs/runs/get-output?run_id={BIG}", None, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "POST", "/api/2.1/jobs/runs/cancel", {"run_id": BIG}, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "GET", f"/api/2.1/jobs/runs/list?job_id={BIG}", None, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "GET", f"/api/2.2/jobs/get?job_id={BIG}", None, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "POST", "/api/2.1/jobs/delete", {"job_id": BIG}, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "POST", "/api/2.1/jobs/reset", {"job_id": BIG, "new_settings": {}}, 400, "INVALID_PARAMETER_VALUE",
     "64-bit"),
    (SP, "POST", "/api/2.1/jobs/update", {"job_id": BIG}, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "POST", "/api/2.1/jobs/run-now", {"job_id": BIG}, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
    (SP, "POST", "/api/2.1/jobs/run-now", {"job_id": -BIG - 1}, 400, "INVALID_PARAMETER_VALUE", "64-bit"),
]


@pytest.mark.parametrize("cases", [CASES, INT64_CASES], ids=["error-paths", "ids-beyond-64-bits"])
def test_every_error_path_answers_the_databricks_shape(sim, pat_connection, cases):
    token = pat_connection["user_info"]["auth"]["personal_access_token"]
    auth = {"none": {}, "basic": {"Authorization": "Basic eDp5"}, "bogus": {"Authorization": "Bearer dapi" + "0" * 32},
            SP: {"Authorization": f"Bearer {token}"}}
    wrong = []
    for who, method, path, body, status, code, fragment in cases:
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


def test_the_run_page_of_a_run_id_beyond_64_bits_is_not_found(sim):
    resp = requests.get(f"{sim.url}/-/runs/{BIG}", timeout=5)
    assert resp.status_code == 404 and f"Run {BIG} does not exist." in resp.text


def test_an_unchecked_overflow_is_a_400_not_a_500(sim, pat_connection, monkeypatch):
    """The safety net: a number SQLite cannot bind, wherever it slips through, is the request's fault."""
    from simulator.jobs import model

    def overflow(*args, **kwargs):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")
    monkeypatch.setattr(model, "get_run", overflow)
    token = pat_connection["user_info"]["auth"]["personal_access_token"]
    resp = requests.get(f"{sim.url}/api/2.1/jobs/runs/get?run_id=1", headers={"Authorization": f"Bearer {token}"},
                        timeout=5)
    assert resp.status_code == 400 and resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert set(resp.json()) == {"error_code", "message"} and "integers must fit in 64 bits" in resp.json()["message"]
