"""Where the leads came from: the inbound stream, referrals, or outbound prospecting.

Like the pipeline report that splits meetings by source ("marketing" against
"SDR-sourced"), with the win rate of each: outbound leads skip the market's
prospecting stage (the meeting was booked by the rep), so their conversion
is not the inbound one. Present only when outbound lead generation is on (the
leads table then has a ``source`` column). Pure pandas.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.analysis.cohort import cohort
from sim.config.scenario import Scenario


def lead_source_kpis(leads: pd.DataFrame, reps: pd.DataFrame, scenario: Scenario) -> dict:
    """Outbound and inbound counts and conversions of one run (nothing when outbound is off).

    Counts and conversions are over the measured cohort, like the funnel
    KPIs; the outbound leads per prospecting seat are those booked in the
    measured window, per 30 days.
    """
    cfg = scenario.leads.outbound
    if not cfg.enabled:
        return {}
    counted = cohort(leads)
    won = counted["outcome"] == "won"
    outbound = counted["source"] == "outbound"
    inbound = counted["source"] == "inbound"
    booked = (leads["source"] == "outbound") & (leads["arrival_day"] >= scenario.warmup_days)
    seats = reps.loc[reps["role"].isin(cfg.roles), "rep_id"].nunique()
    window_days = scenario.horizon_days - scenario.warmup_days
    return {
        "outbound_leads": int(outbound.sum()),
        "outbound_share": float(outbound.mean()) if len(counted) else math.nan,
        "outbound_wins": int((outbound & won).sum()),
        "conversion_inbound": _rate(won, inbound),
        "conversion_outbound": _rate(won, outbound),
        "outbound_leads_per_prospector_per_30_days": (
            booked.sum() / seats / window_days * 30.0 if seats else math.nan
        ),
    }


def _rate(won: pd.Series, among: pd.Series) -> float:
    return float(won[among].mean()) if among.any() else math.nan
