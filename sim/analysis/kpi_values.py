"""Every KPI of a run: one row per structure and replication, then means with 95 % CIs.

From raw lead and rep tables to the numbers a sales leader watches, the way a
quarter's ledgers become the scorecard of a board deck: ``run_kpis`` computes
every KPI once per structure and replication (``kpis.csv``), ``summarise``
takes their means and 95 % confidence intervals across replications (the t
interval of ``sim.analysis.stats``), and ``headline`` prints the main ones
for the terminal. Pure pandas: every function takes the tables written by a
run, so a KPI can be added or corrected without simulating again.

Conventions:
  * Funnel KPIs (conversion, losses, cycle time, waits) are computed on the
    measured cohort (``sim.analysis.cohort``).
  * Flows (wins per 30 days, utilisation) are measured in the window
    [warm-up, horizon]; money covers the whole horizon, as a budget would.
  * What each KPI column means, its unit, format and better direction live in
    the registry ``sim.analysis.kpis``, which every report reads.

The KPIs of people, pay and the forecast are computed by their own modules
(``people``, ``money``, ``forecast``); this module gathers them into the row.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.analysis.cohort import cohort, stage_passed, stage_resolved
from sim.analysis.forecast import forecast_kpis
from sim.analysis.kpis import RELAY_LOSS_KPIS, format_mean_ci, kpi_spec
from sim.analysis.lead_sources import lead_source_kpis
from sim.analysis.money import book_value, new_hire_payback_days, team_cost
from sim.analysis.over_time import market_share_trend
from sim.analysis.people import counted_quota_rows, people_kpis, utilisation
from sim.analysis.stats import mean_ci
from sim.config.scenario import ROLES, STAGE_ROLES, STAGES, Scenario
from sim.model.records import stage_column


def run_kpis(leads: pd.DataFrame, reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per (structure, replication) with every KPI as a column."""
    rows = []
    rep_groups = dict(tuple(reps.groupby(["structure", "replication"], observed=True)))
    for (structure, replication), df in leads.groupby(["structure", "replication"], observed=True):
        row = {"structure": structure, "replication": replication}
        row.update(_funnel_kpis(cohort(df), structure))
        row.update(_flow_kpis(df, rep_groups[(structure, replication)], scenario))
        rows.append(row)
    table = pd.DataFrame(rows)
    table["structure"] = pd.Categorical(
        table["structure"], categories=leads["structure"].cat.categories
    )
    return table.sort_values(["structure", "replication"], ignore_index=True)


def _funnel_kpis(df: pd.DataFrame, structure: str) -> dict[str, float]:
    won = df["outcome"] == "won"
    lost = df["outcome"] == "lost"
    n = len(df)
    kpis: dict[str, float] = {
        "leads_in": n,
        "won": int(won.sum()),
        "lost": int(lost.sum()),
        "open": int((df["outcome"] == "open").sum()),
        "conversion": won.sum() / n if n else math.nan,
        "win_rate_decided": won.sum() / (won.sum() + lost.sum())
        if (won | lost).any()
        else math.nan,
    }
    for reason in ("failed", "dropped_in_handoff", "went_cold", "rep_left"):
        kpis[f"lost_{reason}"] = int((df["lost_reason"] == reason).sum())
    competitor = int((df["lost_reason"] == "lost_to_competitor").sum())
    kpis["lost_to_competitor"] = competitor
    # Market share: our wins among the deals the market decided (ours or a competitor's).
    kpis["market_share"] = (
        won.sum() / (won.sum() + competitor) if won.any() or competitor else math.nan
    )
    for point, kpi in RELAY_LOSS_KPIS.items():
        if kpi.startswith("dropped_"):  # a lead lost on its way (accounts: below)
            kpis[kpi] = int((df["lost_at"] == point).sum())
    kpis["leads_overflowed"] = int(df["overflowed"].sum())
    if "nurture_visits" in df.columns:  # the columns exist only with nurture on
        kpis["leads_nurtured"] = int((df["nurture_visits"] > 0).sum())
        kpis["leads_back_from_nurture"] = int((df["nurture_returns"] > 0).sum())
    for stage in STAGES:
        resolved = stage_resolved(df, stage).sum()
        kpis[f"conversion_{stage}"] = (
            stage_passed(df, stage).sum() / resolved if resolved else math.nan
        )
    days_to_close = (df["end_day"] - df["arrival_day"])[won]
    kpis["mean_days_to_close"] = days_to_close.mean() if len(days_to_close) else math.nan
    kpis["p50_days_to_close"] = days_to_close.quantile(0.5) if len(days_to_close) else math.nan
    kpis["p90_days_to_close"] = days_to_close.quantile(0.9) if len(days_to_close) else math.nan
    waits: dict[str, list[pd.Series]] = {}
    for stage, role in zip(STAGES, STAGE_ROLES[structure][:3], strict=True):
        wait = df[stage_column(stage, "start_day")] - df[stage_column(stage, "queue_day")]
        waits.setdefault(role, []).append(wait.dropna())
    for role, parts in waits.items():
        joined = pd.concat(parts)
        kpis[f"mean_wait_days_{role}"] = joined.mean() if len(joined) else math.nan
    return kpis


