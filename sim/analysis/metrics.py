"""From raw lead and rep tables to the numbers a sales leader watches.

Pure pandas: every function takes the tables written by a run and returns a
table, so a KPI can be added or corrected without simulating again.

Conventions:
  * The *cohort* is the leads that arrived after the warm-up and at least
    ``maturity_days`` before the horizon (so they had time to finish); funnel
    KPIs (conversion, losses, cycle time, waits) are computed on it. Leads
    still open at the horizon are counted as ``open``, never as lost.
  * Flows (wins per 30 days, utilisation) are measured in the window
    [warm-up, horizon]; money covers the whole horizon, as a budget would.
  * A KPI is computed per structure and replication first; means and 95 %
    confidence intervals are then taken across replications (the t interval of
    ``sim.analysis.stats``).
  * What each KPI column means, its unit, format and better direction live in
    the registry ``sim.analysis.kpis``, which every report reads.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.kpis import format_mean_ci, kpi_spec
from sim.analysis.stats import mean_ci, t_interval
from sim.config.scenario import LEVELS, ROLES, STAGE_ROLES, STAGES, Scenario
from sim.model.people import weak_skill_threshold
from sim.model.records import BOOKINGS_ROLES, stage_column


def with_ci(runs: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, float]:
    """``column``, ``column_ci_low``, ``column_ci_high`` for each column of per-run values."""
    out = {}
    for column in columns:
        mean, low, high = mean_ci(runs[column])
        out.update({column: mean, f"{column}_ci_low": low, f"{column}_ci_high": high})
    return out


def cohort(leads: pd.DataFrame) -> pd.DataFrame:
    """Leads counted in funnel KPIs: arrived after the warm-up and mature by the horizon."""
    return leads[leads["in_cohort"]]


def stage_passed(df: pd.DataFrame, stage: str) -> pd.Series:
    """Leads that passed a stage (their customer answered and they went on)."""
    return df[stage_column(stage, "done_day")].notna() & (df["lost_at"] != stage)


def stage_resolved(df: pd.DataFrame, stage: str) -> pd.Series:
    """Leads whose fate at a stage is known: passed, failed or went cold there."""
    return stage_passed(df, stage) | (df["lost_at"] == stage)


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
    for point in ("handoff_to_qualification", "handoff_to_closing", "handoff_to_pod"):
        kpis[f"dropped_{point}"] = int((df["lost_at"] == point).sum())
    kpis["leads_overflowed"] = int(df["overflowed"].sum())
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
    kpis.update(
        {
            "wins_in_horizon": wins,
            "bookings": bookings,
            "revenue": revenue,
            "arr_at_end": float(df.loc[active, "account_value"].sum()),
            "accounts_churned": int((df["account_outcome"] == "churned").sum()),
            "accounts_dropped_in_handoff": int(
                (df["account_outcome"] == "dropped_in_handoff").sum()
            ),
            "neglected_reviews": int(df["neglected_reviews"].sum()),
            **pay,
            "cost": cost,
            "gross_profit": gross_profit,
            "profit": gross_profit - cost,
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


def utilisation(reps: pd.DataFrame) -> float:
    """Busy time over time present, both inside the measured window."""
    present = reps["window_days_present"].sum()
    return reps["busy_days"].sum() / present if present > 0 else math.nan


def people_kpis(reps: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """Headcount, managers, hires, leavers, turnover and vacancies of one run."""
    seats = reps["rep_id"].nunique()
    year_share = scenario.horizon_days / 365.0
    people = reps.drop_duplicates("person_id")
    present_days = reps["days_present"].sum()
    weights = reps["days_present"]
    kpis = {
        "headcount": seats,
        "managers": math.ceil(seats / scenario.money.manager_span),
        "hires": int(reps["hired"].sum()),
        "leavers": int(people["left_day"].notna().sum()),
        "annual_turnover": people["left_day"].notna().sum() / seats / year_share,
        "vacancy_share": 1.0 - present_days / (seats * scenario.horizon_days),
        "mean_ramp_factor": float((reps["ramp_factor"] * weights).sum() / weights.sum())
        if weights.sum() > 0
        else math.nan,
    }
    if scenario.people.performance.enabled:
        kpis["weak_performer_share"] = weak_performer_share(reps, scenario)
    return kpis


def weak_performer_share(reps: pd.DataFrame, scenario: Scenario) -> float:
    """Share of the rep-days in the measured window worked by weak performers.

    A weak performer's skill score is in the bottom ``weak_share`` of the
    hiring distribution: at hire, that share of people. Where missing quota
    pushes people out faster, weak performers leave sooner and hold fewer
    rep-days; where they hide (team pay, nobody watching), they stay.
    """
    performance = scenario.people.performance
    days = reps["window_days_present"]
    if days.sum() <= 0:
        return math.nan
    weak = reps["skill_z"] < weak_skill_threshold(performance.weak_share)
    return float(days[weak].sum() / days.sum())


def counted_quota_rows(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Rep-periods whose attainment counts: a quota, after the warm-up, present half the period.

    A period that starts before the warm-up ends measures the empty pipeline
    at the start, not the reps; a person present for a few days of a period
    has a quota too small to mean anything.
    """
    length = reps["period_end_day"] - reps["period_start_day"]
    keep = (
        reps["attainment"].notna()
        & (reps["period_start_day"] >= scenario.warmup_days)
        & (reps["days_present"] >= 0.5 * length)
    )
    return reps[keep]


