"""The bundled seed data: workspaces, users and partner configs under the repo's ``fixtures/``."""
from __future__ import annotations

import os
from pathlib import Path

from . import partners, workspaces
from .context import Context


def fixtures_dir() -> Path | None:
    """``$PCSIM_FIXTURES``, else the checkout's ``fixtures/`` next to the package (None if absent)."""
    env = os.environ.get("PCSIM_FIXTURES")
    path = Path(env) if env else Path(__file__).resolve().parent.parent / "fixtures"
    return path if path.is_dir() else None


def seed(ctx: Context, directory: str | Path | None = None) -> dict:
    """Load seed.json and partners/*.json (rows that exist already are kept), in one transaction:
    a bad file leaves the state file as it was."""
    base = Path(directory) if directory else fixtures_dir()
    result = {"workspaces": 0, "users": 0, "partners": []}
    if base is None:
        return result
    with ctx.store.atomic():
        if (base / "seed.json").exists():
            result.update(workspaces.load_seed(ctx, base / "seed.json"))
        if (base / "partners").is_dir():
            result["partners"] = partners.load_directory(ctx, base / "partners")
    ctx.store.set_meta("seeded", "1")  # commits: outside the transaction
    return result


def ensure_seeded(ctx: Context) -> None:
    """Seed a brand-new state file once, so the first command already has something to act on."""
    if ctx.store.get_meta("seeded") is None and ctx.store.count("workspaces") == 0:
        seed(ctx)
