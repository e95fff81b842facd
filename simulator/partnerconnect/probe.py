"""Probes: one connect call sent exactly as Databricks sends it, without touching connection rows.

The certification catalogue needs requests that :func:`flows.connect` would never send for the
state the simulator holds: a *first-time* connect (``is_connection_established=false``) in a
workspace that already has a connection ("the identical first-time connect twice"), or a sign-in
with a partner connection id that is no longer the stored one. :func:`connect` builds such a request
with :func:`flows.build_connect_payload` and sends it through :class:`PartnerClient` (same headers,
signature, retries, exchange log and contract checks as every other call), then classifies the
answer the way the flows do. It never creates, changes or deletes a connection row:

* first-time probes provision real resources (service principal, fresh PAT, warehouse, grants...)
  in one transaction, send them, and remove them afterwards (tokens revoked, rows deleted);
* sign-in probes reuse the resources of the workspace's connection when there is one, and
  otherwise provision (and remove) a temporary set for the payload.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

from .. import partners as partner_registry
from .. import workspaces
from ..context import Context
from ..errors import Invalid
from ..partners import Partner
from . import flows, provisioning, redirects
from .client import CallResult, PartnerClient


@dataclass
class ProbeOutcome:
    """What the probe saw: ``outcome`` (same shape as the flows return) and the raw ``call``."""

    outcome: flows.Outcome
    call: CallResult
    established: bool
    connection_id_sent: str | None = None


def _provision_temporary(ctx: Context, partner: Partner, workspace: dict,
                         catalog_name: str | None) -> provisioning.Provisioned:
    with ctx.store.atomic() as db:
        return provisioning.provision(ctx, db, partner=partner, workspace=workspace, connection_id=None,
                                      catalog_name=catalog_name)


def _remove_temporary(ctx: Context, prov: provisioning.Provisioned) -> None:
    """Undo :func:`_provision_temporary`: revoke its tokens, delete everything else it created."""
    sp = prov.service_principal
    if not sp:
        return
    with ctx.store.atomic() as db:
        db.execute("UPDATE tokens SET revoked_at = ? WHERE owner_kind = 'service_principal' AND owner_id = ? "
                   "AND revoked_at IS NULL", (ctx.clock.now(), sp["id"]))
        db.execute("DELETE FROM grants WHERE principal = ? AND workspace_id = ? AND connection_id IS NULL",
                   (sp["application_id"], sp["workspace_id"]))
        db.execute("DELETE FROM oauth_secrets WHERE service_principal_id = ?", (sp["id"],))
        if prov.oauth_u2m_app_id:
            db.execute("DELETE FROM oauth_apps WHERE client_id = ?", (prov.oauth_u2m_app_id,))
        if prov.warehouse:
            db.execute("DELETE FROM warehouses WHERE id = ?", (prov.warehouse["id"],))
        if prov.cluster:
            db.execute("DELETE FROM clusters WHERE id = ?", (prov.cluster["id"],))
        db.execute("DELETE FROM service_principals WHERE id = ?", (sp["id"],))


def connect(ctx: Context, *, partner_name: str, workspace_id: int, user_email: str, established: bool,
            connection_id: str | None = None, demo: bool = False, catalog: str | None = None,
            destination_location: str | None = None, follow_redirect: bool = False,
            partner: Partner | None = None) -> ProbeOutcome:
    """Send one connect request as ``user_email`` in ``workspace_id``; connection rows stay as they are.

    ``established=False`` sends a first-time connect (with freshly minted credentials);
    ``established=True`` sends a sign-in with ``connection_id`` (default: the id the workspace's
    connection holds). ``partner`` replaces the registered partner for this call only (e.g. a copy
    with wrong credentials).
    """
    partner = partner or partner_registry.get(ctx, partner_name)
    workspace = workspaces.get_workspace(ctx, workspace_id)
    user = workspaces.membership(ctx, workspace_id, user_email)
    if "connect_path" not in partner.endpoints:
        raise Invalid(f"partner {partner.name!r} has no connect endpoint")
    stored = flows.find_connection(ctx, partner.name, workspace_id)
    if established and connection_id is None:
        if not stored or not stored["partner_connection_id"]:
            raise Invalid(f"a sign-in probe needs a connection id: workspace {workspace_id} has no connection "
                          f"to {partner.name} with a partner connection id")
        connection_id = stored["partner_connection_id"]

    temporary = None
    if established and stored:
        prov = provisioning.load(ctx, stored["id"])
        catalog_name = stored["catalog_name"] if catalog is None else catalog
        destination_location = destination_location or stored["destination_location"]
    else:
        catalog_name = flows.choose_catalog(ctx, partner, workspace, catalog)
        prov = temporary = _provision_temporary(ctx, partner, workspace, catalog_name)
    try:
        body = flows.build_connect_payload(
            ctx, partner=partner, workspace=workspace, user=user, prov=prov, established=established, demo=demo,
            catalog_name=catalog_name, destination_location=destination_location, connection_id=connection_id,
            pat=None if established else prov.pat, oauth_secret=None if established else prov.oauth_secret)
        call = PartnerClient(ctx).call(partner, "connect", body, language=user["language"],
                                       workspace_id=workspace_id, flow_id=uuid.uuid4().hex)
    finally:
        if temporary is not None:
            _remove_temporary(ctx, temporary)
    outcome = _classify(ctx, partner, workspace_id, call, established, prov.summary(), follow_redirect)
    outcome.connection = stored
    return ProbeOutcome(outcome=outcome, call=call, established=established,
                        connection_id_sent=connection_id if established else None)


def _classify(ctx: Context, partner: Partner, workspace_id: int, call: CallResult, established: bool,
              provisioned: dict, follow_redirect: bool) -> flows.Outcome:
    """The flows' reading of a connect answer, minus any change to the stored connection."""
    what = "sign-in" if established else "first-time connect"
    out = flows.outcome_from_call(partner, workspace_id, call, ok=False, kind="probe", message="",
                                  established=established, provisioned=provisioned)
    if call.error or (call.status is not None and call.status >= 500):
        out.kind = "partner_unavailable"
        out.message = f"{partner.name} did not answer the {what} ({call.describe_failure()})."
    elif call.status == 404 and call.error_reason in ("connection_not_found", "account_not_found"):
        out.kind = "connection_stale" if call.error_reason == "connection_not_found" else "account_not_found"
        out.message = f"{partner.name} answered 404 {call.error_reason} to the {what}."
    elif not call.succeeded or call.errors:
        out.kind = "contract_violation" if call.succeeded else "rejected"
        out.message = (f"{partner.name} broke the contract: {flows.violations_text(call.errors)}."
                       if call.succeeded else f"{partner.name} answered the {what} with {call.describe_failure()}"
                       + (f" ({call.display_message})." if call.display_message else "."))
    else:
        extra, passed, check = flows.answer_checks(partner, call.body, call.status, established=established)
        flows.add_checks(ctx, call, extra, passed)
        out.redirect_uri = call.body["redirect_uri"]
        out.redirect = asdict(check)
        if call.errors:
            out.kind = "redirect_blocked" if not check.allowed else "contract_violation"
            out.message = f"{partner.name} broke the contract: {flows.violations_text(call.errors)}."
        else:
            out.ok = True
            if established:
                out.kind = "signed_in"
            else:
                out.kind = "connected" if call.body["configured_resources"] else "not_configured"
            out.message = f"{partner.name} answered the {what}: {call.status} {call.body['redirect_value']}."
            if call.warnings:
                out.message += f" Contract warnings: {flows.violations_text(call.warnings)}."
        if follow_redirect and check.allowed:
            followed = redirects.follow(ctx.session, call.body["redirect_uri"], ctx.settings.redirect_timeout_s)
            out.followed = asdict(followed)
            if not followed.ok:
                out.ok = False
                out.message += f" Opening the redirect failed: {followed.message}."
    out.violations = [v.as_dict() for v in call.errors]
    out.warnings = [v.as_dict() for v in call.warnings]
    return out