def _share_at_quota(rows: pd.DataFrame) -> float:
    return float((rows["attainment"] >= 1.0).mean()) if len(rows) else math.nan


def rep_pay(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Base and variable pay of every rep-period row.

    Base: the role's salary times the level's salary factor, for the days
    present. Variable: closers and generalists earn ``commission_rate`` on
    their bookings (or on the gross margin of them), at ``accelerator`` times
    the rate above quota; other roles earn their on-target bonus pro rata to
    attainment, accelerated the same way above 100 %. Where the structure pays
    on team results (``commission = "team"``), everyone is paid as if they had
    attained their team's attainment in the period (the team's credit over its
    quota): the team's commission is shared pro rata to quota.

    Returns:
        Columns base_pay and variable_pay, aligned with ``reps``.
    """
    money = scenario.money
    levels = scenario.people.levels
    year_fraction = reps["days_present"] / 365.0
    salary = reps["role"].map(money.salary) * reps["level"].map(
        lambda level: levels.get(level).salary_factor
    )
    credit = reps["credit"].fillna(0.0)
    quota = reps["quota"]
    attainment = reps["attainment"]
    if _paid_on_team_results(reps, scenario):
        attainment = _team_attainment(reps)
        credit = (attainment * quota).fillna(credit)
    closing = reps["role"].isin(BOOKINGS_ROLES)
    basis = 1.0 if money.commission_basis == "bookings" else money.gross_margin
    below = np.where(quota.notna(), np.minimum(credit, quota.fillna(0.0)), credit)
    above = credit - below
    commission = money.commission_rate * basis * (below + money.accelerator * above)
    attainment = attainment.fillna(0.0)
    earned = np.minimum(attainment, 1.0) + money.accelerator * np.maximum(attainment - 1.0, 0.0)
    bonus = reps["role"].map(money.bonus) * year_fraction * earned
    return pd.DataFrame(
        {
            "base_pay": salary * year_fraction,
            "variable_pay": np.where(closing, commission, bonus),
        },
        index=reps.index,
    )


def _paid_on_team_results(reps: pd.DataFrame, scenario: Scenario) -> bool:
    structures = reps["structure"].unique()
    if len(structures) == 0:
        return False
    if len(structures) != 1:
        raise ValueError("rep_pay needs the rows of one structure")
    return getattr(scenario.structures, str(structures[0])).commission == "team"


def _team_attainment(reps: pd.DataFrame) -> pd.Series:
    """Each row's team attainment in its period (its team's credit over its quota)."""
    has_quota = reps["quota"].notna() & reps["credit"].notna()
    parts = pd.DataFrame(
        {
            "credit": reps["credit"].where(has_quota, 0.0),
            "quota": reps["quota"].where(has_quota, 0.0),
        }
    )
    keys = [reps["replication"], reps["team"], reps["period"]]
    sums = parts.groupby(keys).transform("sum")
    return (sums["credit"] / sums["quota"]).where(has_quota & (sums["quota"] > 0))


def team_cost(reps: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """What one run's team cost over the horizon, by kind (currency).

    Managers: one per ``manager_span`` seats, paid base plus a bonus pro rata
    to the mean attainment of the rep-periods that count. Overhead per person
    present (reps and managers). Every hire costs recruiting and onboarding.
    """
    money = scenario.money
    year_share = scenario.horizon_days / 365.0
    pay = rep_pay(reps, scenario)
    managers = math.ceil(reps["rep_id"].nunique() / money.manager_span)
    counted = counted_quota_rows(reps, scenario)
    team_attainment = counted["attainment"].mean() if len(counted) else 0.0
    closing = reps["role"].isin(BOOKINGS_ROLES)
    people_years = reps["days_present"].sum() / 365.0 + managers * year_share
    return {
        "salary_cost": float(pay["base_pay"].sum()),
        "commission_cost": float(pay.loc[closing, "variable_pay"].sum()),
        "bonus_cost": float(pay.loc[~closing, "variable_pay"].sum()),
        "manager_cost": managers
        * year_share
        * (money.salary_manager + money.bonus_manager * team_attainment),
        "overhead_cost": money.overhead_per_head * people_years,
        "hiring_cost": (money.hiring_cost + money.onboarding_cost) * int(reps["hired"].sum()),
    }


def new_hire_payback_days(reps: pd.DataFrame, scenario: Scenario) -> float:
    """Days until a new closing rep's gross margin covers what they cost (NaN if beyond 5 years).

    A new hire books at the ramped bookings rate measured in this run (over
    fully ramped closers' or generalists' days present) times the ramp factor
    of their tenure; each day the gross margin on those bookings, less
    commission, must pay back the hiring and onboarding cost plus a mid-level
    salary and overhead.
    """
    closing = reps[reps["role"].isin(BOOKINGS_ROLES) & (reps["ramp_factor"] >= 1.0)]
    days = closing["days_present"].sum()
    if days <= 0 or closing.empty:
        return math.nan
    money = scenario.money
    role = closing["role"].iloc[0]
    bookings_per_day = closing["bookings"].sum() / days
    basis = 1.0 if money.commission_basis == "bookings" else money.gross_margin
    margin_share = money.gross_margin - money.commission_rate * basis
    cost_per_day = (money.salary(role) + money.overhead_per_head) / 365.0
    ramp = scenario.people.ramp
    ramp_days = ramp.days.get(role) if ramp.enabled else 0.0
    tenure = np.arange(0.5, 5 * 365.0)
    factor = np.minimum(
        1.0,
        ramp.start_productivity + (1.0 - ramp.start_productivity) * tenure / max(ramp_days, 1e-9),
    )
    balance = np.cumsum(bookings_per_day * factor * margin_share - cost_per_day)
    balance -= money.hiring_cost + money.onboarding_cost
    paid = np.flatnonzero(balance >= 0)
    return float(paid[0] + 1) if len(paid) else math.nan


def summarise(kpis: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % CI across replications: one row per (structure, KPI)."""
    rows = []
    columns = [c for c in kpis.columns if c not in ("structure", "replication")]
    for structure, group in kpis.groupby("structure", observed=True, sort=True):
        for kpi in columns:
            mean, low, high = mean_ci(group[kpi])
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


