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
    start = pd.Timestamp(origin)

    def stamp(days: pd.Series) -> pd.Series:
        return (start + pd.to_timedelta(days, unit="D")).dt.strftime(DATE_FORMAT).fillna("")

    def owner(handler: pd.Series) -> pd.Series:
        return handler.map(lambda h: f"rep-{h:03d}" if h >= 0 else "")

    df = leads.reset_index(drop=True)
    lead_id = df["lead_id"].map(lambda i: f"L{i:06d}")
    outcome = df["outcome"].astype(str)
    passed = {}
    for position, stage in enumerate(STAGES):
        if position + 1 < len(STAGES):
            passed[stage] = df[f"{STAGES[position + 1]}_queue_day"].notna() | (
                df["lost_at"].astype(str) == f"handoff_to_{STAGES[position + 1]}"
            )
        else:
            passed[stage] = outcome == "won"
    reason = df["lost_reason"].astype(str)
    tiers = df["tier"].astype(str) if "tier" in df and df["tier"].nunique() > 1 else None
    if shape == "leads":
        out = pd.DataFrame(
            {
                "lead_id": lead_id,
                "created_at": stamp(df["arrival_day"]),
                "segment": df["segment"].astype(str),
                "amount": df["deal_value"].round(2),
                "status": outcome,
                "closed_at": stamp(df["end_day"].where(outcome != "open")),
                "lost_reason": reason.where(outcome == "lost", ""),
            }
        )
        if tiers is not None:
            out.insert(3, "tier", tiers)
        for stage in STAGES:
            for step, what in STEP_TO_DAY.items():
                days = df[f"{stage}_{what}"]
                if step == "exited":
                    days = days.where(passed[stage])
                out[f"{stage}_{step}_at"] = stamp(days)
            out[f"{stage}_owner"] = owner(df[f"{stage}_handler"])
        out["account_owner"] = owner(df["account_handler"])
        return out
    events = []
    base = {"lead_id": lead_id, "segment": df["segment"].astype(str),
            "amount": df["deal_value"].round(2)}  # fmt: skip
    if tiers is not None:
        base["tier"] = tiers
    for order, stage in enumerate(STAGES):
        for rank, (step, what) in enumerate(STEP_TO_DAY.items()):
            days = df[f"{stage}_{what}"]
            if step == "exited":
                days = days.where(passed[stage])
            has_owner = step != "entered"
            events.append(
                pd.DataFrame(
                    {
                        **base,
                        "day": days,
                        "order": order * 10 + rank,
                        "stage": stage,
                        "event": step,
                        "owner": owner(df[f"{stage}_handler"]) if has_owner else "",
                        "lost_reason": "",
                    }
                )
            )
    closed = df["end_day"].where(outcome != "open")
    events.append(
        pd.DataFrame(
            {
                **base,
                "day": closed,
                "order": 90,
                "stage": outcome,
                "event": "entered",
                "owner": "",
                "lost_reason": reason.where(outcome == "lost", ""),
            }
        )  # fmt: skip
    )
    events.append(
        pd.DataFrame(
            {
                **base,
                "day": df["account_start_day"],
                "order": 91,
                "stage": "won",
                "event": "assigned",
                "owner": owner(df["account_handler"]),
                "lost_reason": "",
            }
        )  # fmt: skip
    )
    out = pd.concat(events, ignore_index=True)
    out = out[out["day"].notna()].copy()
    out["key"] = out["lead_id"]
    out = out.sort_values(["key", "day", "order"], kind="stable")
    out["changed_at"] = stamp(out["day"])
    columns = ["lead_id", "changed_at", "stage", "event", "owner", "segment",
               *(["tier"] if tiers is not None else []), "amount", "lost_reason"]  # fmt: skip
    return out[columns].reset_index(drop=True)
