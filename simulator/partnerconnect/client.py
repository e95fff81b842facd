"""The one HTTP client Databricks uses to call a partner: every caller (flows, hooks, scenarios)
goes through :meth:`PartnerClient.call`.

It sends the real headers (``Authorization``, ``User-Agent: databricks``, ``Content-Type``,
``Accept-Language``) plus the request signature, retries 5xx answers, timeouts and refused
connections after 1 s, 2 s and 4 s (sleep injected), records every attempt in the exchange log with
secrets masked, and checks the final answer against the contract.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import requests

from .. import faults, signing
from ..context import Context
from ..masking import Scrubber, credential_parts, mask_body, mask_headers, secret_values
from ..partners import Partner
from ..store import dumps
from .wire import SUCCESS_SCHEMAS, ErrorResponseSchema, Violation, describe, string_values_only, validate_against

OPERATIONS = {
    "connect": ("POST", "connect_path"),
    "delete_connection": ("POST", "delete_connection_path"),
    "test_connection": ("POST", "test_connection_path"),
    "delete_account": ("DELETE", "delete_account_path"),
    "expire_account": ("PUT", "expire_account_path"),
    "connectors": ("GET", "get_connectors_path"),
}
ALLOWED_STATUSES = {"connect": {200, 201, 400, 401, 404, 500}}
DEFAULT_ALLOWED = {200, 400, 401, 404, 500}
_INJECTED_REASONS = {400: "bad_request", 401: "unauthorized", 404: "connection_not_found"}


class EndpointMissing(Exception):
    """The partner config names no path for this operation."""


@dataclass
class CallResult:
    """The final answer of a call (after retries) and what the contract checks found."""

    operation: str
    method: str
    url: str
    status: int | None = None
    body: object = None  # parsed JSON, or None
    text: str = ""
    content_type: str = ""
    error: str | None = None  # transport failure: timeout, refused, ...
    attempts: int = 0
    exchange_ids: list[int] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "warning"]

    @property
    def error_body(self) -> dict:
        return self.body if isinstance(self.body, dict) and not self.succeeded else {}

    @property
    def error_reason(self) -> str | None:
        value = self.error_body.get("error_reason")
        return value if isinstance(value, str) else None

    @property
    def display_message(self) -> str | None:
        value = self.error_body.get("display_message")
        return value if isinstance(value, str) and value else None

    def describe_failure(self) -> str:
        if self.error:
            return f"{self.error} after {self.attempts} attempt(s)"
        return f"HTTP {self.status}" + (f" {self.error_reason}" if self.error_reason else "")


def _retryable(status: int | None, error: str | None) -> bool:
    return error is not None or (status is not None and status >= 500)


class PartnerClient:
    """Calls one partner on behalf of Databricks."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def url_for(self, partner: Partner, operation: str) -> tuple[str, str]:
        method, key = OPERATIONS[operation]
        path = partner.endpoints.get(key)
        if not path:
            raise EndpointMissing(f"partner {partner.name!r} has no endpoints.{key} in its config")
        return method, partner.base_url + path

    def headers(self, partner: Partner, language: str) -> dict[str, str]:
        headers = {"User-Agent": "databricks", "Content-Type": "application/json",
                   "Accept-Language": language or "en-US", "Accept": "application/json"}
        auth = partner.authorization_header()
        if auth:
            headers["Authorization"] = auth
        return headers

    def call(self, partner: Partner, operation: str, body: dict | None = None, *, query: dict | None = None,
             language: str = "en-US", workspace_id: int | None = None, flow_id: str | None = None) -> CallResult:
        method, url = self.url_for(partner, operation)
        if query:
            url = f"{url}?{urlencode(query)}"
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        parts = urlsplit(url)
        signed_path = parts.path + (f"?{parts.query}" if parts.query else "")
        result = CallResult(operation=operation, method=method, url=url)
        # What Databricks sends on this call, so nothing of it survives in what is kept or shown.
        scrub = Scrubber(secret_values(body) + credential_parts(partner.authorization_header())
                         + [partner.basic_password, partner.signing_secret])
        delays = list(self.ctx.settings.retry_delays)
        attempt = 0
        while True:  # bounded: one attempt plus one per retry delay
            attempt += 1
            headers = self.headers(partner, language)
            headers.update(signing.sign(partner.signing_secret, method, signed_path, data, self.ctx.wall.now()))
            self._attempt(result, method, url, headers, data, attempt, partner, workspace_id, flow_id, scrub)
            if not _retryable(result.status, result.error) or not delays:
                break
            self.ctx.clock.sleep(delays.pop(0))
        result.attempts = attempt
        self._check(result)
        if scrub.changed:
            result.violations.append(Violation("body", "must not echo the credentials Databricks sent (they are "
                                               "masked in what the simulator keeps)", "a PAT, secret or "
                                               "Authorization value", "warning"))
        self.record_checks(result)
        return result

    def _attempt(self, result, method, url, headers, data, attempt, partner, workspace_id, flow_id, scrub):
        started = time.perf_counter()
        result.status, result.error, result.text, result.content_type, resp_headers = None, None, "", "", {}
        fault = faults.match(self.ctx, "partner", method, urlsplit(url).path, workspace_id)
        try:
            if fault:
                resp_headers = self._injected(result, fault)
            else:
                resp = self.ctx.session.request(method, url, headers=headers, data=data or None,
                                                timeout=self.ctx.settings.partner_timeout_s, allow_redirects=False)
                result.status, result.text = resp.status_code, scrub(resp.text)
                result.content_type = resp.headers.get("Content-Type", "")
                resp_headers = {k: scrub(v) for k, v in resp.headers.items()}
        except requests.Timeout:
            result.error = f"timeout (no answer within {self.ctx.settings.partner_timeout_s:g}s)"
        except requests.ConnectionError as exc:
            result.error = "connection refused" if "refused" in str(exc).lower() else f"connection failed: {type(exc).__name__}"
        except requests.RequestException as exc:
            result.error = f"request failed: {type(exc).__name__}"
        try:
            result.body = json.loads(result.text) if result.text else None
        except ValueError:
            result.body = None
        duration_ms = (time.perf_counter() - started) * 1000
        with self.ctx.store.atomic() as db:
            db["exchanges"].insert({
                "flow_id": flow_id, "at": self.ctx.clock.now(), "partner_name": partner.name,
                "workspace_id": workspace_id, "operation": result.operation, "method": method, "url": scrub(url),
                "request_headers": dumps(mask_headers(headers)), "request_body": scrub(mask_body(data)),
                "status": result.status, "response_headers": dumps(mask_headers(resp_headers)),
                "response_body": mask_body(result.text), "error": result.error,
                "duration_ms": round(duration_ms, 3), "attempt": attempt, "checks": None,
            })
            result.exchange_ids.append(db.execute("SELECT last_insert_rowid()").fetchone()[0])

    def _injected(self, result: CallResult, fault: faults.Fault) -> dict:
        """A fault rule stands in for the partner: slow, unreachable, timing out or failing."""
        timeout = self.ctx.settings.partner_timeout_s
        if fault.latency_s:
            time.sleep(min(fault.latency_s, timeout))
        if fault.timeout or fault.latency_s >= timeout:
            raise requests.Timeout(f"injected by fault #{fault.id}")
        if fault.drop:
            raise requests.ConnectionError(f"connection refused (injected by fault #{fault.id})")
        if fault.status is None:
            raise requests.ConnectionError(f"fault #{fault.id} has no status to answer with")
        body = fault.body if fault.body is not None else {
            "error_reason": _INJECTED_REASONS.get(fault.status, "general_error"),
            "display_message": f"Injected fault #{fault.id}", "debugging_message": f"HTTP {fault.status}"}
        result.status, result.text = fault.status, json.dumps(body)
        result.content_type = "application/json"
        return {"Content-Type": "application/json", "X-Pcsim-Fault": str(fault.id), **fault.headers()}

    def _check(self, result: CallResult) -> None:
        """Contract checks on the final answer: status, content type, body shape."""
        if result.error:
            return
        allowed = ALLOWED_STATUSES.get(result.operation, DEFAULT_ALLOWED)
        if result.status in allowed:
            result.passed.append(f"status {result.status} is allowed for {result.operation}")
        else:
            result.violations.append(Violation("status", f"{result.operation} may answer only "
                                               + "/".join(map(str, sorted(allowed))), str(result.status)))
        if result.body is None and result.text:
            result.violations.append(Violation("body", "must be JSON", describe(result.text[:80])))
            return
        if result.succeeded:
            if "application/json" not in result.content_type.lower():
                result.violations.append(Violation("Content-Type", "success bodies must be application/json",
                                                   result.content_type or "no Content-Type", "warning"))
            if result.body is None and result.operation in ("delete_account", "expire_account"):
                return  # an empty 200 is acceptable where the contract defines no body
            _, found = validate_against(SUCCESS_SCHEMAS[result.operation], result.body)
        elif result.status in allowed:
            _, found = validate_against(ErrorResponseSchema, result.body)
            if isinstance(result.body, dict):
                found += string_values_only(result.body)
        else:
            return
        if found:
            result.violations.extend(found)
        else:
            result.passed.append(f"{'success' if result.succeeded else 'error'} body matches the contract")

    def record_checks(self, result: CallResult) -> None:
        """Store the checks (passed and failed) on the exchange of the final attempt."""
        if not result.exchange_ids:
            return
        checks = [{"ok": True, "check": p} for p in result.passed] + \
                 [{"ok": False, **v.as_dict()} for v in result.violations]
        with self.ctx.store.atomic() as db:
            db["exchanges"].update(result.exchange_ids[-1], {"checks": dumps(checks)})
