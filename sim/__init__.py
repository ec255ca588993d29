"""salesim: push the same lead stream through different sales org structures.

Public names:
    Scenario: a validated, frozen scenario (``Scenario.from_file(path)``).
    simulate: run every structure of a scenario over its replications.
    run_kpis, summarise: per-run KPIs and their means with 95 % CIs.
"""

from importlib.metadata import PackageNotFoundError, version

from sim.metrics import run_kpis, summarise
from sim.runner import SimulationResult, simulate
from sim.scenario import Scenario, ScenarioError

try:
    __version__ = version("salesim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["Scenario", "ScenarioError", "SimulationResult", "simulate", "run_kpis", "summarise", "__version__"]
