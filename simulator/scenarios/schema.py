"""The scenario file format as marshmallow schemas (what :mod:`.loader` validates a file with).

Every field is optional unless marked required; unknown keys are errors (typos are caught with a
"did you mean" from :data:`VOCABULARY`). Enumerated values (``redirect_value``, ``error_reason``,
...) come from the wire contract, so a scenario cannot expect a value no partner may send.
"""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..partnerconnect.wire import (ACCOUNT_STATUSES, CLOUDS, ERROR_REASONS, REDIRECT_VALUES, RESOURCE_STATUSES,
                                   TEST_STATUSES, USER_STATUSES, Bool, Int, ListOf, Nested, Str, _one_of)
from . import templating

STEP_KINDS = ("connect", "delete_connection", "partner_delete_connection", "delete_account", "expire_account",
              "test_connection", "list_connectors", "follow_redirect", "fault", "run_rule", "advance_clock", "api")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CONNECT_MODES = ("auto", "first_time", "sign_in")
CONTRACT_MODES = ("strict", "errors", "ignore")
CONNECTION_STATES = ("active", "stale", "pending", "gone", "exists")
ENDPOINT_KEYS = ("connect_path", "get_connectors_path", "test_connection_path", "delete_account_path",
                 "expire_account_path", "delete_connection_path")
CAPTURE_SOURCES = ("connection_id", "status", "redirect_uri", "redirect_value", "user_status", "account_status",
                   "error_reason", "resource_status", "kind", "stored_connection_id")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
MAPPING = {"invalid": "must be a mapping"}


def _identifier(value):
    if not isinstance(value, str) or not _IDENT.match(value):
        raise ValidationError("must be a name of letters, digits, _ or - (starting with a letter or _)")


