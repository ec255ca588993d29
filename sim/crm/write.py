"""Writing a simulated run as a CRM export.

``export_crm`` goes the other way from ``read_export``: a simulated ``leads``
table becomes an export, which is how the calibration round trip is tested and
how the example export under ``scenarios/examples/`` is generated. Owners are
seats (``rep-007``) and timestamps the origin plus the simulated days, to the
minute: day 2.5 after an origin of 2024-01-01 is written "2024-01-03 12:00".
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from sim.config.scenario import STAGES
from sim.crm.mapping import DATE_FORMAT, STEP_TO_DAY


def export_crm(
    leads: pd.DataFrame,
    shape: Literal["leads", "history"] = "leads",
    origin: str = "2024-01-01",
) -> pd.DataFrame:
    """A simulated lead table (one structure, one replication) as a CRM export.

    Owners are seats (``rep-007``); timestamps are ``origin`` plus the
    simulated days, to the minute. Only facts a CRM records are written: no
    latent quality; the size tier (an account-size field) only when the
    scenario has more than one.

    Args:
        leads: rows of ``SimulationResult.leads`` for one structure and replication.
        shape: one row per lead, or one row per stage or owner change.
        origin: the calendar date of simulated day 0.

    Returns:
        The export, ready for ``to_csv(index=False)``.
    """
    df = leads.reset_index(drop=True)
    start = pd.Timestamp(origin)
    tiers = df["tier"].astype(str) if "tier" in df and df["tier"].nunique() > 1 else None
    if shape == "leads":
        return _leads_export(df, start, tiers)
    return _history_export(df, start, tiers)


def _stamp(days: pd.Series, start: pd.Timestamp) -> pd.Series:
    """Simulated days as the export's timestamps (empty where there is no time)."""
    return (start + pd.to_timedelta(days, unit="D")).dt.strftime(DATE_FORMAT).fillna("")


def _seat(handler: pd.Series) -> pd.Series:
    """Rep ids as owners (``rep-007``); no rep is empty."""
    return handler.map(lambda h: f"rep-{h:03d}" if h >= 0 else "")


def _lead_ids(df: pd.DataFrame) -> pd.Series:
    return df["lead_id"].map(lambda i: f"L{i:06d}")


def _step_days(df: pd.DataFrame, stage: str, step: str) -> pd.Series:
    """When a lead took a step in a stage; ``exited`` only for a lead that passed it."""
    days = df[f"{stage}_{STEP_TO_DAY[step]}"]
    if step != "exited":
        return days
    position = STAGES.index(stage)
    if position + 1 < len(STAGES):
        following = STAGES[position + 1]
        passed = df[f"{following}_queue_day"].notna() | (
            df["lost_at"].astype(str) == f"handoff_to_{following}"
        )
    else:
        passed = df["outcome"].astype(str) == "won"
    return days.where(passed)


def _leads_export(df: pd.DataFrame, start: pd.Timestamp, tiers: pd.Series | None) -> pd.DataFrame:
    """One row per lead: its dates, status, and per stage each step's date and the owner."""
    outcome = df["outcome"].astype(str)
    out = pd.DataFrame(
        {
            "lead_id": _lead_ids(df),
            "created_at": _stamp(df["arrival_day"], start),
            "segment": df["segment"].astype(str),
            "amount": df["deal_value"].round(2),
            "status": outcome,
            "closed_at": _stamp(df["end_day"].where(outcome != "open"), start),
            "lost_reason": df["lost_reason"].astype(str).where(outcome == "lost", ""),
        }
    )
    if tiers is not None:
        out.insert(3, "tier", tiers)
    for stage in STAGES:
        for step in STEP_TO_DAY:
            out[f"{stage}_{step}_at"] = _stamp(_step_days(df, stage, step), start)
        out[f"{stage}_owner"] = _seat(df[f"{stage}_handler"])
    out["account_owner"] = _seat(df["account_handler"])
    return out


def _history_export(df: pd.DataFrame, start: pd.Timestamp, tiers: pd.Series | None) -> pd.DataFrame:
    """One row per change: each stage step, the close, the account's owner after a win."""
    outcome = df["outcome"].astype(str)
    base = {"lead_id": _lead_ids(df), "segment": df["segment"].astype(str),
            "amount": df["deal_value"].round(2)}  # fmt: skip
    if tiers is not None:
        base["tier"] = tiers

    def event(day, order, stage, step, owner, lost_reason) -> pd.DataFrame:
        return pd.DataFrame(
            {**base, "day": day, "order": order, "stage": stage, "event": step, "owner": owner,
             "lost_reason": lost_reason}
        )  # fmt: skip

    events = [
        event(
            _step_days(df, stage, step),
            order * 10 + rank,
            stage,
            step,
            _seat(df[f"{stage}_handler"]) if step != "entered" else "",
            "",
        )
        for order, stage in enumerate(STAGES)
        for rank, step in enumerate(STEP_TO_DAY)
    ]
    closed = df["end_day"].where(outcome != "open")
    reason = df["lost_reason"].astype(str).where(outcome == "lost", "")
    events.append(event(closed, 90, outcome, "entered", "", reason))
    owner = _seat(df["account_handler"])
    events.append(event(df["account_start_day"], 91, "won", "assigned", owner, ""))
    out = pd.concat(events, ignore_index=True)
    out = out[out["day"].notna()].copy()
    out["key"] = out["lead_id"]
    out = out.sort_values(["key", "day", "order"], kind="stable")
    out["changed_at"] = _stamp(out["day"], start)
    columns = ["lead_id", "changed_at", "stage", "event", "owner", "segment",
               *(["tier"] if tiers is not None else []), "amount", "lost_reason"]  # fmt: skip
    return out[columns].reset_index(drop=True)
