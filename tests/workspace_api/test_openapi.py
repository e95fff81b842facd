"""The simulator documents its own HTTP surface: OpenAPI JSON and a Swagger UI with local assets."""
import re

import requests


def test_openapi_lists_every_api_group(sim):
    spec = requests.get(sim.url + "/-/openapi.json", timeout=5).json()
    paths = set(spec["paths"])
    for expected in ("/oidc/v1/token", "/api/2.0/preview/scim/v2/Me", "/-/faults", "/-/run-rules"):
        assert expected in paths
    assert any("/jobs/runs/submit" in p for p in paths) and any("/sql/warehouses" in p for p in paths)


def test_swagger_ui_loads_nothing_from_a_cdn(sim):
    page = requests.get(sim.url + "/-/docs", timeout=5).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/-/swagger-ui-assets/") for s in sources), sources
    for source in sources:
        assert requests.get(sim.url + source, timeout=5).status_code == 200
