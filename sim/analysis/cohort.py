"""Which leads a funnel KPI counts, and what became of a lead at a stage.

A sales team judged in December on leads that arrived in late November would
look slow: those deals have not had time to close. So funnel KPIs
(conversion, losses, cycle time, waits) are computed on the *cohort*: the
leads that arrived after the warm-up (the pipeline is no longer filling from
empty) and at least ``maturity_days`` before the horizon (they had time to
finish). Leads of the cohort still open at the horizon are counted as
``open``, never as lost.

At each stage a lead of the cohort either *passed* (its customer answered and
it went on), was lost there (failed or went cold), or never got there; its
fate at the stage is *resolved* when it passed or was lost there. A stage's
conversion is passed over resolved. Pure pandas on the leads table of a run.
"""

from __future__ import annotations

import pandas as pd

from sim.model.records import stage_column


def cohort(leads: pd.DataFrame) -> pd.DataFrame:
    """Leads counted in funnel KPIs: arrived after the warm-up and mature by the horizon."""
    return leads[leads["in_cohort"]]


def stage_passed(df: pd.DataFrame, stage: str) -> pd.Series:
    """Leads that passed a stage (their customer answered and they went on)."""
    return df[stage_column(stage, "done_day")].notna() & (df["lost_at"] != stage)


def stage_resolved(df: pd.DataFrame, stage: str) -> pd.Series:
    """Leads whose fate at a stage is known: passed, failed or went cold there."""
    return stage_passed(df, stage) | (df["lost_at"] == stage)
