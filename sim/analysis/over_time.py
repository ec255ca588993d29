"""Series over the horizon: wins and market share per period, queues day by day.

A monthly sales report shows whether things are getting better or worse, not
just the year's total: wins per 30 days (``wins_over_time``), our share of
the deals the market decided (``market_share_over_time``, and its trend per
year as one number, ``market_share_trend``), and the leads waiting in each
role's queue on each sampled day (``wip_over_time``). Periods are whole
(a last stub of a few days would look like a collapse) and include the
warm-up, so the ramp from an empty pipeline is visible; means come with 95 %
confidence intervals across replications. Time is in days.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.stats import mean_ci
from sim.config.scenario import Scenario


def _per_period_ci(
    per_run: np.ndarray, edges: np.ndarray, structure: str, name: str
) -> list[dict[str, object]]:
    """Rows of mean and 95 % CI across replications (rows of ``per_run``) per period."""
    rows = []
    for k, start in enumerate(edges[:-1]):
        mean, low, high = mean_ci(per_run[:, k])
        rows.append(
            {
                "structure": structure,
                "period_start_day": start,
                name: mean,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return rows


def wins_over_time(leads: pd.DataFrame, scenario: Scenario, bin_days: float = 30.0) -> pd.DataFrame:
    """Wins per period per structure: mean and 95 % CI across replications.

    Returns:
        Columns structure, period_start_day, wins (mean), ci_low, ci_high; every
        win in the horizon counts, warm-up included, so the ramp from an empty
        pipeline is visible. A last partial period is left out.
    """
    # Whole periods only: a last stub of a few days would look like a collapse.
    edges = np.arange(0.0, scenario.horizon_days + 1e-9, bin_days)
    won = leads[leads["outcome"] == "won"]
    replications = sorted(leads["replication"].unique())
    rows = []
    for structure in leads["structure"].cat.categories:
        per_rep = []
        for replication in replications:
            days = won.loc[
                (won["structure"] == structure) & (won["replication"] == replication), "end_day"
            ]
            per_rep.append(np.histogram(days, bins=edges)[0])
        rows += _per_period_ci(np.array(per_rep), edges, structure, "wins")
    return pd.DataFrame(rows)


def market_share_over_time(
    leads: pd.DataFrame, scenario: Scenario, bin_days: float = 30.0
) -> pd.DataFrame:
    """Our share of decided deals per period, per structure: mean and 95 % CI.

    A deal is decided when we win it or learn that the competitor did; it
    counts in the period of that day (whole periods only, warm-up included).

    Returns:
        Columns structure, period_start_day, market_share, ci_low, ci_high.
    """
    edges = np.arange(0.0, scenario.horizon_days + 1e-9, bin_days)
    won = leads["outcome"] == "won"
    decided = leads[won | (leads["lost_reason"] == "lost_to_competitor")]
    rows = []
    for structure, by_structure in decided.groupby("structure", observed=True):
        per_run = []
        for _, run in by_structure.groupby("replication"):
            ours = np.histogram(run.loc[run["outcome"] == "won", "end_day"], edges)[0]
            total = np.histogram(run["end_day"], edges)[0]
            with np.errstate(invalid="ignore", divide="ignore"):
                per_run.append(np.where(total > 0, ours / total, np.nan))
        rows += _per_period_ci(np.array(per_run), edges, structure, "market_share")
    return pd.DataFrame(rows)


def market_share_trend(leads: pd.DataFrame, scenario: Scenario, bin_days: float = 30.0) -> float:
    """Least-squares slope of one run's monthly market share, per year (NaN without data).

    Periods before the warm-up ends are left out: an empty pipeline fills first.
    """
    edges = np.arange(0.0, scenario.horizon_days + 1e-9, bin_days)
    won = leads["outcome"] == "won"
    competitor = leads["lost_reason"] == "lost_to_competitor"
    ours = np.histogram(leads.loc[won, "end_day"], edges)[0]
    total = ours + np.histogram(leads.loc[competitor, "end_day"], edges)[0]
    middle = 0.5 * (edges[:-1] + edges[1:])
    keep = (total > 0) & (edges[:-1] >= scenario.warmup_days)
    if keep.sum() < 3 or not competitor.any():
        return math.nan
    # The least-squares slope written out: ``np.polyfit`` goes through LAPACK, whose
    # last bits depend on the processor's kernel (and with them the output hashes).
    x, y = middle[keep], ours[keep] / total[keep]
    dx = x - x.mean()
    slope = (dx * (y - y.mean())).sum() / (dx * dx).sum()
    return float(slope * 365.0)


def wip_over_time(samples: pd.DataFrame) -> pd.DataFrame:
    """Leads waiting and in service per structure and role over time (mean over replications)."""
    per_role = samples.groupby(["structure", "replication", "role", "day"], observed=True)[
        ["waiting", "in_service", "open_deals", "accounts"]
    ].sum()
    return per_role.groupby(["structure", "role", "day"], observed=True).mean().reset_index()
