"""The partner registry: partner configs in the certification format, their credentials and
signing secrets.

A config is the certification suite's ``PartnerConfig`` (plus ``auth_options`` and
``is_published_app``), with an optional simulator-specific section under the key ``pcsim``:
``signing_secret``, ``basic_user``, ``basic_password`` or a raw ``authorization`` header value.
Credentials are stored, and only shown when asked (``reveal=True``).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from .context import Context
from .errors import Conflict, Invalid, NotFound
from .masking import mask_value
from .partnerconnect.wire import SIMULATOR_SECTION, PartnerConfigSchema, validate_against
from .store import dumps, loads


@dataclass
class Partner:
    name: str
    config: dict
    source: str
    basic_user: str | None
    basic_password: str | None
    authorization_value: str | None
    signing_secret: str
    self_test_workspace_id: int | None = None

    @property
    def endpoints(self) -> dict:
        return self.config.get("endpoints") or {}

    @property
    def base_url(self) -> str:
        return self.config["base_url"].rstrip("/")

    @property
    def auth_options(self) -> list[str]:
        return list(self.config.get("auth_options") or [])

    @property
    def uses_pat(self) -> bool:
        """PAT unless the partner chose OAuth only."""
        options = self.auth_options
        return not options or "AUTH_PAT" in options

    @property
    def resource_types(self) -> set[str]:
        return {r["resource_type"] for r in self.config.get("resources_to_provision") or []}

    def authorization_header(self) -> str | None:
        """The ``Authorization`` value Databricks sends to this partner (None: no header)."""
        if self.authorization_value is not None:
            return self.authorization_value or None
        if self.basic_user is not None or self.basic_password is not None:
            raw = f"{self.basic_user or ''}:{self.basic_password or ''}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        return None

    def summary(self, reveal: bool = False) -> dict:
        """What ``partners show`` prints: secrets masked unless ``reveal``."""
        show = (lambda v: v) if reveal else (lambda v: None if v is None else mask_value(v))
        return {
            "name": self.name, "category": self.config.get("category"), "base_url": self.base_url,
            "source": self.source, "endpoints": self.endpoints,
            "supported_clouds": self.config.get("supported_clouds"), "hostnames": self.config.get("hostnames"),
            "resources_to_provision": sorted(self.resource_types), "auth_options": self.auth_options,
            "new_user_action": self.config.get("new_user_action"),
            "basic_user": self.basic_user, "basic_password": show(self.basic_password),
            "authorization": show(self.authorization_value), "signing_secret": show(self.signing_secret),
            "self_test_workspace_id": self.self_test_workspace_id,
        }


def validate_config(config, source: str = "config") -> dict:
    """Validate a partner config; raises Invalid naming every field and broken rule."""
    loaded, violations = validate_against(PartnerConfigSchema, config)
    if violations:
        lines = "\n".join(f"  - {v}" for v in violations)
        raise Invalid(f"invalid partner config in {source}:\n{lines}")
    return loaded


def read_config_file(path: str | Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise Invalid(f"cannot read partner config {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise Invalid(f"partner config {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                      f"offset {exc.start}); save it as UTF-8 JSON") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Invalid(f"partner config {path} is not valid JSON: {exc}") from None


def register(ctx: Context, config: dict, *, source: str = "cli", basic_user: str | None = None,
             basic_password: str | None = None, authorization: str | None = None,
             signing_secret: str | None = None, replace: bool = False,
             self_test_workspace_id: int | None = None) -> Partner:
    """Add (or with ``replace`` update) a partner. Credentials given here win over the config's
    ``pcsim`` section; a signing secret is generated when neither provides one."""
    config = validate_config(config, source)
    section = config.get(SIMULATOR_SECTION) or {}
    name = config["name"]
    existing = ctx.store.one("SELECT name, signing_secret FROM partners WHERE name = ?", (name,))
    if existing and not replace:
        raise Conflict(f"partner {name!r} is already registered (use --replace to update it)")
    secret = signing_secret or section.get("signing_secret") or (existing or {}).get("signing_secret") \
        or ctx.ids.signing_secret()
    row = {
        "name": name, "config": dumps(config), "source": source,
        "basic_user": basic_user if basic_user is not None else section.get("basic_user"),
        "basic_password": basic_password if basic_password is not None else section.get("basic_password"),
        "authorization_value": authorization if authorization is not None else section.get("authorization"),
        "signing_secret": secret, "self_test_workspace_id": self_test_workspace_id,
        "created_at": ctx.clock.now(),
    }
    with ctx.store.atomic() as db:
        db["partners"].upsert(row, pk="name")
    return get(ctx, name)


def load_directory(ctx: Context, directory: str | Path) -> list[str]:
    """Register every ``*.json`` config of a directory that is not registered yet."""
    names = []
    for path in sorted(Path(directory).glob("*.json")):
        config = read_config_file(path)
        name = config.get("name") if isinstance(config, dict) else None
        if name and ctx.store.one("SELECT name FROM partners WHERE name = ?", (name,)):
            continue
        names.append(register(ctx, config, source=f"fixture:{path.name}").name)
    return names


def _from_row(row: dict) -> Partner:
    return Partner(name=row["name"], config=loads(row["config"]), source=row["source"],
                   basic_user=row["basic_user"], basic_password=row["basic_password"],
                   authorization_value=row["authorization_value"], signing_secret=row["signing_secret"],
                   self_test_workspace_id=row["self_test_workspace_id"])


def get(ctx: Context, name: str) -> Partner:
    row = ctx.store.one("SELECT * FROM partners WHERE name = ?", (name,))
    if row is None:
        known = ", ".join(r["name"] for r in ctx.store.query("SELECT name FROM partners ORDER BY name")) or "none"
        raise NotFound(f"no partner named {name!r} (registered: {known})")
    return _from_row(row)


def list_partners(ctx: Context) -> list[Partner]:
    return [_from_row(r) for r in ctx.store.query("SELECT * FROM partners ORDER BY name")]


def remove(ctx: Context, name: str) -> None:
    get(ctx, name)
    if ctx.store.count("connections", "partner_name = ?", (name,)):
        raise Conflict(f"partner {name!r} still has connections; delete them first (`pcsim disconnect`)")
    with ctx.store.atomic() as db:
        db.execute("DELETE FROM partners WHERE name = ?", (name,))
