"""Tables of the funnel behind the figures: per stage, per funnel point, per territory, per win.

A pipeline review walks the funnel stage by stage: how many leads entered
qualification, how many passed, how many went cold while waiting, how long
they waited; then territory by territory; then deal by deal. These tables are
that walk for the measured cohort (``sim.analysis.cohort``):
``stage_table`` (``stage_summary.csv``), ``funnel_table`` (where leads are
lost, for the funnel figure), ``territory_table`` (``territories.csv``) and
``cycle_times`` (days from arrival to win of every won lead). Counts are
means per replication; rates come with 95 % confidence intervals across
replications. Pure pandas on the leads table of a run.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.analysis.cohort import cohort, stage_passed, stage_resolved
from sim.analysis.stats import with_ci
from sim.config.scenario import STAGE_ROLES, STAGES
from sim.model.records import stage_column


def stage_table(leads: pd.DataFrame) -> pd.DataFrame:
    """Per structure and stage: how many entered, passed, failed, went cold, waited.

    Counts and rates are means over replications with 95 % CIs for the rates.
    """
    per_run = []
    for (structure, replication), df in cohort(leads).groupby(
        ["structure", "replication"], observed=True
    ):
        for index, stage in enumerate(STAGES):
            entered = df[stage_column(stage, "queue_day")].notna()
            passed = stage_passed(df, stage)
            wait = (
                df[stage_column(stage, "start_day")] - df[stage_column(stage, "queue_day")]
            ).dropna()
            effort = (
                df[stage_column(stage, "end_day")] - df[stage_column(stage, "start_day")]
            ).dropna()
            resolved = stage_resolved(df, stage).sum()
            dropped_before = (df["lost_at"] == f"handoff_to_{stage}").sum() if index > 0 else 0
            per_run.append(
                {
                    "structure": structure,
                    "replication": replication,
                    "stage": stage,
                    "role": STAGE_ROLES[structure][index],
                    "dropped_in_handoff_before": dropped_before,
                    "entered": entered.sum(),
                    "passed": passed.sum(),
                    "failed": ((df["lost_at"] == stage) & (df["lost_reason"] == "failed")).sum(),
                    "went_cold": (
                        (df["lost_at"] == stage) & (df["lost_reason"] == "went_cold")
                    ).sum(),
                    "conversion": passed.sum() / resolved if resolved else math.nan,
                    "mean_wait_days": wait.mean() if len(wait) else math.nan,
                    "mean_effort_days": effort.mean() if len(effort) else math.nan,
                }
            )
    runs = pd.DataFrame(per_run)
    rows = []
    for (structure, stage), group in runs.groupby(
        ["structure", "stage"], sort=False, observed=True
    ):
        row = {"structure": structure, "stage": stage, "role": group["role"].iloc[0]}
        for column in ("dropped_in_handoff_before", "entered", "passed", "failed", "went_cold"):
            row[column] = group[column].mean()
        row.update(with_ci(group, ("conversion", "mean_wait_days", "mean_effort_days")))
        rows.append(row)
    return pd.DataFrame(rows)


def funnel_table(leads: pd.DataFrame) -> pd.DataFrame:
    """Where the cohort's leads end up, per structure: mean count per replication.

    One row per (structure, point): ``point`` is a stage or a handoff in funnel
    order, with the leads that ``reached`` it and how many were lost there as
    ``failed``, ``dropped_in_handoff``, ``went_cold`` or ``rep_left`` (and
    ``no_free_rep``, every rep at the open-deal cap, where that happened); the
    first point ``handoff_to_pod`` (Pods passing leads to another pod) appears
    only where that happened; the point ``won`` counts wins, and ``open``
    those still in the funnel at the horizon; last, where a closer hands the
    customer on, ``handoff_to_account_management``: the wins that reached it
    and the customers dropped there (``dropped_in_handoff``).
    """
    points = (
        "handoff_to_pod",
        "prospecting",
        "handoff_to_qualification",
        "qualification",
        "handoff_to_closing",
        "closing",
    )
    passing = set(leads.loc[leads["overflowed"], "structure"].astype(str))
    reasons = ("failed", "dropped_in_handoff", "went_cold", "rep_left")
    if (leads["lost_reason"] == "no_free_rep").any():  # only with an open-deal cap
        reasons += ("no_free_rep",)
    rows = []
    for (structure, replication), df in cohort(leads).groupby(
        ["structure", "replication"], observed=True
    ):
        remaining = len(df)
        roles = STAGE_ROLES[structure]
        for point in points:
            if point == "handoff_to_pod":
                if structure not in passing:
                    continue  # no lead was passed to another pod
            elif point.startswith("handoff_to_") and _same_hands(roles, point):
                continue  # this structure has no relay there
            here = df["lost_at"] == point
            row = {
                "structure": structure,
                "replication": replication,
                "point": point,
                "reached": remaining,
            }
            for reason in reasons:
                row[reason] = int((here & (df["lost_reason"] == reason)).sum())
            remaining -= int(here.sum())
            rows.append(row)
        won = df["outcome"] == "won"
        rows.append(
            {
                "structure": structure,
                "replication": replication,
                "point": "won",
                "reached": int(won.sum()),
                "failed": 0,
                "dropped_in_handoff": 0,
                "went_cold": 0,
                "rep_left": 0,
                "open": int((df["outcome"] == "open").sum()),
            }
        )
        if roles[-1] != roles[-2]:  # a closer hands the customer to account management
            dropped = int((won & df["account_handover_dropped"]).sum())
            rows.append(_relay_row(structure, replication, int(won.sum()), dropped))
    runs = pd.DataFrame(rows).fillna({"open": 0, "no_free_rep": 0})
    table = runs.groupby(["structure", "point"], observed=True, sort=False).mean(numeric_only=True)
    return table.drop(columns="replication").reset_index()


def _relay_row(structure: str, replication: int, reached: int, dropped: int) -> dict:
    """The relay of won customers to account management: wins in, customers dropped."""
    return {
        "structure": structure,
        "replication": replication,
        "point": "handoff_to_account_management",
        "reached": reached,
        "failed": 0,
        "dropped_in_handoff": dropped,
        "went_cold": 0,
        "rep_left": 0,
        "open": 0,
    }


def _same_hands(roles: tuple[str, ...], point: str) -> bool:
    """True when the stages on both sides of a handoff point are worked by one role."""
    after = STAGES.index(point.removeprefix("handoff_to_"))
    return roles[after - 1] == roles[after]


def territory_table(leads: pd.DataFrame) -> pd.DataFrame:
    """Load and results per territory (segment) and structure, mean across replications.

    For the cohort: leads arriving, share passed to another pod, wins,
    conversion, mean wait for the first rep, and mean days to close.
    """
    per_run = []
    for (structure, replication, segment), df in cohort(leads).groupby(
        ["structure", "replication", "segment"], observed=True
    ):
        won = df["outcome"] == "won"
        wait = (df["prospecting_start_day"] - df["prospecting_queue_day"]).dropna()
        per_run.append(
            {
                "structure": structure,
                "replication": replication,
                "segment": segment,
                "leads": len(df),
                "share_overflowed": float(df["overflowed"].mean()) if len(df) else math.nan,
                "won": int(won.sum()),
                "conversion": won.sum() / len(df) if len(df) else math.nan,
                "mean_first_wait_days": wait.mean() if len(wait) else math.nan,
                "mean_days_to_close": (df["end_day"] - df["arrival_day"])[won].mean(),
            }
        )
    runs = pd.DataFrame(per_run)
    rows = []
    for (structure, segment), group in runs.groupby(["structure", "segment"], observed=True):
        row = {"structure": structure, "segment": segment}
        for column in ("leads", "share_overflowed", "won"):
            row[column] = group[column].mean()
        row.update(with_ci(group, ("conversion", "mean_first_wait_days", "mean_days_to_close")))
        rows.append(row)
    return pd.DataFrame(rows)


def cycle_times(leads: pd.DataFrame) -> pd.DataFrame:
    """Days from arrival to win of every won lead in the cohort (all replications)."""
    won = cohort(leads)
    won = won[won["outcome"] == "won"]
    return pd.DataFrame(
        {
            "structure": won["structure"],
            "replication": won["replication"],
            "days_to_close": won["end_day"] - won["arrival_day"],
        }
    ).reset_index(drop=True)
