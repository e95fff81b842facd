"""Jinja filters for the pages: times, JSON bodies, links in messages."""
from __future__ import annotations

import json
import re
import time

from markupsafe import Markup, escape

_URL = re.compile(r"https?://[^\s<>\"')]+")


def ts(value) -> str:
    """Epoch seconds (the injected clock's) as ``2026-01-01 00:00:00 UTC``."""
    if value is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(value)))


def pretty_json(value) -> str:
    """A JSON text or value indented for reading; other text unchanged (ints stay exact)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def partner_error(body) -> str:
    """``error_reason: display_message`` of a partner's JSON error body (masked text), else ``""``."""
    try:
        data = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        return ""
    if not isinstance(data, dict) or "error_reason" not in data:
        return ""
    reason, message = data.get("error_reason"), data.get("display_message")
    return f"{reason}: {message}" if message else str(reason)


def linkify(text) -> Markup:
    """Escape ``text`` and turn the http(s) URLs in it into links opening in a new tab."""
    text = str(text or "")
    out, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:")
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<a href="{0}" target="_blank" rel="noopener">{0}</a>').format(url))
        last = match.start() + len(url)
    out.append(escape(text[last:]))
    return Markup("").join(out)


def register(app_or_bp) -> None:
    for name, func in (("ts", ts), ("pretty_json", pretty_json), ("linkify", linkify),
                       ("partner_error", partner_error)):
        app_or_bp.add_app_template_filter(func, name)
