"""Who the browser acts as: a workspace and one of its members, kept in the signed session.

Ids travel as decimal strings (``"<workspace_id>:<email>"``) so 64-bit workspace ids stay exact
in HTML, forms and cookies.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import session

from .. import workspaces
from ..context import Context
from ..errors import Invalid, PcsimError

SESSION_KEY = "identity"


@dataclass
class Identity:
    workspace: dict
    user: dict  # the membership row: users.* plus is_admin

    @property
    def workspace_id(self) -> int:
        return self.workspace["id"]

    @property
    def email(self) -> str:
        return self.user["email"]

    @property
    def token(self) -> str:
        return identity_token(self.workspace_id, self.email)


def identity_token(workspace_id: int, email: str) -> str:
    return f"{workspace_id}:{email}"


def parse_token(value: str | None) -> tuple[int, str]:
    workspace, _, email = (value or "").partition(":")
    try:
        wid = int(workspace)
    except ValueError:
        raise Invalid(f"choose a workspace and a user (got {value!r})") from None
    if not workspaces.is_int64_id(wid):
        raise Invalid(f"workspace ids are positive 64-bit integers (at most {workspaces.INT64_MAX}); "
                      f"got {workspace}")
    if not email:
        raise Invalid(f"choose a user for workspace {wid}")
    return wid, email


def resolve(ctx: Context, workspace_id: int, email: str) -> Identity:
    """The member ``email`` of ``workspace_id``, or a PcsimError saying what is missing."""
    workspace = workspaces.get_workspace(ctx, workspace_id)
    return Identity(workspace, workspaces.membership(ctx, workspace_id, email))


def current(ctx: Context) -> Identity | None:
    """The session's identity; None (and forgotten) when unset or no longer valid (e.g. after a reset)."""
    raw = session.get(SESSION_KEY)
    if not raw:
        return None
    try:
        return resolve(ctx, *parse_token(raw))
    except PcsimError:
        session.pop(SESSION_KEY, None)
        return None


def remember(identity: Identity) -> None:
    session[SESSION_KEY] = identity.token


def choices(ctx: Context) -> list[dict]:
    """Every workspace with its members, for the who-am-I page and the header's switcher."""
    return [{"workspace": ws, "members": workspaces.list_users(ctx, ws["id"])}
            for ws in workspaces.list_workspaces(ctx)]
