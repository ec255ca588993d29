"""Small scenarios and hand-made lead streams for tests."""

from __future__ import annotations

import copy

import numpy as np

from sim.config.scenario import Scenario, apply_overrides
from sim.model.leads import N_STAGES, LeadStream
from sim.model.luck import HANDOFF_POINTS
from sim.model.seeding import replication_streams
from sim.model.structures import run_structure

PEOPLE_OFF = {
    "levels": {"enabled": False},
    "ramp": {"enabled": False, "initial_ramped_share": 1.0},
    "turnover": {"enabled": False},
}
"""Levels, ramp-up and turnover switched off: every rep a ramped mid-level who stays."""

BASE = {
    "name": "tiny",
    "seed": 7,
    "replications": 1,
    "horizon_days": 100.0,
    "leads": {"arrivals_per_day": 1.0, "mean_deal_value": 1000.0},
    # The core model: every rep mid-level, ramped and staying (people tests switch them on).
    "people": PEOPLE_OFF,
    "stages": {
        "prospecting": {
            "pass_prob": 1.0,
            "mean_effort_days": 1.0,
            "effort_distribution": "deterministic",
            "mean_lag_days": 0.0,
        },
        "qualification": {
            "pass_prob": 1.0,
            "mean_effort_days": 2.0,
            "effort_distribution": "deterministic",
            "mean_lag_days": 0.0,
        },
        "closing": {
            "pass_prob": 1.0,
            "mean_effort_days": 3.0,
            "effort_distribution": "deterministic",
            "mean_lag_days": 0.0,
        },
    },
    "structures": {
        "allin": {"generalists": 1},
        "two_party": {"lead_gen": 1, "closers": 1, "account_managers": 1},
        "conveyor": {"lead_gen": 1, "qualifiers": 1, "closers": 1, "account_managers": 1},
        "pods": {
            "pods": [
                {
                    "name": "p",
                    "segments": ["all"],
                    "lead_gen": 1,
                    "qualifiers": 1,
                    "closers": 1,
                    "account_managers": 1,
                }
            ]
        },
    },
}


SMALL_TOML = """
name = "small"
replications = 1
horizon_days = 20
[leads]
arrivals_per_day = 1
mean_deal_value = 1000
[stages.prospecting]
pass_prob = 0.5
mean_effort_days = 0.2
[stages.qualification]
pass_prob = 0.5
mean_effort_days = 0.2
[stages.closing]
pass_prob = 0.5
mean_effort_days = 0.2
[structures.conveyor]
lead_gen = 1
qualifiers = 1
closers = 1
account_managers = 1
"""
"""A small Conveyor scenario as a file would hold it (for command-line tests)."""


def scenario(*overrides: str, base: dict | None = None) -> Scenario:
    """The tiny base scenario with ``dotted.key=value`` overrides."""
    raw = apply_overrides(copy.deepcopy(base or BASE), overrides, "test")
    return Scenario.from_dict(raw, "test")


def structure_headcounts(
    sc: Scenario, names: tuple[str, ...] = ("allin", "two_party", "conveyor", "pods")
) -> dict[str, int]:
    """Seats per structure of a scenario that configures ``names`` (default: all four)."""
    s = sc.structures
    seats = {
        "allin": lambda: s.allin.generalists,
        "two_party": lambda: (
            s.two_party.lead_gen + s.two_party.closers + s.two_party.account_managers
        ),
        "conveyor": lambda: (
            s.conveyor.lead_gen
            + s.conveyor.qualifiers
            + s.conveyor.closers
            + s.conveyor.account_managers
        ),
        "pods": lambda: sum(
            p.lead_gen + p.qualifiers + p.closers + p.account_managers for p in s.pods.pods
        ),
    }
    return {name: seats[name]() for name in names}


def hand_leads(
    arrivals: list[float],
    *,
    segments: tuple[str, ...] = ("all",),
    segment: list[int] | None = None,
    pass_u: list[list[float]] | None = None,
    handoff_u: list[list[float]] | None = None,
    patience: list[list[float]] | None = None,
    value: float = 1000.0,
) -> LeadStream:
    """A lead stream with chosen arrivals and luck (unit effort and lag, never dropped)."""
    n = len(arrivals)
    return LeadStream(
        segment_names=segments,
        tier_names=("standard",),
        arrival_day=np.asarray(arrivals, dtype=float),
        segment=np.asarray(segment or [0] * n, dtype=np.int16),
        tier=np.zeros(n, dtype=np.int16),
        deal_value=np.full(n, value),
        quality=np.zeros(n),
        pass_u=np.asarray(pass_u or [[0.0] * N_STAGES] * n, dtype=float),
        handoff_u=np.asarray(handoff_u or [[0.99] * len(HANDOFF_POINTS)] * n, dtype=float),
        handoff_delay_units=np.ones((n, len(HANDOFF_POINTS))),
        patience_units=np.asarray(patience or [[1.0] * N_STAGES] * n, dtype=float),
        effort_units=np.ones((n, N_STAGES)),
        lag_units=np.ones((n, N_STAGES)),
    )


def run(name: str, leads: LeadStream, sc: Scenario):
    """Run one structure on hand-made leads; returns the run's tables."""
    return run_structure(name, leads, sc, replication_streams(sc.seed, 0))


def event_log(df, stages=("prospecting", "qualification", "closing")) -> list[tuple]:
    """(lead, stage, queue, start, end, done, handler) per stage reached, then the outcome."""
    out = []
    for row in df.itertuples(index=False):
        for stage in stages:
            queue = getattr(row, f"{stage}_queue_day")
            if queue == queue:  # not NaN
                out.append(
                    (
                        row.lead_id,
                        stage,
                        queue,
                        getattr(row, f"{stage}_start_day"),
                        getattr(row, f"{stage}_end_day"),
                        getattr(row, f"{stage}_done_day"),
                        getattr(row, f"{stage}_handler"),
                    )
                )
        out.append(
            (row.lead_id, str(row.outcome), str(row.lost_at), str(row.lost_reason), row.end_day)
        )
    return out