def funnel_table(leads: pd.DataFrame) -> pd.DataFrame:
    """Where the cohort's leads end up, per structure: mean count per replication.

    One row per (structure, point): ``point`` is a stage or a handoff in funnel
    order, with the leads that ``reached`` it and how many were lost there as
    ``failed``, ``dropped_in_handoff``, ``went_cold`` or ``rep_left``; the
    first point ``handoff_to_pod`` (Pods passing leads to another pod) appears
    only where that happened; the last point ``won``
    counts wins, and ``open`` those still in the funnel at the horizon.
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
            for reason in ("failed", "dropped_in_handoff", "went_cold", "rep_left"):
                row[reason] = int((here & (df["lost_reason"] == reason)).sum())
            remaining -= int(here.sum())
            rows.append(row)
        rows.append(
            {
                "structure": structure,
                "replication": replication,
                "point": "won",
                "reached": int((df["outcome"] == "won").sum()),
                "failed": 0,
                "dropped_in_handoff": 0,
                "went_cold": 0,
                "rep_left": 0,
                "open": int((df["outcome"] == "open").sum()),
            }
        )
    runs = pd.DataFrame(rows).fillna({"open": 0})
    table = runs.groupby(["structure", "point"], observed=True, sort=False).mean(numeric_only=True)
    return table.drop(columns="replication").reset_index()


def _same_hands(roles: tuple[str, ...], point: str) -> bool:
    """True when the stages on both sides of a handoff point are worked by one role."""
    after = STAGES.index(point.removeprefix("handoff_to_"))
    return roles[after - 1] == roles[after]


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
    slope = np.polyfit(middle[keep], ours[keep] / total[keep], 1)[0]
    return float(slope * 365.0)


def forecast_table(leads: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Each quarter's stage-weighted pipeline forecast against the bookings that came.

    At the start of every whole quota period after the warm-up, the team
    forecasts the period's bookings the way many sales teams do: every open
    lead's deal value times the chance of winning from its current stage (the
    product of the configured pass probabilities still ahead of it). Leads
    arriving during the period are not forecast, and the configured
    probabilities ignore what the structure loses in handoffs, waiting and
    turnover: a structure that loses more forecasts worse.

    Returns:
        One row per structure, replication and period: period_start_day,
        forecast, actual (bookings won in the period), error ((forecast -
        actual) / actual; NaN when nothing was won).
    """
    probabilities = [scenario.stages.get(stage).pass_prob for stage in STAGES]
    weight = [float(np.prod(probabilities[k:])) for k in range(len(STAGES))]
    period = scenario.quotas.period_days
    starts = [
        start
        for start in np.arange(0.0, scenario.horizon_days - period + 1e-9, period)
        if start >= scenario.warmup_days
    ]
    rows = []
    for (structure, replication), df in leads.groupby(["structure", "replication"], observed=True):
        end_day = df["end_day"].to_numpy()
        won = (df["outcome"] == "won").to_numpy()
        value = df["deal_value"].to_numpy()
        arrival = df["arrival_day"].to_numpy()
        reached = [df[stage_column(stage, "queue_day")].to_numpy() for stage in STAGES]
        for start in starts:
            open_ = (arrival <= start) & ~(end_day <= start)
            stage_weight = np.full(len(df), weight[0])
            for k in range(1, len(STAGES)):
                stage_weight = np.where(reached[k] <= start, weight[k], stage_weight)
            forecast = float((value * stage_weight)[open_].sum())
            actual = float(value[won & (end_day >= start) & (end_day < start + period)].sum())
            rows.append(
                {
                    "structure": structure,
                    "replication": replication,
                    "period_start_day": float(start),
                    "forecast": forecast,
                    "actual": actual,
                    "error": (forecast - actual) / actual if actual > 0 else math.nan,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["structure", "replication", "period_start_day", "forecast", "actual", "error"],
    )


def forecast_kpis(leads: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """Forecast error of one run: mean absolute (predictability) and mean signed (bias)."""
    errors = forecast_table(leads, scenario)["error"].dropna()
    if errors.empty:
        return {"forecast_abs_error": math.nan, "forecast_bias": math.nan}
    return {
        "forecast_abs_error": float(errors.abs().mean()),
        "forecast_bias": float(errors.mean()),
    }


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


def utilisation_table(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Utilisation per structure and role: mean and 95 % CI across replications.

    Utilisation is busy time over time present (a vacant seat is neither),
    both inside the measured window.
    """
    rows = []
    per_run = reps.groupby(["structure", "replication", "role"], observed=True).apply(
        utilisation, include_groups=False
    )
    for (structure, role), group in per_run.groupby(level=["structure", "role"]):
        mean, low, high = mean_ci(group)
        rows.append(
            {
                "structure": structure,
                "role": role,
                "utilisation": mean,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows)


def wip_over_time(samples: pd.DataFrame) -> pd.DataFrame:
    """Leads waiting and in service per structure and role over time (mean over replications)."""
    per_role = samples.groupby(["structure", "replication", "role", "day"], observed=True)[
        ["waiting", "in_service", "open_deals", "accounts"]
    ].sum()
    return per_role.groupby(["structure", "role", "day"], observed=True).mean().reset_index()


HEADCOUNT_MEASURES: tuple[str, ...] = ("headcount", "filled", "vacant", "ramping")
"""Columns of ``samples`` summed by ``headcount_over_time``: seats, and what fills them."""


def headcount_over_time(samples: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Seats, filled seats, vacancies and ramping reps per structure over time.

    Each sample day's counts are summed over a structure's teams within one
    replication, then averaged across replications with a two-sided t interval
    (as ``mean_ci``). ``headcount`` is the number of seats, ``filled`` the seats
    with someone in them, ``vacant`` the empty ones (waiting for a hire) and
    ``ramping`` the filled seats whose person is still ramping up.

    Args:
        samples: the work-in-progress samples of a run (``samples.parquet``):
            columns structure, replication, day and ``HEADCOUNT_MEASURES``.
        confidence: the interval's coverage.

    Returns:
        One row per (structure, day) in structure then day order: columns
        structure, day, replications, and for each measure its mean (reps)
        with ``<measure>_ci_low`` and ``<measure>_ci_high`` (NaN with fewer
        than two replications).
    """
    measures = list(HEADCOUNT_MEASURES)
    per_run = samples.groupby(["structure", "replication", "day"], observed=True)[measures].sum()
    grouped = per_run.astype(float).groupby(level=["structure", "day"], observed=True)
    mean = grouped.mean()
    count = grouped.size().to_numpy()
    std = grouped.std(ddof=1).to_numpy()
    half = t_interval(0.0, std, count[:, None], confidence).half_width
    table = mean.reset_index()[["structure", "day"]]
    table["replications"] = count
    for index, measure in enumerate(measures):
        values = mean[measure].to_numpy()
        table[measure] = values
        table[f"{measure}_ci_low"] = values - half[:, index]
        table[f"{measure}_ci_high"] = values + half[:, index]
    return table


def attainment_by_level(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Quota attainment per structure, role and level, mean and 95 % CI across replications.

    Only the rep-periods that count (``counted_quota_rows``). Per replication,
    the mean attainment and the share at quota of each (structure, role,
    level); then their mean and t interval across the replications that have
    such rep-periods.

    Args:
        reps: the rep table of a run (one row per person per quota period).
        scenario: the scenario (warm-up).

    Returns:
        Columns structure, role, level, rep_periods (counted rep-periods per
        replication of the structure), mean_attainment, share_at_quota
        (fractions; 1.0 = at quota), the last two each with
        ``_ci_low`` and ``_ci_high``; roles in pipeline order, levels junior,
        mid, senior. Empty (with these columns) when nothing counts.
    """
    columns = ["structure", "role", "level", "rep_periods"]
    for value in ("mean_attainment", "share_at_quota"):
        columns += [value, f"{value}_ci_low", f"{value}_ci_high"]
    counted = counted_quota_rows(reps, scenario)
    if counted.empty:
        return pd.DataFrame(columns=columns)
    keys = ["structure", "role", "level"]
    per_run = (
        counted.assign(at_quota=counted["attainment"] >= 1.0)
        .groupby([*keys, "replication"], observed=True)
        .agg(
            rep_periods=("attainment", "size"),
            mean_attainment=("attainment", "mean"),
            share_at_quota=("at_quota", "mean"),
        )
        .reset_index()
    )
    replications = reps.groupby("structure", observed=True)["replication"].nunique()
    rows = []
    for (structure, role, level), group in per_run.groupby(keys, observed=True):
        row = {
            "structure": structure,
            "role": role,
            "level": level,
            "rep_periods": group["rep_periods"].sum() / replications[structure],
        }
        row.update(with_ci(group, ("mean_attainment", "share_at_quota")))
        rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    if isinstance(reps["structure"].dtype, pd.CategoricalDtype):
        table["structure"] = pd.Categorical(
            table["structure"], categories=reps["structure"].cat.categories
        )
    ranks = {
        "role": {role: index for index, role in enumerate(ROLES)},
        "level": {level: index for index, level in enumerate(LEVELS)},
    }
    # Structures keep their categorical (report) order; roles and levels their model order.
    return table.sort_values(
        ["structure", "role", "level"],
        key=lambda column: column.map(ranks[column.name]) if column.name in ranks else column,
        kind="stable",
        ignore_index=True,
    )
