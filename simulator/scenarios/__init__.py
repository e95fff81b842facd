"""Scenario replays and the certification run.

* :mod:`.loader` and :mod:`.schema`: YAML scenario files (line numbers kept) validated with
  marshmallow, and checked for references, before anything runs;
* :mod:`.templating`: ``${...}`` variables (fresh random values, captures, ``env.NAME``);
* :mod:`.expectations`: conditions on the partner config and the checks of each step;
* :mod:`.runner`: runs scenarios against a partner through the flow functions (and
  :mod:`simulator.partnerconnect.probe`), each scenario in fresh workspaces;
* :mod:`.certification`: the P100-P900 catalogue shipped as scenario files;
* :mod:`.report`: console lines, JUnit XML, a self-contained HTML report;
* :mod:`.example`: the bundled example partner, started in a thread.
"""
from __future__ import annotations

from .loader import Scenario, ScenarioError, load_file, load_paths
from .runner import PartnerSpec, RunResult, run_scenarios

__all__ = ["PartnerSpec", "RunResult", "Scenario", "ScenarioError", "load_file", "load_paths", "run_scenarios"]
