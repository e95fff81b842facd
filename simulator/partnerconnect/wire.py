"""The Partner Connect wire contract, in one place: marshmallow schemas for every message the
simulator sends to a partner or accepts from one, plus the partner configuration format.

A message that breaks the contract is turned into :class:`Violation` objects (field, rule, what was
received), never into an exception that escapes to the user.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

CATEGORIES = ("INGEST", "DATA_PREP_AND_TRANSFORM", "SECURITY_AND_GOVERNANCE", "BI_AND_VIZ", "ML",
              "DATA_QUALITY", "REVERSE_ETL", "SEMANTIC_LAYER", "DATA_GOVERNANCE")
RESOURCE_TYPES = ("PAT", "SqlEndpoint", "DestLocation", "InteractiveCluster")
NEW_USER_ACTIONS = ("auto_add", "invite", "not_found", "error")
TRIAL_TYPES = ("user", "account")
AUTH_OPTIONS = ("AUTH_PAT", "AUTH_OAUTH_M2M", "AUTH_OAUTH_U2M")
CLOUDS = ("aws", "azure", "gcp")
DATA_PERMISSIONS = ("SELECT", "CREATE", "MODIFY", "USAGE", "READ_METADATA", "CREATE_NAMED_FUNCTION",
                    "MODIFY_CLASSPATH", "ALL PRIVILEGES", "USE_CATALOG", "USE_SCHEMA", "CREATE_SCHEMA",
                    "CREATE_TABLE")
OBJECT_NAMES = ("Token", "Password", "Cluster", "Pool", "Job", "DLT_Pipeline", "Notebook", "Directory",
                "MLflow_Experiment", "MLflow_Registered_Model", "SQL_Endpoint", "Repo")
OBJECT_LEVELS = ("CAN_MANAGE", "CAN_RESTART", "CAN_ATTACH_TO", "IS_OWNER", "CAN_MANAGE_RUN", "CAN_VIEW",
                 "CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_USE", "CAN_MANAGE_STAGING_VERSIONS",
                 "CAN_MANAGE_PRODUCTION_VERSIONS", "CAN_EDIT_METADATA", "CAN_VIEW_METADATA")
REDIRECT_VALUES = ("create_trial", "purchase_product", "sign_in", "contact_admin", "not_applicable")
USER_STATUSES = ("new", "existing", "not_applicable")
ACCOUNT_STATUSES = ("new", "active", "expired", "not_applicable")
ERROR_REASONS = ("unauthorized", "bad_request", "account_not_found", "connection_not_found", "general_error")
# user_unauthorized: the partner refuses the deletion for this user; Databricks accepts it too.
RESOURCE_STATUSES = ("resources_deleted", "resources_pending_deletion", "deletion_acknowledged", "user_unauthorized")
TEST_STATUSES = ("PASS", "FAIL", "UNKNOWN")
CONNECTOR_TYPES = ("source", "target")
SIMULATOR_SECTION = "pcsim"


def _one_of(choices):
    return validate.OneOf(choices, error="must be one of " + ", ".join(choices))


def Str(**kw):  # noqa: N802 - a field factory reads like a type
    return fields.String(error_messages={"invalid": "must be a string", "required": "is required",
                                         "null": "must not be null"}, **kw)


class _JsonBoolean(fields.Boolean):
    """JSON true/false only: ``1 in {True}`` holds in Python, so truthy/falsy sets let 1, 1.0 and 0 in."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def Bool(**kw):  # noqa: N802
    return _JsonBoolean(error_messages={"invalid": "must be a JSON boolean (true/false)",
                                        "required": "is required", "null": "must not be null"}, **kw)


def Int(**kw):  # noqa: N802
    return fields.Integer(strict=True, error_messages={"invalid": "must be an integer", "required": "is required",
                                                       "null": "must not be null"}, **kw)


def Nested(schema, **kw):  # noqa: N802
    return fields.Nested(schema, error_messages={"type": "must be a JSON object", "required": "is required",
                                                 "null": "must not be null"}, **kw)


def ListOf(inner, **kw):  # noqa: N802
    return fields.List(inner, error_messages={"invalid": "must be a JSON array", "required": "is required",
                                              "null": "must not be null"}, **kw)


class Lenient(Schema):
    """Unknown keys are tolerated (partners and configs may carry more than the contract lists)."""

    class Meta:
        unknown = INCLUDE


# ---------------------------------------------------------------- partner configuration

