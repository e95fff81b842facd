"""The pages a Databricks user sees when connecting a partner: who am I, the Partner Connect
gallery, the tile dialog (plan → "Connect to <partner>" → outcome), connected tiles, desktop
connection files, and the exchange log.

Server-rendered Jinja templates with a little plain JavaScript, all assets served from this
package (no CDN, no build step). Views are small: they read the session's identity, call the flow
functions and registries, and render. Usage errors (:class:`~simulator.errors.PcsimError`) are
shown on the page as text, never as a stack trace.

Identity is a signed session cookie (no passwords): the workspace and the member acted as. The
Flask secret key is generated once per state file and kept in the store's ``meta`` table.
"""
from __future__ import annotations

import secrets

from flask import Flask

from ..context import Context
from .views import bp

SECRET_META_KEY = "web_secret_key"


def secret_key(ctx: Context) -> str:
    """This state file's session-signing key (generated on first use)."""
    key = ctx.store.get_meta(SECRET_META_KEY)
    if not key:
        key = secrets.token_urlsafe(32)
        ctx.store.set_meta(SECRET_META_KEY, key)
    return key


def init_app(app: Flask, ctx: Context) -> None:
    """Register the pages on the simulator's app (``/`` is the gallery)."""
    app.secret_key = secret_key(ctx)
    app.config["SESSION_COOKIE_NAME"] = "pcsim_session"  # cookies ignore ports: don't clash with a partner's
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(bp)


__all__ = ["bp", "init_app", "secret_key"]
