"""A small, real partner service implementing the partner side of the Partner Connect API 2.x.

The simulator plays Databricks; this app plays the partner it calls, so every flow (new trial,
sign-in, second user, expired trial, deleted connection, manual signup, demo) can be exercised
end to end over HTTP. Behaviour is driven by a partner config in the certification format:
the API is served only at the paths ``config["endpoints"]`` names, and ``new_user_action``,
``require_manual_signup``, ``trial_type`` and ``supports_demo`` choose the answers.

Browser-facing landing pages (``/trial``, ``/sign-in``, ``/contact-admin``, ``/purchase``,
``/signup``, ``/``) show what Databricks sent, with every secret masked.
"""
from __future__ import annotations

import base64
import binascii
import copy
import functools
import hmac
import logging
from dataclasses import dataclass

from flask import Flask, current_app, g, jsonify, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from simulator import signing
from simulator.clock import RealClock
from simulator.partnerconnect.wire import NEW_USER_ACTIONS, TRIAL_TYPES

from .state import EXPIRED, KeepChanges, PartnerState

log = logging.getLogger(__name__)

TEST_DOMAINS = ("databricks-test.com", "databricks-demo.com")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
PAGE_TOKEN_PREFIX = "offset:"

DEFAULT_CONNECTORS = [
    {"identifier": "postgres", "name": "PostgreSQL", "type": "source",
     "description": "Replicate tables from a PostgreSQL database."},
    {"identifier": "mysql", "name": "MySQL", "type": "source",
     "description": "Replicate tables from a MySQL database."},
    {"identifier": "sql_server", "name": "SQL Server", "type": "source",
     "description": "Replicate tables from Microsoft SQL Server."},
    {"identifier": "oracle", "name": "Oracle", "type": "source",
     "description": "Replicate tables from an Oracle database."},
    {"identifier": "mongodb", "name": "MongoDB", "type": "source",
     "description": "Copy collections from MongoDB as tables."},
    {"identifier": "salesforce", "name": "Salesforce", "type": "source",
     "description": "Sync CRM objects such as accounts and opportunities."},
    {"identifier": "hubspot", "name": "HubSpot", "type": "source",
     "description": "Sync marketing contacts and campaigns."},
    {"identifier": "stripe", "name": "Stripe", "type": "source",
     "description": "Sync payments, customers and invoices."},
    {"identifier": "zendesk", "name": "Zendesk", "type": "source",
     "description": "Sync support tickets and users."},
    {"identifier": "jira", "name": "Jira", "type": "source",
     "description": "Sync issues, projects and sprints."},
    {"identifier": "google_sheets", "name": "Google Sheets", "type": "source",
     "description": "Load spreadsheets as tables."},
    {"identifier": "google_analytics", "name": "Google Analytics", "type": "source",
     "description": "Load web analytics reports."},
    {"identifier": "s3", "name": "Amazon S3", "type": "source",
     "description": "Load CSV, JSON and Parquet files from a bucket."},
    {"identifier": "azure_blob_storage", "name": "Azure Blob Storage", "type": "source",
     "description": "Load files from an Azure storage container."},
    {"identifier": "kafka", "name": "Apache Kafka", "type": "source",
     "description": "Stream topics into tables."},
    {"identifier": "delta_lake", "name": "Delta Lake", "type": "target",
     "description": "Write tables to Delta Lake in the Databricks workspace."},
]

# redirect_value -> (endpoint, path, heading, what the page tells the user)
LANDING_PAGES = {
    "create_trial": ("trial_page", "/trial", "Your free trial is ready",
                     "A new account was created and connected to your Databricks workspace."),
    "sign_in": ("sign_in_page", "/sign-in", "Sign in",
                "Welcome back. Your Databricks connection is configured in your account."),
    "contact_admin": ("contact_admin_page", "/contact-admin", "Ask your admin for access",
                      "Your company already has an account. An admin must invite you to it."),
    "purchase_product": ("purchase_page", "/purchase", "Your trial has expired",
                         "Purchase a subscription to keep using this connection."),
}


