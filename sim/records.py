"""What happened to each lead and each rep, and how it becomes a DataFrame.

The simulation writes raw facts only: when a lead entered each stage's queue,
when a rep started and finished the work, when the customer answered, who
handled it, and how it ended. Everything derived (cycle time, win rate,
utilisation) is computed later in ``metrics.py`` from these tables, so a
metric can be corrected without re-running anything.

The log is columnar (one preallocated Python list per field, indexed by lead
id) rather than one object per lead per stage: the processes write a handful
of floats per event, and the table is built in one go at the end.

Times are in days since the start of the horizon; NaN means "never happened".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.scenario import STAGES

NAN = float("nan")

OUTCOMES: tuple[str, ...] = ("open", "won", "lost")
LOST_AT: tuple[str, ...] = (
    "",
    "prospecting",
    "qualification",
    "closing",
    "handoff_to_qualification",
    "handoff_to_closing",
)
LOST_REASONS: tuple[str, ...] = ("", "failed", "dropped_in_handoff", "went_cold")
ACCOUNT_OUTCOMES: tuple[str, ...] = ("", "active", "churned", "dropped_in_handoff")

OPEN, WON, LOST = range(3)
FAILED, DROPPED, WENT_COLD = 1, 2, 3
ACTIVE, CHURNED, ACCOUNT_DROPPED = 1, 2, 3

STAGE_TIME_FIELDS: tuple[str, ...] = ("queue_day", "start_day", "end_day", "done_day")
"""Per stage: entered the queue, rep started, rep finished, customer answered."""


def stage_column(stage: str, what: str) -> str:
    """Column name of one stage timestamp or attribute, e.g. ``closing_start_day``."""
    return f"{stage}_{what}"


class LeadLog:
    """Preallocated columns for every lead of one structure run."""

    def __init__(self, n: int):
        self.n = n
        self.stage_times = {
            (stage, what): [NAN] * n for stage in STAGES for what in STAGE_TIME_FIELDS
        }
        self.handler = {stage: [-1] * n for stage in STAGES}
        self.outcome = [OPEN] * n
        self.lost_at = [0] * n
        self.lost_reason = [0] * n
        self.end_day = [NAN] * n
        self.pod = [-1] * n
        self.account_handler = [-1] * n
        self.account_start_day = [NAN] * n
        self.account_end_day = [NAN] * n
        self.account_outcome = [0] * n
        self.account_value = [NAN] * n
        self.neglected_reviews = [0] * n
        self.revenue = [0.0] * n
        self.revenue_until_day = [NAN] * n

    def lose(self, lead: int, day: float, at: str, reason: int) -> None:
        """Record that a lead left the funnel without a win."""
        self.outcome[lead] = LOST
        self.lost_at[lead] = LOST_AT.index(at)
        self.lost_reason[lead] = reason
        self.end_day[lead] = day


@dataclass
class RepLog:
    """One rep's record of a structure run (mutable while the run goes on)."""

    rep_id: int
    role: str
    team: str
    pod: str
    busy_days: float = 0.0
    busy_since: float | None = None
    stage_tasks: int = 0
    reviews: int = 0
    review_wait_days: float = 0.0
    wins: int = 0
    bookings: float = 0.0
    accounts: int = 0
    open_deals: int = 0


def leads_frame(
    log: LeadLog,
    leads,
    structure: str,
    replication: int,
    seed: int,
    cohort_days: tuple[float, float],
) -> pd.DataFrame:
    """One row per lead of one structure run.

    Args:
        log: the filled log.
        leads: the ``LeadStream`` that was run.
        structure: structure name.
        replication: replication index.
        seed: root seed of the scenario.
        cohort_days: [first, last) arrival days of the leads that funnel KPIs
            count (after the warm-up, mature by the horizon): flagged ``in_cohort``.

    Returns:
        A DataFrame with categorical text columns and float days.
    """
    n = log.n
    columns: dict[str, object] = {
        "structure": pd.Categorical([structure] * n),
        "replication": np.full(n, replication, dtype=np.int32),
        "seed": np.full(n, seed, dtype=np.int64),
        "lead_id": leads.lead_id,
        "segment": pd.Categorical.from_codes(leads.segment, categories=list(leads.segment_names)),
        "tier": pd.Categorical.from_codes(leads.tier, categories=list(leads.tier_names)),
        "arrival_day": leads.arrival_day,
        "in_cohort": (leads.arrival_day >= cohort_days[0]) & (leads.arrival_day < cohort_days[1]),
        "deal_value": leads.deal_value,
        "quality": leads.quality,
        "pod": np.asarray(log.pod, dtype=np.int16),
    }
    for stage in STAGES:
        for what in STAGE_TIME_FIELDS:
            columns[stage_column(stage, what)] = np.asarray(log.stage_times[(stage, what)])
        columns[stage_column(stage, "handler")] = np.asarray(log.handler[stage], dtype=np.int32)
    columns.update(
        {
            "outcome": pd.Categorical.from_codes(log.outcome, categories=list(OUTCOMES)),
            "lost_at": pd.Categorical.from_codes(log.lost_at, categories=list(LOST_AT)),
            "lost_reason": pd.Categorical.from_codes(
                log.lost_reason, categories=list(LOST_REASONS)
            ),
            "end_day": np.asarray(log.end_day),
            "account_handler": np.asarray(log.account_handler, dtype=np.int32),
            "account_start_day": np.asarray(log.account_start_day),
            "account_end_day": np.asarray(log.account_end_day),
            "account_outcome": pd.Categorical.from_codes(
                log.account_outcome, categories=list(ACCOUNT_OUTCOMES)
            ),
            "account_value": np.asarray(log.account_value),
            "neglected_reviews": np.asarray(log.neglected_reviews, dtype=np.int32),
            "revenue": np.asarray(log.revenue),
        }
    )
    return pd.DataFrame(columns)


def reps_frame(reps: list[RepLog], structure: str, replication: int) -> pd.DataFrame:
    """One row per rep of one structure run."""
    return pd.DataFrame(
        {
            "structure": [structure] * len(reps),
            "replication": [replication] * len(reps),
            "rep_id": [r.rep_id for r in reps],
            "role": [r.role for r in reps],
            "team": [r.team for r in reps],
            "pod": [r.pod for r in reps],
            "busy_days": [r.busy_days for r in reps],
            "stage_tasks": [r.stage_tasks for r in reps],
            "reviews": [r.reviews for r in reps],
            "review_wait_days": [r.review_wait_days for r in reps],
            "wins": [r.wins for r in reps],
            "bookings": [r.bookings for r in reps],
            "accounts_at_end": [r.accounts for r in reps],
        }
    )


def samples_frame(samples: dict[str, list], structure: str, replication: int) -> pd.DataFrame:
    """Work-in-progress samples per team over time (one row per team per sample)."""
    df = pd.DataFrame(samples)
    df.insert(0, "replication", replication)
    df.insert(0, "structure", structure)
    return df
