"""salesim: push the same lead stream through different sales org structures.

The Python API (``sim.api``)::

    import sim

    run = sim.run("scenarios/baseline.toml", replications=10)
    run.summary                        # KPI means with 95 % CIs per structure
    run.compare(reference="allin")     # paired differences, claims, red flags
    run.write("results/baseline-10")   # the folder ``python -m sim simulate`` writes
    run, selection = sim.select_best("scenarios/baseline.toml", indifference=50_000)

Public names:
    run, compare, select_best, load, Run: the API (``sim.api``).
    Scenario, ScenarioError: a validated, frozen scenario and the error of bad input.
    simulate, SimulationResult: the model's replication loop and its raw tables.
    run_kpis, summarise: per-run KPIs and their means with 95 % CIs.
"""

from typing import Any

from sim.version import __version__

__all__ = [
    "run",
    "compare",
    "select_best",
    "load",
    "Run",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "simulate",
    "run_kpis",
    "summarise",
    "__version__",
]

_WHERE = {
    "run": "sim.api",
    "compare": "sim.api",
    "select_best": "sim.api",
    "load": "sim.api",
    "Run": "sim.api",
    "Scenario": "sim.config.scenario",
    "ScenarioError": "sim.config.scenario",
    "SimulationResult": "sim.model.results",
    "simulate": "sim.model.runner",
    "run_kpis": "sim.analysis.kpi_values",
    "summarise": "sim.analysis.kpi_values",
}


def __getattr__(name: str) -> Any:
    # Lazy: importing pandas, SimPy and scipy costs a second or more, and
    # ``python -m sim validate`` needs none of them.
    if name not in _WHERE:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_WHERE[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