# -- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything a request needs to know about how this partner behaves (immutable, shared)."""

    config: dict
    db_path: str
    basic: tuple[str, str] | None
    authorization: str | None
    signing_secret: str | None
    clock: object
    connectors: list[dict]
    page_size: int

    @property
    def name(self) -> str:
        return str(self.config.get("name") or "Example Partner")

    @property
    def endpoints(self) -> dict:
        return self.config.get("endpoints") or {}

    @property
    def new_user_action(self) -> str:
        return self.config.get("new_user_action") or "auto_add"

    @property
    def trial_type(self) -> str:
        return self.config.get("trial_type") or "account"

    @property
    def manual_signup(self) -> bool:
        return bool(self.config.get("require_manual_signup"))

    @property
    def supports_demo(self) -> bool:
        return bool(self.config.get("supports_demo"))


def _validate_config(config: dict, page_size: int) -> None:
    """Fail at start-up, not per request, on a config this partner cannot serve."""
    if not isinstance(config, dict):
        raise ValueError("config must be a JSON object")
    endpoints = config.get("endpoints") or {}
    if not isinstance(endpoints, dict):
        raise ValueError("config.endpoints must be an object")
    for key, path in endpoints.items():
        if key in API_ENDPOINTS and path is not None and not str(path).startswith("/"):
            raise ValueError(f"config.endpoints.{key} must be a path starting with '/': {path!r}")
    if config.get("new_user_action") not in (None, *NEW_USER_ACTIONS):
        raise ValueError(f"config.new_user_action must be one of {', '.join(NEW_USER_ACTIONS)}")
    if config.get("trial_type") not in (None, *TRIAL_TYPES):
        raise ValueError(f"config.trial_type must be one of {', '.join(TRIAL_TYPES)}")
    if page_size < 1:
        raise ValueError("connectors_page_size must be at least 1")


def create_app(
    config: dict,
    *,
    db_path: str,
    basic_user: str | None = None,
    basic_password: str | None = None,
    authorization: str | None = None,
    signing_secret: str | None = None,
    clock=None,
    connectors: list[dict] | None = None,
    connectors_page_size: int = 10,
) -> Flask:
    """Build the example partner app for ``config``, keeping its state in ``db_path``.

    Auth: with ``basic_user``/``basic_password`` a matching Basic header is accepted; with
    ``authorization`` that exact header value is accepted (if both are given, either passes);
    with neither, anything is. With ``signing_secret`` every API call must also carry a valid
    :mod:`simulator.signing` signature, checked against ``clock`` (default: real time).
    """
    _validate_config(config, connectors_page_size)
    basic = None
    if basic_user is not None or basic_password is not None:
        basic = (basic_user or "", basic_password or "")
    settings = Settings(
        config=copy.deepcopy(config), db_path=db_path, basic=basic, authorization=authorization,
        signing_secret=signing_secret, clock=clock or RealClock(),
        connectors=[dict(c) for c in (DEFAULT_CONNECTORS if connectors is None else connectors)],
        page_size=connectors_page_size,
    )
    _init_db(settings)

    app = Flask(__name__)
    app.extensions["example_partner"] = settings
    _register_api(app, settings.endpoints)
    _register_pages(app)
    app.register_error_handler(ApiError, _api_error_response)
    app.register_error_handler(HTTPException, _http_error_response)
    app.register_error_handler(Exception, _unexpected_error_response)
    app.teardown_appcontext(_close_state)
    return app


def _init_db(settings: Settings) -> None:
    state = PartnerState.open(settings.db_path, settings.clock)
    try:
        state.create_schema()
    finally:
        state.close()


def _register_api(app: Flask, endpoints: dict) -> None:
    """Serve each API endpoint at the path the config names, and nowhere else."""
    for key, (method, view) in API_ENDPOINTS.items():
        path = endpoints.get(key)
        if path:
            app.add_url_rule(path, f"api_{key}", _guarded(view), methods=[method])


