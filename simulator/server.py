"""The simulator's own HTTP server: Flask app factory taking an injected :class:`Context`.

It serves the control namespace ``/-/`` (health, exchanges, reset here; state, HAR export and fault
rules in ``control``), the browser pages and the fake workspace API.
"""
from __future__ import annotations

from flask import Flask, jsonify, request

from . import __version__, control, exchanges, web, workspace_api
from .context import Context
from .errors import PcsimError


def create_app(ctx: Context) -> Flask:
    app = Flask(__name__)
    app.config["PCSIM_CONTEXT"] = ctx
    app.json.sort_keys = False
    workspace_api.init_app(app)
    web.init_app(app, ctx)  # the browser pages: / is the Partner Connect gallery

    @app.get("/-/health")
    def health():
        """Liveness and identity, for scripts waiting on ``pcsim serve``."""
        return jsonify({"status": "ok", "version": __version__, "public_url": ctx.public_url})

    @app.get("/-/exchanges")
    def list_exchanges():
        """The exchange log (masked), newest first; ``?last=N&partner=NAME&workspace_id=ID``."""
        try:
            filters = control.exchange_filters(request.args)
        except PcsimError as exc:
            return jsonify({"error_code": "INVALID_PARAMETER_VALUE", "message": str(exc)}), 400
        return jsonify({"exchanges": exchanges.recent(ctx, **filters)})

    @app.post("/-/reset")
    def reset():
        """Forget all state (workspaces, partners, connections, exchanges)."""
        ctx.store.reset()
        return jsonify({})

    @app.get("/-/")
    def index():
        return jsonify({"name": "Partner Connect Simulator", "version": __version__, "ui": "/",
                        "health": "/-/health", "exchanges": "/-/exchanges", "har": "/-/exchanges.har",
                        "state": "/-/state"})

    return app
