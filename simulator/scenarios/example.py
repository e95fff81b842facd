"""The bundled example partner, started in a thread for scenario runs, certification and the
pytest plugin (``--with-example-partner``, the ``example_partner`` fixture)."""
from __future__ import annotations

import copy
from pathlib import Path

from .. import fixtures, partners
from ..httpserver import ServerThread

# The example partner's config, for installs without the repository's fixtures/ directory.
BUILTIN_EXAMPLE_CONFIG = {
    "api_version": "2.1.1",
    "name": "Example Partner",
    "description_blurb": "The simulator's own example partner: a tiny ingestion service.",
    "category": "INGEST",
    "base_url": "http://127.0.0.1:8484",
    "endpoints": {
        "connect_path": "/partnerconnect/v1/connect",
        "get_connectors_path": "/partnerconnect/v1/connectors",
        "test_connection_path": "/partnerconnect/v1/test-connection",
        "delete_account_path": "/partnerconnect/v1/delete-account",
        "expire_account_path": "/partnerconnect/v1/expire-account",
        "delete_connection_path": "/partnerconnect/v1/delete-connection",
    },
    "sign_up_page": "http://127.0.0.1:8484/signup",
    "privacy_policy": "http://127.0.0.1:8484/privacy",
    "terms_of_service": "http://127.0.0.1:8484/terms",
    "logo_file": "example-logo.svg",
    "icon_file": "example-icon.svg",
    "resources_to_provision": [{"resource_type": "SqlEndpoint"}, {"resource_type": "DestLocation"}],
    "data_permissions": [{"permission": "USE_CATALOG"}, {"permission": "USE_SCHEMA"},
                         {"permission": "CREATE_SCHEMA"}, {"permission": "CREATE_TABLE"}, {"permission": "SELECT"}],
    "object_permissions": [{"name": "SQL_Endpoint", "level": "CAN_USE"}],
    "supported_clouds": ["aws", "azure", "gcp"],
    "hostnames": ["127.0.0.1", "localhost"],
    "new_user_action": "auto_add",
    "require_manual_signup": False,
    "trial_type": "account",
    "supports_demo": True,
    "auth_options": ["AUTH_PAT"],
    "pcsim": {"basic_user": "databricks", "basic_password": "example-partner-demo-password",
              "signing_secret": "pcsk_example_partner_demo_signing_secret_change_me"},
}


def example_config() -> dict:
    """The repository's ``fixtures/partners/example.json`` when present, else the built-in copy."""
    base = fixtures.fixtures_dir()
    path = base / "partners" / "example.json" if base else None
    if path is not None and path.exists():
        return partners.read_config_file(path)
    return copy.deepcopy(BUILTIN_EXAMPLE_CONFIG)


def example_app(config: dict, *, clock=None, db_path: str | Path):
    """The example partner's Flask app for ``config``, expecting the credentials of its ``pcsim`` section."""
    from ..example_partner import create_app

    section = config.get("pcsim") or {}
    return create_app(config, db_path=str(db_path), basic_user=section.get("basic_user"),
                      basic_password=section.get("basic_password"), authorization=section.get("authorization"),
                      signing_secret=section.get("signing_secret"), clock=clock)


def start_example_partner(config: dict, *, clock, db_path: str | Path, host: str = "127.0.0.1") -> ServerThread:
    """Serve the example partner for ``config`` on a free port; ``config`` gets the bound URL as
    ``base_url`` (and ``sign_up_page``), so registering it afterwards points the simulator at it."""
    server = ServerThread(example_app(config, clock=clock, db_path=db_path), host, 0).start()
    config["base_url"] = server.url
    config["sign_up_page"] = server.url + "/signup"
    return server