def _register_pages(app: Flask) -> None:
    for redirect_value, (endpoint, path, _heading, _text) in LANDING_PAGES.items():
        app.add_url_rule(path, endpoint, landing_page, defaults={"redirect_value": redirect_value})
    app.add_url_rule("/signup", "signup_page", signup_page, methods=["GET", "POST"])
    app.add_url_rule("/", "index_page", index_page)


def _settings() -> Settings:
    return current_app.extensions["example_partner"]


def _state() -> PartnerState:
    """This request's own database connection (opened on first use, closed on teardown)."""
    if "partner_state" not in g:
        settings = _settings()
        g.partner_state = PartnerState.open(settings.db_path, settings.clock)
    return g.partner_state


def _close_state(_exc) -> None:
    state = g.pop("partner_state", None)
    if state is not None:
        state.close()


# -- errors -------------------------------------------------------------------------------------


class ApiError(Exception):
    """An answer in the Partner Connect error format: ``error_reason`` plus two messages."""

    def __init__(self, status: int, reason: str, display: str, debug: str | None = None):
        super().__init__(debug or display)
        self.status, self.reason, self.display, self.debug = status, reason, display, debug or display

    def body(self) -> dict[str, str]:
        return {"error_reason": self.reason, "display_message": self.display,
                "debugging_message": self.debug}


class SignupPending(ApiError, KeepChanges):
    """account_not_found for a user who still has to finish the manual signup (kept in state)."""


def _bad_request(debug: str) -> ApiError:
    return ApiError(400, "bad_request", "The request to the partner was malformed.", debug)


def _connection_not_found(connection_id: str) -> ApiError:
    return ApiError(404, "connection_not_found",
                    f"{_settings().name} has no such connection. Delete it in Databricks and "
                    "connect again.", f"unknown connection_id {connection_id!r}")


def _api_error_response(exc: ApiError):
    return jsonify(exc.body()), exc.status


def _http_error_response(exc: HTTPException):
    """Routing errors (unknown path, wrong method) in the same JSON shape as API errors."""
    reason = "bad_request" if exc.code == 405 else "general_error"
    body = {"error_reason": reason, "display_message": exc.name,
            "debugging_message": f"{exc.code} {exc.name}: {request.method} {request.path}"}
    return jsonify(body), exc.code


def _unexpected_error_response(exc: Exception):
    log.exception("unexpected error on %s %s", request.method, request.path)
    body = {"error_reason": "general_error", "display_message": "Something went wrong at the partner.",
            "debugging_message": type(exc).__name__}
    return jsonify(body), 500


# -- request checks -----------------------------------------------------------------------------


def _guarded(view):
    """Wrap an API view so it runs only for authenticated (and, if configured, signed) calls."""

    @functools.wraps(view)
    def guarded_view():
        settings = _settings()
        _authenticate(settings)
        _verify_signature(settings)
        return view()

    return guarded_view


