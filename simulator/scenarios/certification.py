"""The certification catalogue (P100-P900 plus the credentials check) as scenario files.

The files live in the package (``simulator/scenarios/certification/``, shipped as package data);
the repository's top-level ``scenarios/certification`` is a symlink to that directory, so the
same files serve a checkout and an installed package. ``$PCSIM_CERTIFICATION_DIR`` replaces them.
Cases run with ``contract: strict``: any contract violation or warning fails the step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..context import Context
from . import loader
from .runner import PartnerSpec, Runner, RunResult

MANUAL_FILE = "manual-checks.yaml"


def certification_dir() -> Path:
    env = os.environ.get("PCSIM_CERTIFICATION_DIR")
    return Path(env) if env else Path(__file__).resolve().parent / "certification"


def catalogue(directory: Path | None = None) -> list[loader.Scenario]:
    """The automated cases, in catalogue order (by id)."""
    base = directory or certification_dir()
    files = [f for f in loader.expand([base]) if f.name != MANUAL_FILE]
    scenarios = loader.load_paths(files, partner_given=True) if files else []
    return sorted(scenarios, key=lambda s: (s.id or "~", s.name))


def manual_checks(directory: Path | None = None) -> list[dict]:
    """The cases a person verifies on the onboarding call: id, title, what the validator looks for."""
    path = (directory or certification_dir()) / MANUAL_FILE
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text()) or {}
    return [{"id": m["id"], "title": m["title"], "check": " ".join(str(m["check"]).split())}
            for m in data.get("manual", [])]


@dataclass
class CertificationResult:
    run: RunResult
    manual: list[dict] = field(default_factory=list)
    partner: str | None = None

    @property
    def ok(self) -> bool:
        return self.run.ok

    def counts(self) -> dict:
        return {k: self.run.cases(k) for k in ("passed", "failed", "skipped")}

    def failed_cases(self) -> list[str]:
        return [s.id or s.name for s in self.run.scenarios if s.status == "failed"]

    def as_dict(self) -> dict:
        return {"ok": self.ok, "partner": self.partner, "summary": self.counts(),
                "cases": [s.as_dict() for s in self.run.scenarios], "manual": self.manual}


def certify(ctx: Context, partner: PartnerSpec, *, example_partner: bool = False, seed: int | None = None,
            directory: Path | None = None, on_step=None, on_scenario=None) -> CertificationResult:
    """Run every automated case against the partner; the Python API behind ``pcsim certify``."""
    if partner.config is None and partner.name is None:
        raise ValueError("certify needs a partner (a config file or a registered name)")
    cases = catalogue(directory)
    with Runner(ctx, partner=partner, seed=seed, example_partner=example_partner, contract="strict",
                on_step=on_step, on_scenario=on_scenario) as runner:
        run = runner.run(cases)
    name = next((s.partner for s in run.scenarios if s.partner), None)
    return CertificationResult(run=run, manual=manual_checks(directory), partner=name)