class OneOrMany(fields.Field):
    """A single value or a non-empty list of them; loads as a list."""

    def __init__(self, inner: fields.Field, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def _deserialize(self, value, attr, data, **kwargs):
        many = isinstance(value, list)
        items = value if many else [value]
        if not items:
            raise ValidationError("must not be an empty list")
        out, errors = [], {}
        for i, item in enumerate(items):
            try:
                out.append(self.inner.deserialize(item))
            except ValidationError as exc:
                errors[i] = exc.messages
        if errors:
            raise ValidationError(errors if many else errors[0])
        return out


class SchemaList(fields.Field):
    """One mapping or a list of mappings, each loaded with ``schema``; loads as a list."""

    def __init__(self, schema: type[Schema], **kwargs):
        super().__init__(**kwargs)
        self.schema = schema

    def _deserialize(self, value, attr, data, **kwargs):
        many = isinstance(value, list)
        out, errors = [], {}
        for i, item in enumerate(value if many else [value]):
            if not isinstance(item, dict):
                errors[i] = ["must be a mapping"]
                continue
            try:
                out.append(self.schema().load(item))
            except ValidationError as exc:
                errors[i] = exc.messages
        if errors:
            raise ValidationError(errors if many else errors[0])
        return out


class RandomSpecSchema(Schema):
    random = Str(required=True, validate=_one_of(templating.RANDOM_KINDS))
    parent = Str()
    domain = Str()
    local = Str()
    length = Int(validate=validate.Range(min=1, max=64, error="must be between 1 and 64"))


class VarField(fields.Field):
    """A variable: a literal (string with ``${...}``, number, bool) or ``{random: kind, ...}``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dict):
            return RandomSpecSchema().load(value)
        if isinstance(value, (str, int, float, bool)):
            return value
        raise ValidationError("must be a string, a number, a boolean or {random: domain|email|int64|hex|uuid}")


class ConnectionIdExpect(fields.Field):
    """``present``, ``absent``, ``{equals: X}`` or ``{not_equals: X}``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("present", "absent"):
            return {"is": value}
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("equals", "not_equals") \
                and isinstance(next(iter(value.values())), str):
            return dict(value)
        raise ValidationError("must be present, absent, {equals: ID} or {not_equals: ID}")


class ConditionSchema(Schema):
    """``{endpoint: X_path}``, ``{config: key}`` (truthy), ``{config: key, equals: v}``,
    ``{config: key, in: [...]}``, ``{config: key, present: false}`` or ``{credentials: true}``."""

    endpoint = Str(validate=_one_of(ENDPOINT_KEYS))
    config = Str()
    equals = fields.Raw(allow_none=True)
    in_ = ListOf(fields.Raw(allow_none=True), data_key="in")
    present = Bool()
    credentials = Bool()

    @validates_schema
    def _shape(self, data, **kwargs):
        kinds = [k for k in ("endpoint", "config", "credentials") if k in data]
        if len(kinds) != 1:
            raise ValidationError("give exactly one of endpoint, config or credentials")
        modifiers = [k for k in ("equals", "in_", "present") if k in data]
        if modifiers and "config" not in data:
            raise ValidationError("equals, in and present go with config")
        if len(modifiers) > 1:
            raise ValidationError("give at most one of equals, in, present")


class PartnerSchema(Schema):
    config = Str()
    name = Str()
    base_url = Str()
    basic_user = Str()
    basic_password = Str()
    authorization = Str()
    signing_secret = Str()

    @validates_schema
    def _one(self, data, **kwargs):
        if "config" in data and "name" in data:
            raise ValidationError("give config (a partner config file) or name (a registered partner), not both")


class UserSchema(Schema):
    email = Str()
    first_name = Str()
    last_name = Str()
    language = Str()


class WorkspaceSchema(Schema):
    cloud = Str(validate=_one_of(CLOUDS))
    region = Str()
    id = Int(validate=validate.Range(min=1, max=2**63 - 1, error="must be a positive 64-bit integer"))
    admins = ListOf(Str())
    members = ListOf(Str())
    catalogs = ListOf(Str(), validate=validate.Length(min=1, error="must name at least one catalog"))
    free_trial = Bool()


class ConnectParams(Schema):
    user = Str(required=True)
    workspace = Str()
    demo = Bool()
    catalog = Str()
    destination_location = Str()
    follow = Bool()
    mode = Str(validate=_one_of(CONNECT_MODES))
    connection_id = Str()
    credentials = Str(validate=_one_of(("wrong",)))

    @validates_schema
    def _modes(self, data, **kwargs):
        mode = data.get("mode", "auto")
        if "connection_id" in data and mode != "sign_in":
            raise ValidationError({"connection_id": ["goes with mode: sign_in"]})
        if "credentials" in data and mode == "auto":
            raise ValidationError({"credentials": ["needs mode: first_time or mode: sign_in (a probe)"]})


class WorkspaceUserParams(Schema):
    workspace = Str()
    user = Str()


class ExpireAccountParams(Schema):
    workspace = Str()
    user = Str(required=True)


class ConnectionParams(Schema):
    workspace = Str()
    connection_id = Str()


class DeleteAccountParams(Schema):
    workspace = Str()
    domain = Str()


class ListConnectorsParams(Schema):
    max_pages = Int(validate=validate.Range(min=1, max=1000, error="must be between 1 and 1000"))


class FollowRedirectParams(Schema):
    uri = Str()


class FaultParams(Schema):
    """A fault rule for the scenario's duration (see simulator.faults); ``workspace`` is an alias."""

    path = Str(required=True)
    target = Str(validate=_one_of(("api", "partner")))
    method = Str()
    workspace = Str()
    status = Int(validate=validate.Range(min=100, max=599, error="must be an HTTP status"))
    body = fields.Raw()
    retry_after = Int(validate=validate.Range(min=0, error="must be >= 0"))
    latency_s = fields.Float(validate=validate.Range(min=0, max=120, error="must be between 0 and 120"))
    drop = Bool()
    timeout = Bool()
    times = Int(validate=validate.Range(min=0, error="must be >= 0"))
    offset = Int(validate=validate.Range(min=0, error="must be >= 0"))
    probability = fields.Float(validate=validate.Range(min=0, max=1, error="must be between 0 and 1"))
    seed = Int()


class RunRuleParams(Schema):
    """A run rule for the scenario's duration (see simulator.jobs.rules)."""

    match = fields.Dict(keys=Str(), values=fields.Raw(), error_messages=MAPPING)
    duration_s = fields.Float(validate=validate.Range(min=0, error="must be >= 0"))
    pending_s = fields.Float(validate=validate.Range(min=0, error="must be >= 0"))
    result_state = Str(validate=_one_of(("SUCCESS", "FAILED", "SUCCESS_WITH_FAILURES", "TIMEDOUT", "CANCELED")))
    error = Str()
    error_trace = Str()
    notebook_output = Str()
    logs = Str()
    sql = Str()
    cluster_error = fields.Raw()


class AdvanceClockParams(Schema):
    seconds = fields.Float(required=True, validate=validate.Range(min=0, error="must be >= 0"))


class ApiParams(Schema):
    """A call to the simulator's workspace API, authenticated as the partner's service principal
    (its Partner Connect PAT; default) or as ``user`` (a PAT minted for that user)."""

    method = Str(validate=_one_of(HTTP_METHODS))
    path = Str(required=True, validate=validate.Regexp(r"^/", error="must start with /"))
    query = fields.Dict(keys=Str(), values=fields.Raw(), error_messages=MAPPING)
    body = fields.Dict(keys=Str(), values=fields.Raw(), error_messages=MAPPING)
    workspace = Str()
    user = Str()


PARAMS = {
    "connect": ConnectParams, "delete_connection": WorkspaceUserParams, "partner_delete_connection": ConnectionParams,
    "delete_account": DeleteAccountParams, "expire_account": ExpireAccountParams,
    "test_connection": ConnectionParams, "list_connectors": ListConnectorsParams,
    "follow_redirect": FollowRedirectParams, "fault": FaultParams, "run_rule": RunRuleParams,
    "advance_clock": AdvanceClockParams, "api": ApiParams,
}


class ExpectSchema(Schema):
    ok = Bool()
    kind = OneOrMany(Str())
    status = OneOrMany(Int(validate=validate.Range(min=100, max=599, error="must be an HTTP status")))
    redirect_value = OneOrMany(Str(validate=_one_of(REDIRECT_VALUES)))
    user_status = OneOrMany(Str(validate=_one_of(USER_STATUSES)))
    account_status = OneOrMany(Str(validate=_one_of(ACCOUNT_STATUSES)))
    error_reason = OneOrMany(Str(validate=_one_of(ERROR_REASONS)))
    resource_status = OneOrMany(Str(validate=_one_of(RESOURCE_STATUSES)))
    configured_resources = Bool()
    connection_id = ConnectionIdExpect()
    redirect_allowed = Bool()
    test_results = OneOrMany(Str(validate=_one_of(TEST_STATUSES)))
    pages_non_empty = Bool()
    min_pages = Int(validate=validate.Range(min=1, error="must be at least 1"))
    connection = Str(validate=_one_of(CONNECTION_STATES))
    resources = Str(validate=_one_of(("present", "absent")))
    contract = Str(validate=_one_of(CONTRACT_MODES))
    message_contains = Str()
    json = fields.Dict(keys=Str(), values=fields.Raw(allow_none=True), error_messages=MAPPING)


class ExpectIfSchema(Schema):
    when = SchemaList(ConditionSchema, required=True)
    expect = Nested(ExpectSchema, required=True)
    replace = Bool()


class StepSchema(Schema):
    name = Str()
    hint = Str()
    requires = SchemaList(ConditionSchema)
    expect = Nested(ExpectSchema)
    expect_if = ListOf(Nested(ExpectIfSchema))
    capture = fields.Dict(keys=Str(validate=_identifier), values=Str(), error_messages=MAPPING)
    connect = Nested(ConnectParams)
    delete_connection = Nested(WorkspaceUserParams)
    partner_delete_connection = Nested(ConnectionParams)
    delete_account = Nested(DeleteAccountParams)
    expire_account = Nested(ExpireAccountParams)
    test_connection = Nested(ConnectionParams)
    list_connectors = Nested(ListConnectorsParams)
    follow_redirect = Nested(FollowRedirectParams)
    fault = Nested(FaultParams)
    run_rule = Nested(RunRuleParams)
    advance_clock = Nested(AdvanceClockParams)
    api = Nested(ApiParams)

    @pre_load
    def _empty_params(self, data, **kwargs):
        """``- list_connectors:`` (no parameters) means ``{}``."""
        if isinstance(data, dict):
            return {k: ({} if k in STEP_KINDS and v is None else v) for k, v in data.items()}
        return data

    @validates_schema
    def _one_action(self, data, **kwargs):
        kinds = [k for k in STEP_KINDS if k in data]
        if len(kinds) != 1:
            raise ValidationError(f"a step does exactly one of: {', '.join(STEP_KINDS)} "
                                  f"(found {', '.join(kinds) or 'none'})")
        for name, source in (data.get("capture") or {}).items():
            if source not in CAPTURE_SOURCES and not source.startswith("response."):
                raise ValidationError({"capture": [f"{name}: cannot capture {source!r} (one of "
                                                   f"{', '.join(CAPTURE_SOURCES)} or response.<field>)"]})


class ScenarioSchema(Schema):
    id = Str()
    name = Str(required=True, validate=validate.Length(min=1, error="must not be empty"))
    description = Str()
    partner = Nested(PartnerSchema)
    contract = Str(validate=_one_of(CONTRACT_MODES))
    requires = SchemaList(ConditionSchema)
    vars = fields.Dict(keys=Str(validate=_identifier), values=VarField(), error_messages=MAPPING)
    users = fields.Dict(keys=Str(validate=_identifier), values=Nested(UserSchema, allow_none=True),
                        error_messages=MAPPING)
    workspaces = fields.Dict(keys=Str(validate=_identifier), values=Nested(WorkspaceSchema, allow_none=True),
                             error_messages=MAPPING)
    steps = ListOf(Nested(StepSchema), required=True, validate=validate.Length(min=1, error="must not be empty"))


_SCHEMAS = (ScenarioSchema, StepSchema, ExpectSchema, ExpectIfSchema, ConditionSchema, PartnerSchema, UserSchema,
            WorkspaceSchema, RandomSpecSchema, *PARAMS.values())
VOCABULARY = sorted({name for schema in _SCHEMAS for name in schema._declared_fields} | {"in"})