def _same(given: str, expected: str) -> bool:
    """Constant-time string comparison, so credentials cannot be guessed by timing."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _basic_matches(expected: tuple[str, str]) -> bool:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    return _same(auth.username or "", expected[0]) & _same(auth.password or "", expected[1])


def _authenticate(settings: Settings) -> None:
    """401 unless the Authorization header satisfies one of the configured credentials."""
    if settings.basic is None and settings.authorization is None:
        return
    if settings.basic is not None and _basic_matches(settings.basic):
        return
    if settings.authorization is not None and _same(request.headers.get("Authorization", ""),
                                                    settings.authorization):
        return
    raise ApiError(401, "unauthorized", f"Databricks could not authenticate with {settings.name}.",
                   "missing or wrong Authorization header")


def _signed_path() -> str:
    """The path plus query string as received (no trailing '?' when there is no query)."""
    return request.full_path if request.query_string else request.path


def _verify_signature(settings: Settings) -> None:
    """401 unless the request carries a valid simulator signature (when a secret is configured)."""
    if settings.signing_secret is None:
        return
    try:
        signing.verify(request.headers, request.method, _signed_path(), request.get_data(),
                       settings.signing_secret, now=settings.clock.now())
    except signing.SignatureError as exc:
        raise ApiError(401, "unauthorized", "The request signature was not accepted.", str(exc)) from None


def _json_object() -> dict:
    """The body as a JSON object (ints stay exact), or 400."""
    try:
        body = request.get_json(force=True, silent=False)
    except HTTPException:
        raise _bad_request("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad_request("request body must be a JSON object")
    return body


_KIND_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "int64": lambda v: isinstance(v, int) and not isinstance(v, bool) and INT64_MIN <= v <= INT64_MAX,
}


def _field(obj: dict, name: str, kind: str, *, prefix: str = "", required: bool = True):
    """``obj[name]`` checked to be of ``kind``; 400 naming the field when missing or mistyped."""
    value = obj.get(name)
    if value is None:
        if required:
            raise _bad_request(f"missing required field {prefix}{name}")
        return None
    if not _KIND_CHECKS[kind](value):
        raise _bad_request(f"field {prefix}{name} must be {'a 64-bit integer' if kind == 'int64' else kind}")
    return value


def _email_domain(email: str, field_name: str) -> str:
    local, at, domain = email.strip().lower().rpartition("@")
    if not at or not local or not domain:
        raise _bad_request(f"field {field_name} is not an email address")
    return domain


def _is_test_domain(domain: str) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in TEST_DOMAINS)


def _require_test_domain(domain: str) -> None:
    if not _is_test_domain(domain):
        raise _bad_request(f"{domain!r} is not a Databricks test domain ({' or '.join(TEST_DOMAINS)})")


# -- secrets ------------------------------------------------------------------------------------


def mask_secret(value) -> str | None:
    """``dapi…ab12`` style: enough to recognise a secret, never enough to use it."""
    if value is None or value == "":
        return value
    text = str(value)
    if len(text) < 12:
        return "••••"
    return f"{text[:4]}…{text[-4:]}"


def _masked_payload(body: dict) -> dict:
    """The connect body as this partner stores it: every secret replaced by its mask."""
    payload = copy.deepcopy(body)
    auth = (payload.get("user_info") or {}).get("auth")
    if isinstance(auth, dict):
        for key in ("personal_access_token", "oauth_token"):
            if key in auth:
                auth[key] = mask_secret(auth[key])
    if "service_principal_oauth_secret" in payload:
        payload["service_principal_oauth_secret"] = mask_secret(payload["service_principal_oauth_secret"])
    return payload


# -- connect ------------------------------------------------------------------------------------

USER_INFO_FIELDS = (("email", "string"), ("first_name", "string"), ("last_name", "string"),
                    ("databricks_user_id", "int64"), ("databricks_organization_id", "int64"),
                    ("is_connection_established", "boolean"))
CONNECT_FIELDS = (("hostname", "string"), ("port", "int64"), ("workspace_id", "int64"),
                  ("workspace_url", "string"), ("demo", "boolean"), ("cloud_provider", "string"),
                  ("is_free_trial", "boolean"))


@dataclass(frozen=True)
class ConnectRequest:
    """The parts of a connect body the decisions depend on, already validated."""

    email: str
    domain: str
    user_info: dict
    established: bool
    connection_id: str | None
    demo: bool
    payload: dict  # masked, as stored


@dataclass(frozen=True)
class Outcome:
    """What a connect call resolved to; ``connection_id`` is the connection the landing shows."""

    redirect_value: str
    user_status: str
    account_status: str
    configured_resources: bool
    connection_id: str
    email: str


def _parse_connect(body: dict) -> ConnectRequest:
    user_info = _field(body, "user_info", "object")
    for name, kind in USER_INFO_FIELDS:
        _field(user_info, name, kind, prefix="user_info.")
    for name, kind in CONNECT_FIELDS:
        _field(body, name, kind)
    established = user_info["is_connection_established"]
    return ConnectRequest(
        email=user_info["email"].strip().lower(),
        domain=_email_domain(user_info["email"], "user_info.email"),
        user_info=user_info,
        established=established,
        connection_id=_field(body, "connection_id", "string", required=established),
        demo=body["demo"],
        payload=_masked_payload(body),
    )


def connect():
    """POST connect_path: sign a user up (new connection) or in (established connection)."""
    req = _parse_connect(_json_object())
    state = _state()
    with state.write():
        outcome = _sign_in(state, req) if req.established else _first_connect(state, req)
    log.info("connect %s (established=%s): %s, user %s, account %s, connection %s", req.email,
             req.established, outcome.redirect_value, outcome.user_status, outcome.account_status,
             outcome.connection_id)
    return jsonify(_connect_body(outcome)), 200


def _connect_body(outcome: Outcome) -> dict:
    endpoint = LANDING_PAGES[outcome.redirect_value][0]
    body = {
        "redirect_uri": url_for(endpoint, connection_id=outcome.connection_id, email=outcome.email,
                                _external=True),
        "redirect_value": outcome.redirect_value,
        "user_status": outcome.user_status,
        "account_status": outcome.account_status,
        "configured_resources": outcome.configured_resources,
    }
    if outcome.configured_resources:
        body["connection_id"] = outcome.connection_id
    return body


def _first_connect(state: PartnerState, req: ConnectRequest) -> Outcome:
    """No connection on the Databricks side: always configure a new one."""
    settings = _settings()
    if req.demo and settings.supports_demo:
        return _start_trial(state, req, demo=True)
    account = state.account(req.domain)
    if account is None:
        return _start_trial(state, req, demo=False)
    user = state.user(account["id"], req.email)
    if user is None:
        state.add_user(account["id"], req.email, req.user_info, signed_up=not settings.manual_signup)
    connection_id = state.add_connection(account["id"], req.email, req.payload)
    return _returning(account, user, connection_id, req.email,
                      user_status="new" if user is None else "existing", configured=True)


def _start_trial(state: PartnerState, req: ConnectRequest, *, demo: bool) -> Outcome:
    """A brand-new account, its first user and connection: the create_trial answer."""
    account = state.create_account(req.domain, demo=demo)
    state.add_user(account["id"], req.email, req.user_info, signed_up=not _settings().manual_signup)
    connection_id = state.add_connection(account["id"], req.email, req.payload)
    return Outcome("create_trial", "new", "new", True, connection_id, req.email)


def _returning(account: dict, user: dict | None, connection_id: str, email: str, *,
               user_status: str, configured: bool) -> Outcome:
    """sign_in for an account in good standing, purchase_product once its trial expired."""
    if account["status"] == EXPIRED or (user is not None and user["expired"]):
        return Outcome("purchase_product", user_status, "expired", configured, connection_id, email)
    return Outcome("sign_in", user_status, "active", configured, connection_id, email)


def _sign_in(state: PartnerState, req: ConnectRequest) -> Outcome:
    """Databricks already has the connection: find it, never configure anything new."""
    connection = state.connection(req.connection_id)
    account = state.account(connection["account_id"]) if connection else None
    if account is None:
        raise _connection_not_found(req.connection_id)
    user = state.user(account["id"], req.email)
    if user is None:
        return _unknown_user_signs_in(state, req, account, connection["id"])
    if _settings().manual_signup and not user["signed_up"]:
        raise _signup_pending(req.email)
    return _returning(account, user, connection["id"], req.email,
                      user_status="existing", configured=False)


def _unknown_user_signs_in(state: PartnerState, req: ConnectRequest, account: dict,
                           connection_id: str) -> Outcome:
    """Someone else in the workspace reuses the connection: apply ``new_user_action``."""
    settings = _settings()
    action = settings.new_user_action
    if action == "invite":
        account_status = "expired" if account["status"] == EXPIRED else "active"
        return Outcome("contact_admin", "not_applicable", account_status, False, connection_id, req.email)
    if action == "not_found":
        raise ApiError(404, "account_not_found",
                       f"{req.email} has no {settings.name} account. Ask your admin for an invitation.",
                       f"user {req.email} unknown in account {account['id']} (new_user_action=not_found)")
    if action == "error":
        raise ApiError(500, "general_error",
                       f"{settings.name} cannot add {req.email} to your company's account. "
                       "Please contact support.",
                       f"user {req.email} unknown in account {account['id']} (new_user_action=error)")
    user = state.add_user(account["id"], req.email, req.user_info, signed_up=not settings.manual_signup)
    if settings.manual_signup:
        raise _signup_pending(req.email)
    return _returning(account, user, connection_id, req.email, user_status="new", configured=False)


def _signup_pending(email: str) -> SignupPending:
    name = _settings().name
    return SignupPending(404, "account_not_found",
                         f"Finish signing up for {name} first, then connect again.",
                         f"user {email} has not completed the manual signup")


# -- connections --------------------------------------------------------------------------------


def test_connection():
    """POST test_connection_path: report on a connection this partner knows."""
    connection_id = _field(_json_object(), "connection_id", "string")
    connection = _state().connection(connection_id)
    if connection is None:
        raise _connection_not_found(connection_id)
    message = f"Connection {connection_id} to workspace {connection['workspace_id']} is configured."
    return jsonify(test_results=[{"test_name": "Connection lookup", "status": "PASS", "message": message}])


def delete_connection():
    """POST delete_connection_path: Databricks deleted the connection, so forget it."""
    body = _json_object()
    connection_id = _field(body, "connection_id", "string")
    _field(body, "cloud_provider", "string")
    _field(body, "databricks_organization_id", "int64")
    state = _state()
    with state.write():
        deleted = state.delete_connection(connection_id)
    if not deleted:
        raise _connection_not_found(connection_id)
    log.info("deleted connection %s", connection_id)
    return jsonify(resource_status="resources_deleted")


# -- test-only account endpoints ----------------------------------------------------------------


def delete_account():
    """DELETE delete_account_path: drop a test domain's accounts, users and connections."""
    body = _json_object()
    domain = _field(body, "domain", "string").strip().lower()
    _field(body, "cloud_provider", "string")
    _field(body, "databricks_organization_id", "int64")
    _require_test_domain(domain)
    state = _state()
    with state.write():
        removed = state.delete_domain(domain)
    log.info("deleted %d account(s) of %s", removed, domain)
    return jsonify({})


