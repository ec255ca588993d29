"""What a run hands on: the raw tables of every structure and replication.

The model's output, as a lab's raw measurements before any analysis: one row
per lead (``leads``), per person and quota period (``reps``) and per team and
sample time (``samples``), for every structure and replication, with the
resolved scenario that made them. Plain pandas, no SimPy: the analysis, the
reports and the results folder take it without loading the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.config.scenario import Scenario


@dataclass(frozen=True)
class SimulationResult:
    """Raw tables of a whole scenario run (all structures, all replications)."""

    scenario: Scenario
    structures: tuple[str, ...]
    leads: pd.DataFrame
    reps: pd.DataFrame
    samples: pd.DataFrame