def _flow_kpis(df: pd.DataFrame, reps: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    window_days = scenario.horizon_days - scenario.warmup_days
    won = df["outcome"] == "won"
    won_in_window = won & (df["end_day"] >= scenario.warmup_days)
    kpis: dict[str, float] = {
        "wins_per_30_days": won_in_window.sum() / window_days * 30.0,
        "market_share_trend_per_year": market_share_trend(df, scenario),
    }
    seats = reps.drop_duplicates("rep_id")
    for role, group in reps.groupby("role"):
        kpis[f"utilisation_{role}"] = utilisation(group)
        kpis[f"headcount_{role}"] = int(seats["role"].eq(role).sum())
    kpis.update(people_kpis(reps, scenario))
    kpis.update(forecast_kpis(df, scenario))
    kpis.update(customer_kpis(df, scenario))
    kpis.update(lead_source_kpis(df, reps, scenario))
    kpis["share_reps_at_quota"] = _share_at_quota(counted_quota_rows(reps, scenario))
    for role in ROLES:
        if role in set(reps["role"]):
            rows = counted_quota_rows(reps[reps["role"] == role], scenario)
            kpis[f"share_at_quota_{role}"] = _share_at_quota(rows)
            kpis[f"mean_attainment_{role}"] = rows["attainment"].mean() if len(rows) else math.nan
    revenue = float(df["revenue"].sum())
    bookings = float(df.loc[won, "deal_value"].sum())
    pay = team_cost(reps, scenario)
    cost = sum(pay.values())
    wins = int(won.sum())
    gross_profit = scenario.money.gross_margin * revenue
    active = df["account_outcome"] == "active"
    arr = float(df.loc[active, "account_value"].sum())
    book = book_value(arr, int(active.sum()), scenario)
    kpis.update(
        {
            "wins_in_horizon": wins,
            "bookings": bookings,
            "revenue": revenue,
            "arr_at_end": arr,
            "book_value_at_end": book,
            "accounts_churned": int((df["account_outcome"] == "churned").sum()),
            "accounts_dropped_in_handoff": int(df["account_handover_dropped"].sum()),
            "neglected_reviews": int(df["neglected_reviews"].sum()),
            **pay,
            "cost": cost,
            "gross_profit": gross_profit,
            "profit": gross_profit - cost,
            "profit_with_book": gross_profit - cost + book,
            "roi": (gross_profit - cost) / cost if cost > 0 else math.nan,
            "cost_per_won_deal": cost / wins if wins else math.nan,
            "revenue_per_rep": revenue / len(seats),
            "new_hire_payback_days": new_hire_payback_days(reps, scenario),
        }
    )
    return kpis


def customer_kpis(leads: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """Key accounts, go-live, advocates and referrals of one run (the parts that apply).

    ``key_account_conversion`` is the conversion of the measured cohort's
    leads in the tier of the largest deals (with more than one tier).

    Referral counts and shares are over the measured cohort, like the funnel
    KPIs; go-live times over the wins in the measured window; advocates at the
    horizon.
    """
    kpis: dict[str, float] = {}
    counted = cohort(leads)
    tiers = scenario.leads.tiers
    if len(tiers) > 1:
        # Key accounts: the tier of the largest deals.
        top = max(tiers, key=lambda tier: tier.value_multiplier).name
        key = counted[counted["tier"] == top]
        kpis["key_account_conversion"] = (
            float((key["outcome"] == "won").mean()) if len(key) else math.nan
        )
    if scenario.fulfilment.enabled:
        won = leads["end_day"].ge(scenario.warmup_days) & leads["go_live_day"].notna()
        days = (leads["go_live_day"] - leads["end_day"])[won]
        kpis["mean_days_to_go_live"] = days.mean() if len(days) else math.nan
        kpis["p90_days_to_go_live"] = days.quantile(0.9) if len(days) else math.nan
        kpis["late_go_live_share"] = (
            float((days > scenario.fulfilment.target_days).mean()) if len(days) else math.nan
        )
    if scenario.referrals.enabled:
        referral = counted["referred_by"] >= 0
        active = leads["account_outcome"] == "active"
        advocates = int(leads["advocate_at_end"].sum())
        kpis["referral_leads"] = int(referral.sum())
        kpis["referral_share"] = float(referral.mean()) if len(counted) else math.nan
        kpis["referral_wins"] = int((referral & (counted["outcome"] == "won")).sum())
        kpis["advocates_at_end"] = advocates
        kpis["advocate_share"] = advocates / active.sum() if active.any() else math.nan
    return kpis


def _share_at_quota(rows: pd.DataFrame) -> float:
    return float((rows["attainment"] >= 1.0).mean()) if len(rows) else math.nan


def summarise(kpis: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % CI across replications: one row per (structure, KPI).

    A share's interval is cut to [0, 1] (``KpiSpec.clip``).
    """
    rows = []
    columns = [c for c in kpis.columns if c not in ("structure", "replication")]
    for structure, group in kpis.groupby("structure", observed=True, sort=True):
        for kpi in columns:
            mean, low, high = mean_ci(group[kpi])
            low, high = kpi_spec(kpi).clip(low, high)
            rows.append(
                {
                    "structure": structure,
                    "kpi": kpi,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "replications": int(group[kpi].notna().sum()),
                }
            )
    return pd.DataFrame(rows)


def headline(
    summary: pd.DataFrame,
    kpis: tuple[str, ...] = (
        "leads_in",
        "won",
        "conversion",
        "wins_per_30_days",
        "mean_days_to_close",
        "p90_days_to_close",
        "lost_dropped_in_handoff",
        "lost_went_cold",
        "revenue",
        "cost",
        "profit",
    ),
) -> pd.DataFrame:
    """A KPI x structure table of 'mean ± half-width' strings for the terminal.

    Rows are the KPIs present, labelled with their units and printed as the
    comparison prints them (``sim.analysis.kpis``: fractions in %).
    """
    picked = summary[summary["kpi"].isin(kpis)].copy()
    order = list(dict.fromkeys(picked["structure"]))
    picked["text"] = [
        format_mean_ci(kpi, m, lo, hi)
        for kpi, m, lo, hi in zip(
            picked["kpi"], picked["mean"], picked["ci_low"], picked["ci_high"], strict=True
        )
    ]
    table = picked.pivot(index="kpi", columns="structure", values="text")
    table = table.reindex(index=[k for k in kpis if k in table.index], columns=order)
    table.index = pd.Index([kpi_spec(k).title for k in table.index], name="KPI")
    return table