def expire_account():
    """PUT expire_account_path: end a test user's trial (or the whole account's, per trial_type)."""
    body = _json_object()
    raw_email = _field(body, "email", "string")
    _field(body, "databricks_user_id", "int64")
    _field(body, "cloud_provider", "string")
    _field(body, "databricks_organization_id", "int64")
    email = raw_email.strip().lower()
    _require_test_domain(_email_domain(raw_email, "email"))
    state = _state()
    with state.write():
        users = state.users_by_email(email)
        if not users:
            raise ApiError(404, "account_not_found", f"{email} has no account.", f"unknown user {email}")
        if _settings().trial_type == "user":
            state.expire_users(email)
        else:
            state.expire_accounts(sorted({u["account_id"] for u in users}))
    log.info("expired %s (trial_type=%s)", email, _settings().trial_type)
    return jsonify({})


# -- connectors ---------------------------------------------------------------------------------


def _encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{PAGE_TOKEN_PREFIX}{offset}".encode()).decode().rstrip("=")


def _decode_page_token(token: str | None, total: int) -> int:
    """The offset a token stands for; 400 for anything this server did not hand out."""
    if not token:
        return 0
    try:
        text = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
        offset = int(text.removeprefix(PAGE_TOKEN_PREFIX)) if text.startswith(PAGE_TOKEN_PREFIX) else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        offset = -1
    if not 0 < offset < total:
        raise _bad_request(f"invalid pagination_token {token!r}")
    return offset


