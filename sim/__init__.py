"""salesim: push the same lead stream through different sales org structures.

Public names:
    Scenario: a validated, frozen scenario (``Scenario.from_file(path)``).
    simulate: run every structure of a scenario over its replications.
    run_kpis, summarise: per-run KPIs and their means with 95 % CIs.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sim.config.scenario import Scenario, ScenarioError

try:
    __version__ = version("salesim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "simulate",
    "run_kpis",
    "summarise",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing pandas, SimPy and scipy costs a second or more, and
    # ``python -m sim validate`` needs none of them.
    if name in ("run_kpis", "summarise"):
        from sim.analysis import metrics

        return getattr(metrics, name)
    if name in ("SimulationResult", "simulate"):
        from sim.model import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