class EndpointsSchema(Lenient):
    connect_path = Str()  # required unless pcsim.desktop is true: see PartnerConfigSchema._connect_path
    get_connectors_path = Str()
    test_connection_path = Str()
    delete_account_path = Str()
    expire_account_path = Str()
    delete_connection_path = Str()

    @validates_schema
    def _paths(self, data, **kwargs):
        for key, value in data.items():
            if key.endswith("_path") and isinstance(value, str) and not value.startswith("/"):
                raise ValidationError({key: [f"must be a path starting with '/', got {value!r}"]})


class ResourceSchema(Lenient):
    resource_type = Str(required=True, validate=_one_of(RESOURCE_TYPES))


class DataPermissionSchema(Lenient):
    permission = Str(required=True, validate=_one_of(DATA_PERMISSIONS))


class ObjectPermissionSchema(Lenient):
    name = Str(required=True, validate=_one_of(OBJECT_NAMES))
    level = Str(required=True, validate=_one_of(OBJECT_LEVELS))


class TestWorkspaceDetailSchema(Lenient):
    hostname = Str(required=True)
    port = Int(required=True)
    jdbc_url = Str(required=True)
    databricks_jdbc_url = Str(required=True)
    http_path = Str(required=True)
    cluster_id = Str(required=True)


class SimulatorSectionSchema(Lenient):
    """The simulator-specific section of a partner config (key ``pcsim``)."""

    signing_secret = Str()
    basic_user = Str()
    basic_password = Str()
    authorization = Str()
    desktop = Bool()  # a desktop tool: no connect endpoint, the tile offers a connection file instead


def _absolute_url(value):
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValidationError("must be an absolute http(s) URL")


class PartnerConfigSchema(Lenient):
    api_version = Str(required=True)
    name = Str(required=True, validate=validate.Regexp(  # a partner name is a URL path segment (its tile)
        r"^[^\s/\\\x00-\x1f\x7f](?:[^/\\\x00-\x1f\x7f]*[^\s/\\\x00-\x1f\x7f])?\Z",
        error="must be non-empty, without '/', '\\', control characters or leading/trailing whitespace"))
    description_blurb = Str(required=True)
    category = Str(required=True, validate=_one_of(CATEGORIES))
    base_url = Str(required=True, validate=_absolute_url)
    endpoints = Nested(EndpointsSchema, required=True)
    sign_up_page = Str(required=True)
    privacy_policy = Str(required=True)
    terms_of_service = Str(required=True)
    logo_file = Str(required=True)
    icon_file = Str(required=True)
    allow_editable_email = Bool()  # listed as required by the contract but never defined: optional here
    resources_to_provision = ListOf(Nested(ResourceSchema), required=True)
    data_permissions = ListOf(Nested(DataPermissionSchema))
    object_permissions = ListOf(Nested(ObjectPermissionSchema))
    supported_clouds = ListOf(Str(validate=_one_of(CLOUDS)), required=True,
                              validate=validate.Length(min=1, error="must name at least one cloud"))
    hostnames = ListOf(Str(validate=validate.Length(min=1, error="must not be empty")), required=True,
                       validate=validate.Length(min=1, error="must name at least one redirect host"))
    new_user_action = Str(required=True, validate=_one_of(NEW_USER_ACTIONS))
    require_manual_signup = Bool()
    trial_type = Str(validate=_one_of(TRIAL_TYPES))
    supports_demo = Bool()
    test_workspace_detail = Nested(TestWorkspaceDetailSchema)
    auth_options = ListOf(Str(validate=_one_of(AUTH_OPTIONS)))
    is_published_app = Bool()
    supported_features = ListOf(Str())
    pcsim = Nested(SimulatorSectionSchema)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _connect_path(self, data, original, **kwargs):
        endpoints = original.get("endpoints") if isinstance(original, dict) else None
        section = original.get(SIMULATOR_SECTION) if isinstance(original, dict) else None
        desktop = isinstance(section, dict) and section.get("desktop") is True
        if isinstance(endpoints, dict) and "connect_path" not in endpoints and not desktop:
            raise ValidationError({"endpoints": {"connect_path": ["is required"]}})

    @validates_schema(skip_on_field_errors=False)
    def _auth_rules(self, data, **kwargs):
        options = [o for o in data.get("auth_options") or [] if isinstance(o, str)]
        if "AUTH_PAT" in options and "AUTH_OAUTH_M2M" in options:
            raise ValidationError({"auth_options": ["AUTH_PAT and AUTH_OAUTH_M2M cannot be combined "
                                                    "(a partner gets either a PAT or an OAuth M2M secret)"]})
        if len(set(options)) != len(options):
            raise ValidationError({"auth_options": ["must not repeat a value"]})