def connectors():
    """GET get_connectors_path: one page of connectors, with a token while more remain."""
    settings = _settings()
    start = _decode_page_token(request.args.get("pagination_token"), len(settings.connectors))
    end = start + settings.page_size
    body = {"connectors": settings.connectors[start:end]}
    if end < len(settings.connectors):
        body["pagination_token"] = _encode_page_token(end)
    return jsonify(body)


# config ``endpoints`` key -> (HTTP method, view): the whole partner API.
API_ENDPOINTS = {
    "connect_path": ("POST", connect),
    "test_connection_path": ("POST", test_connection),
    "delete_connection_path": ("POST", delete_connection),
    "delete_account_path": ("DELETE", delete_account),
    "expire_account_path": ("PUT", expire_account),
    "get_connectors_path": ("GET", connectors),
}


# -- landing pages ------------------------------------------------------------------------------


def _connection_details(payload: dict) -> list[tuple[str, object]]:
    """What Databricks sent for a connection, as label/value rows (secrets are stored masked)."""
    auth = (payload.get("user_info") or {}).get("auth") or {}
    cloud_parts = (payload.get("cloud_provider"), payload.get("cloud_provider_region"))
    cloud = " / ".join(str(part) for part in cloud_parts if part)
    rows = [
        ("Workspace URL", payload.get("workspace_url")),
        ("Workspace ID", payload.get("workspace_id")),
        ("Hostname", payload.get("hostname")),
        ("Cloud", cloud),
        ("HTTP path", payload.get("http_path")),
        ("Cluster / SQL warehouse ID", payload.get("cluster_id")),
        ("Catalog", payload.get("catalog_name")),
        ("Destination location", payload.get("destination_location")),
        ("Service principal ID", payload.get("service_principal_id")),
        ("Personal access token", auth.get("personal_access_token")),
        ("Service principal OAuth secret", payload.get("service_principal_oauth_secret")),
        ("OAuth U2M app ID", payload.get("oauth_u2m_app_id")),
        ("Demo", payload.get("demo")),
        ("Databricks free trial", payload.get("is_free_trial")),
    ]
    return [(label, value) for label, value in rows if value not in (None, "")]


