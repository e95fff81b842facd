"""Reports of a run: console lines, JUnit XML (one testsuite per scenario, one testcase per step)
and one self-contained HTML file (inline CSS, no external assets) with every step's exchanges.

Exchanges come from the exchange log, where secrets are already masked.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from .. import __version__, exchanges
from ..context import Context
from ..web.filters import pretty_json
from .runner import RunResult, ScenarioResult, StepResult

MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


# ---------------------------------------------------------------- console

def scenario_header(result: ScenarioResult) -> str:
    return f"{result.label}  ({result.path})"


def step_line(step: StepResult) -> str:
    line = f"  {MARKS[step.status]}  {step.title}: {step.reason}"
    if step.fix_hint:
        line += f"  -> {step.fix_hint}"
    return line


def summary_line(passed: int, failed: int, skipped: int) -> str:
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")


# ---------------------------------------------------------------- JUnit XML

def junit_xml(result: RunResult, *, name: str = "pcsim") -> str:
    """JUnit XML: ``<testsuites>`` with one ``<testsuite>`` per scenario, one ``<testcase>`` per step."""
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for sc in result.scenarios:
        steps = sc.steps
        failures = sum(1 for s in steps if s.status == "failed" and not s.error)
        errors = sum(1 for s in steps if s.status == "failed" and s.error)
        skipped = sum(1 for s in steps if s.status == "skipped")
        tests = len(steps)
        if sc.status == "skipped" and not steps:
            tests = skipped = 1
        suite = ET.SubElement(root, "testsuite", name=sc.label, tests=str(tests), failures=str(failures),
                              errors=str(errors), skipped=str(skipped), time=f"{sc.duration_s:.3f}", file=sc.path)
        if sc.description:
            props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", name="description", value=sc.description)
        classname = sc.id or sc.name
        if sc.status == "skipped" and not steps:
            case = ET.SubElement(suite, "testcase", classname=classname, name="(scenario)", time="0.000")
            ET.SubElement(case, "skipped", message=sc.skip_reason or "skipped")
        for step in steps:
            case = ET.SubElement(suite, "testcase", classname=classname, name=step.title,
                                 time=f"{step.duration_s:.3f}", file=sc.path, line=str(step.line))
            if step.status == "skipped":
                ET.SubElement(case, "skipped", message=step.reason)
            elif step.status == "failed":
                tag = "error" if step.error else "failure"
                node = ET.SubElement(case, tag, message=step.reason, type="ExpectationFailed" if not step.error
                                     else "StepError")
                details = [str(c) for c in step.checks if not c.ok] or [step.reason]
                if step.fix_hint:
                    details.append(f"hint: {step.fix_hint}")
                node.text = "\n".join(details)
        for key, value in (("tests", tests), ("failures", failures), ("errors", errors), ("skipped", skipped),
                           ("time", sc.duration_s)):
            totals[key] += value
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---------------------------------------------------------------- HTML

_env = Environment(loader=PackageLoader("simulator.scenarios", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _exchange(ctx: Context, exchange_id: int) -> dict | None:
    row = exchanges.get(ctx, exchange_id)
    if row is None:
        return None
    row["request_body"] = pretty_json(row.get("request_body"))
    row["response_body"] = pretty_json(row.get("response_body"))
    row["failed_checks"] = [c for c in row.get("checks") or [] if not c.get("ok")]
    return row


def html_report(ctx: Context, result: RunResult, *, title: str = "pcsim scenario run",
                extra: dict | None = None) -> str:
    """One HTML file: every scenario, every step with its verdict, checks and masked exchanges."""
    scenarios = []
    for sc in result.scenarios:
        steps = [{"step": s, "exchanges": [e for e in (_exchange(ctx, i) for i in s.exchange_ids) if e]}
                 for s in sc.steps]
        scenarios.append({"result": sc, "steps": steps})
    counts = {"passed": result.steps("passed"), "failed": result.steps("failed"), "skipped": result.steps("skipped")}
    return _env.get_template("report.html").render(
        title=title, scenarios=scenarios, counts=counts, ok=result.ok, version=__version__,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), marks=MARKS, extra=extra or {},
        seed=result.seed)


def write(path: str | Path, text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- live console output

class ConsolePrinter:
    """Prints results as they come: ``run`` shows every step, ``certify`` one line per case (with
    the steps of failed cases, or of all cases when ``verbose``)."""

    def __init__(self, echo, *, per_case: bool = False, verbose: bool = False):
        self.echo = echo
        self.per_case = per_case
        self.verbose = verbose
        self._current = None

    def on_step(self, scenario: ScenarioResult, step: StepResult) -> None:
        if self.per_case:
            return
        if self._current is not scenario:
            self._current = scenario
            self.echo(scenario_header(scenario))
        self.echo(step_line(step))

    def on_scenario(self, scenario: ScenarioResult) -> None:
        if self.per_case:
            line = f"{MARKS[scenario.status]}  {scenario.label}"
            if scenario.status == "skipped":
                line += f"  ({scenario.skip_reason})"
            self.echo(line)
            if scenario.status == "failed" or self.verbose:
                for step in scenario.steps:
                    self.echo("    " + step_line(step).strip())
        elif scenario.status == "skipped":
            self.echo(scenario_header(scenario))
            self.echo(f"  SKIP  {scenario.skip_reason}")


def manual_checklist(manual: list[dict]) -> list[str]:
    if not manual:
        return []
    lines = ["Manual checks (verified with Databricks on the onboarding call):"]
    for item in manual:
        lines.append(f"  [ ] {item['id']} {item['title']}")
        lines.append(f"        {item['check']}")
    return lines