# ---------------------------------------------------------------- partner answers

class ConnectionResponseSchema(Lenient):
    redirect_uri = Str(required=True)
    redirect_value = Str(required=True, validate=_one_of(REDIRECT_VALUES))
    connection_id = Str()
    user_status = Str(required=True, validate=_one_of(USER_STATUSES))
    account_status = Str(required=True, validate=_one_of(ACCOUNT_STATUSES))
    configured_resources = Bool(required=True)
    oauth_redirect_uri = Str()


class ErrorResponseSchema(Lenient):
    error_reason = Str(required=True, validate=_one_of(ERROR_REASONS))
    display_message = Str()
    debugging_message = Str()


class DeleteConnectionResponseSchema(Lenient):
    resource_status = Str(required=True, validate=_one_of(RESOURCE_STATUSES))


class TestResultSchema(Lenient):
    test_name = Str(required=True)
    status = Str(required=True, validate=_one_of(TEST_STATUSES))
    message = Str()


class TestConnectionResponseSchema(Lenient):
    test_results = ListOf(Nested(TestResultSchema), required=True)


class ConnectorSchema(Lenient):
    identifier = Str(required=True)
    name = Str(required=True)
    type = Str(required=True, validate=_one_of(CONNECTOR_TYPES))
    description = Str()


class ConnectorResponseSchema(Lenient):
    connectors = ListOf(Nested(ConnectorSchema), required=True)
    pagination_token = Str()


class EmptyObjectSchema(Lenient):
    """delete-account and expire-account: any JSON object (the contract defines no body)."""


SUCCESS_SCHEMAS = {
    "connect": ConnectionResponseSchema,
    "delete_connection": DeleteConnectionResponseSchema,
    "test_connection": TestConnectionResponseSchema,
    "connectors": ConnectorResponseSchema,
    "delete_account": EmptyObjectSchema,
    "expire_account": EmptyObjectSchema,
}


# ---------------------------------------------------------------- violations

@dataclass
class Violation:
    """One broken rule: ``field`` (dotted path, or ``body``/``status``), the rule, and what came."""

    field: str
    rule: str
    got: str
    severity: str = "error"  # "error" fails the flow; "warning" is reported and certification fails it

    def __str__(self) -> str:
        return f"{self.field}: {self.rule} (got {self.got})"

    def as_dict(self) -> dict:
        return asdict(self)


def lookup(data, path: list[str]):
    """The value at ``path`` (keys, or digits for list items) inside nested JSON; ``MISSING`` if absent."""
    current = data
    for part in path:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


MISSING = object()


def describe(value) -> str:
    """What was received, short and exact (JSON-ish, so ``null``, ``"true"`` and ``1`` differ)."""
    if value is MISSING:
        return "nothing (field absent)"
    text = json.dumps(value) if not isinstance(value, (bytes, bytearray)) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _flatten(messages, path: list[str], data, out: list[Violation]):
    if isinstance(messages, dict):
        for key, sub in messages.items():
            if key == "_schema":
                _flatten(sub, path, data, out)
            else:
                _flatten(sub, path + [str(key)], data, out)
    elif isinstance(messages, list):
        for msg in messages:
            if isinstance(msg, (dict, list)):
                _flatten(msg, path, data, out)
            else:
                field = ".".join(path) or "body"
                out.append(Violation(field, str(msg).rstrip("."), describe(lookup(data, path))))


def validate_against(schema_cls: type[Schema], data) -> tuple[dict | None, list[Violation]]:
    """Load ``data`` with the schema; returns (loaded or None, violations)."""
    if not isinstance(data, dict):
        return None, [Violation("body", "must be a JSON object", describe(data))]
    try:
        return schema_cls().load(data), []
    except ValidationError as exc:
        out: list[Violation] = []
        _flatten(exc.messages, [], data, out)
        return None, out


def string_values_only(data: dict, where: str = "") -> list[Violation]:
    """Error bodies must carry string values only (no null, numbers or nested objects)."""
    return [Violation(f"{where}{k}", "error body values must be strings", describe(v))
            for k, v in data.items() if not isinstance(v, str)]