def landing_page(redirect_value: str):
    """GET /trial, /sign-in, /contact-admin, /purchase: where Databricks sends the user's browser."""
    _endpoint, path, heading, text = LANDING_PAGES[redirect_value]
    connection_id = request.args.get("connection_id", "")
    connection = _state().connection(connection_id) if connection_id else None
    status = 404 if connection_id and connection is None else 200
    return render_template(
        "landing.html", partner=_settings().name, path=path, redirect_value=redirect_value,
        heading=heading, text=text,
        email=request.args.get("email", ""), connection_id=connection_id, connection=connection,
        details=_connection_details(connection["payload"]) if connection else [],
        manual_signup=_settings().manual_signup,
    ), status


def signup_page():
    """GET a form / POST ``email``: complete the manual signup that require_manual_signup demands."""
    email = (request.values.get("email") or "").strip().lower()
    message, status = None, 200
    if request.method == "POST":
        if not email:
            message, status = "Enter the email address you connected with.", 400
        else:
            state = _state()
            with state.write():
                found = state.complete_signup(email)
            message, status = ((f"Signup complete for {email}. Go back to Databricks and connect again.", 200)
                               if found else (f"No user {email} is waiting to sign up.", 404))
    return render_template("signup.html", partner=_settings().name, email=email, message=message,
                           done=request.method == "POST" and status == 200), status


def index_page():
    """GET /: what this partner is, how it is configured and how much it remembers."""
    settings = _settings()
    routes = [(key, path) for key, path in settings.endpoints.items() if key in API_ENDPOINTS and path]
    behaviour = [
        ("Category", settings.config.get("category") or "(not set)"),
        ("New user action", settings.new_user_action),
        ("Trial type", settings.trial_type),
        ("Requires manual signup", settings.manual_signup),
        ("Supports demo", settings.supports_demo),
    ]
    return render_template("index.html", partner=settings.name, routes=routes, behaviour=behaviour,
                           counts=_state().counts())
