"""Calibration: estimate a scenario's parameters from a CRM export.

Every estimate comes with its sample size and a 95 % confidence interval
(``sim.crm.estimates``), and the scenario file written from them
(``sim.crm.scenario_file``) says both in a comment beside the value, so a
sales leader sees which numbers rest on 40 leads and which on 4,000. What an
export cannot tell apart (context lost at a handoff versus a lower pass
probability, decay versus patience, seniority, ramp-up, turnover) is left to
the writer, which sets the neutral value and says so.

Estimators (times in days, all on the table ``sim.crm.read.read_export`` returns):

- arrival rate: leads / observed days (Poisson, normal-approximation CI);
  seasonality from the first yearly harmonic when a whole year is observed;
- segment mix: shares with Wilson intervals;
- size tiers (only from a ``tier`` column): shares, the mean amount per tier
  and each tier's effort relative to the stage mean;
- deal value: the mean per segment, and the log-normal spread from the
  standard deviation of log amounts within segment and tier;
- pass probability per stage: passed / (passed + failed) among leads whose
  stage ended (Wilson interval); leads still in the stage are left out, leads
  that left unworked count as went cold, not failed;
- times per stage: waiting (entered -> taken by an owner), working (taken ->
  worked) and customer lag (worked -> passed or failed); the mean counts time
  already spent by leads still in the step (censored) over completed steps only,
  the maximum-likelihood mean for exponential times;
- handoff: delay (passed -> entered the next stage) and drop share;
- went cold: leads that left a queue unworked, and open leads inactive for
  longer than ``cold_after_days``; patience = queue time / leads that went cold;
- headcount per role: distinct owners per quarter (the median quarter) where
  the export has the role, else sized from the work at a stated utilisation;
  effort from throughput when the export has no ``worked`` timestamps
  (``sim.crm.capacity``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config.market import MONTH_DAYS
from sim.config.scenario import STAGES, STRUCTURES, ScenarioError
from sim.crm import capacity
from sim.crm.estimates import Z95, Estimate, cv, exponential_mean, mean_time, wilson
from sim.crm.read import CrmHistory

EFFORT_SHARE_ASSUMED = 0.2
"""Share of a stage's in-work time assumed to be rep effort when the export has no
``worked`` timestamps (an assumption, flagged in the scenario file)."""


@dataclass
class Calibration:
    """Everything estimated from one export, for one structure."""

    structure: str
    history: CrmHistory
    horizon_days: float
    arrivals_per_day: Estimate
    seasonality: tuple[Estimate, float] | None
    segments: dict[str, Estimate]
    segment_values: dict[str, Estimate]
    tiers: dict[str, Estimate]
    tier_values: dict[str, Estimate]
    tier_effort: dict[str, Estimate]
    mean_deal_value: Estimate
    deal_value_sigma: Estimate
    pass_prob: dict[str, Estimate]
    waiting_days: dict[str, Estimate]
    effort_days: dict[str, Estimate]
    effort_cv: dict[str, float]
    lag_days: dict[str, Estimate]
    lag_cv: dict[str, float]
    effort_measured: bool
    handoff_delay_days: Estimate
    handoff_drop_prob: Estimate
    went_cold: int
    open_inactive: int
    patience_days: Estimate
    headcount: dict[str, Estimate]
    pods: list[dict] = field(default_factory=list)
    monthly_factors: list[float] = field(default_factory=list)
    growth_per_year: Estimate | None = None
    cycle_fit: Any = None  # sim.crm.cycle_fit.CycleFit, when the lags were fitted
    owner_groups: list = field(default_factory=list)
    work_per_day: dict[str, float] = field(default_factory=dict)
    stale_open: int = 0
    stale_after_days: float = math.nan
    utilisation_assumed: float = capacity.DEFAULT_UTILISATION
    expected_utilisation: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def calibrate(
    history: CrmHistory,
    structure: str = "conveyor",
    cold_after_days: float = 60.0,
    utilisation: float = capacity.DEFAULT_UTILISATION,
) -> Calibration:
    """Estimate every parameter the export supports.

    Args:
        history: the export as ``read_export`` returns it.
        structure: the org structure the team works in (decides which owners
            make up which role).
        cold_after_days: an open lead without activity for longer than this
            before the export's last date counts as went cold.
        utilisation: the share of their time the owners are assumed to have
            spent on the leads, for sizing from throughput (``sim.crm.capacity``).

    Returns:
        The estimates, ready for ``scenario_toml``.

    Raises:
        ScenarioError: an unknown structure, or an export without what it needs.
    """
    if structure not in STRUCTURES:
        raise ScenarioError([f"--structure: {structure!r} is not one of {', '.join(STRUCTURES)}"])
    df = history.leads
    horizon = history.as_of_day
    measured = history.measured
    tier = df["tier"].astype(str) if "tier" in measured else pd.Series("", index=df.index)
    deals = _deal_estimates(df, tier)
    stale, stale_after = _gone_stale(df, horizon)
    alive = df[~stale]
    stages = _stage_estimates(alive, measured, horizon, cold_after_days)
    stages["went_cold"] += int(stale.sum())
    if "funnel" not in measured:
        _without_funnel(alive, stages["pass_prob"], stages["effort_days"], stages["lag_days"])
    delay, drop = _handoff(df, measured)
    headcount, pods, load, groups, work = _team(
        df, structure, stages, horizon, utilisation, effort_measured(measured)
    )
    return Calibration(
        structure=structure,
        history=history,
        horizon_days=math.ceil(horizon),
        arrivals_per_day=_arrival_rate(len(df), horizon),
        seasonality=_seasonality(df["arrival_day"].to_numpy(), horizon),
        monthly_factors=monthly_factors(df["arrival_day"].to_numpy(), horizon),
        growth_per_year=growth_per_year(df["arrival_day"].to_numpy(), horizon),
        **deals,
        tier_effort=_tier_effort(df, tier, deals["tiers"]) if effort_measured(measured) else {},
        **stages,
        effort_measured=effort_measured(measured),
        handoff_delay_days=delay,
        handoff_drop_prob=drop,
        headcount=headcount,
        pods=pods,
        utilisation_assumed=utilisation,
        expected_utilisation=load,
        owner_groups=groups,
        work_per_day=work,
        stale_open=int(stale.sum()),
        stale_after_days=stale_after,
    )


STALE_FACTOR = 1.5
"""An open deal older than this many times the won deals' 95th-percentile cycle has gone
cold: 19 in 20 wins come sooner, and a CRM keeps deals nobody closed (an assumption)."""


def _gone_stale(df: pd.DataFrame, as_of: float) -> tuple[pd.Series, float]:
    """Open deals idle far longer than a won deal's cycle, and the idle days that make them so.

    Such a deal is not alive: counting its age as time still in work would
    stretch every stage's time. It counts as gone cold instead, and is left
    out of the stage estimates (its stage never ended).
    """
    won = df["outcome"].astype(str) == "won"
    cycles = (df["end_day"] - df["arrival_day"])[won].dropna()
    if len(cycles) < 20:  # too few wins to say what a long cycle is
        return pd.Series(False, index=df.index), math.nan
    cutoff = STALE_FACTOR * float(np.quantile(cycles, 0.95))
    days = [c for c in df.columns if c.endswith("_day")]
    last_seen = df[days].max(axis=1)  # its last recorded step: arrival, a stage, an owner
    stale = (df["outcome"].astype(str) == "open") & (as_of - last_seen > cutoff)
    return stale, cutoff


def _arrival_rate(leads: int, horizon: float) -> Estimate:
    """Leads per day over the observed days (Poisson, normal-approximation CI)."""
    half = Z95 * math.sqrt(leads) / horizon
    return Estimate(leads / horizon, (leads / horizon) - half, (leads / horizon) + half, leads)


def _deal_estimates(df: pd.DataFrame, tier: pd.Series) -> dict[str, Any]:
    """Segment and tier shares, mean amounts, and the deal-value spread (Calibration fields)."""
    segment = df["segment"].where(df["segment"] != "", "all")
    counts = segment.value_counts()
    segments = {name: wilson(int(counts[name]), len(df)) for name in sorted(counts.index)}
    values = df["deal_value"].where(df["deal_value"] > 0)
    has_value = values.notna()
    tier_counts = tier[tier != ""].value_counts()
    tiers = {
        name: wilson(int(tier_counts[name]), int(tier_counts.sum()))
        for name in sorted(tier_counts.index)
    }
    return {
        "segments": segments,
        "segment_values": {
            name: mean_time(values[has_value & (segment == name)].to_numpy()) for name in segments
        },
        "tiers": tiers,
        "tier_values": {
            name: mean_time(values[has_value & (tier == name)].to_numpy()) for name in tiers
        },
        "mean_deal_value": mean_time(values[has_value].to_numpy()),
        "deal_value_sigma": _value_spread(values[has_value], segment[has_value], tier[has_value]),
    }


def _value_spread(values: pd.Series, segment: pd.Series, tier: pd.Series) -> Estimate:
    """The log-normal spread of amounts within segment and tier (0.6 when not measurable)."""
    logs = np.log(values)
    cell = segment + "\x00" + tier
    within = logs - logs.groupby(cell).transform("mean")
    k = len(values)
    cells = int(cell.nunique())
    if k <= cells + 1:
        return Estimate(0.6, math.nan, math.nan, 0, "not measured: the default")
    sigma = float(math.sqrt((within**2).sum() / (k - cells)))
    half = Z95 / math.sqrt(2 * (k - cells))
    return Estimate(sigma, sigma * (1 - half), sigma * (1 + half), k)


def _stage_estimates(
    df: pd.DataFrame, measured: frozenset[str], as_of: float, cold_after_days: float
) -> dict[str, Any]:
    """Per stage pass probability, waiting, effort and lag; leads gone cold and patience.

    Returns:
        The Calibration fields ``pass_prob``, ``waiting_days``, ``effort_days``,
        ``effort_cv``, ``lag_days``, ``lag_cv``, ``went_cold``, ``open_inactive``
        and ``patience_days``.
    """
    pass_prob, waiting, effort, effort_shape, lag, lag_shape = {}, {}, {}, {}, {}, {}
    queue_exposure: list[np.ndarray] = []
    cold = open_inactive = 0
    for stage in STAGES:
        pass_prob[stage] = _pass_prob(df, stage)
        if "assigned" in measured:
            waiting[stage], spells, went_cold, inactive = _waiting(
                df, stage, as_of, cold_after_days
            )
            open_inactive += inactive
            cold += went_cold + inactive
            queue_exposure += spells
        else:
            waiting[stage] = Estimate(math.nan, math.nan, math.nan, 0)
        if effort_measured(measured):
            effort[stage], effort_shape[stage], lag[stage], lag_shape[stage] = _work_times(
                df, stage, as_of
            )
        else:
            effort[stage], lag[stage] = _work_time_split(df, stage, as_of)
            effort_shape[stage] = lag_shape[stage] = 1.0
    exposure = float(np.concatenate(queue_exposure).sum()) if queue_exposure else 0.0
    if cold > 0:
        patience = exponential_mean(exposure, cold)
    else:
        patience = Estimate(math.nan, math.nan, math.nan, 0, "no lead went cold")
    return {
        "pass_prob": pass_prob,
        "waiting_days": waiting,
        "effort_days": effort,
        "effort_cv": effort_shape,
        "lag_days": lag,
        "lag_cv": lag_shape,
        "went_cold": cold,
        "open_inactive": open_inactive,
        "patience_days": patience,
    }


def _went_cold_in(df: pd.DataFrame, stage: str) -> pd.Series:
    """Leads that left the stage's queue unworked."""
    return (df["lost_at"].astype(str) == stage) & (df["lost_reason"].astype(str) == "went_cold")


def _pass_prob(df: pd.DataFrame, stage: str) -> Estimate:
    """Passed / (passed + failed) among the leads whose stage ended; went cold is not failed."""
    lost_at = df["lost_at"].astype(str)
    lost_reason = df["lost_reason"].astype(str)
    in_stage = df[f"{stage}_queue_day"].notna()
    failed_here = (lost_at == stage) & (lost_reason != "went_cold")
    passed = in_stage & df[f"{stage}_done_day"].notna() & (lost_at != stage)
    return wilson(int(passed.sum()), int((passed | failed_here).sum()))


def _waiting(
    df: pd.DataFrame, stage: str, as_of: float, cold_after_days: float
) -> tuple[Estimate, list[np.ndarray], int, int]:
    """Time waiting for an owner (entered -> taken), open and gone-cold waits counted.

    Returns:
        The mean wait, the spells at risk of going cold (taken, still open,
        gone cold), the leads that went cold, and the open leads inactive for
        longer than ``cold_after_days``.
    """
    entered = df[f"{stage}_queue_day"]
    start = df[f"{stage}_start_day"]
    in_stage = entered.notna()
    cold_here = _went_cold_in(df, stage)
    wait_done = (start - entered)[in_stage & start.notna()].to_numpy()
    open_queue = in_stage & start.isna() & ~cold_here & (df["outcome"] == "open")
    wait_open = (as_of - entered)[open_queue].to_numpy()
    cold_wait = (df["end_day"] - entered)[cold_here].to_numpy()
    wait = mean_time(wait_done, np.concatenate([wait_open, cold_wait]))
    inactive = int((wait_open > cold_after_days).sum())
    return wait, [wait_done, wait_open, cold_wait], int(cold_here.sum()), inactive


def _work_times(
    df: pd.DataFrame, stage: str, as_of: float
) -> tuple[Estimate, float, Estimate, float]:
    """Effort (taken -> worked) and customer lag (worked -> passed or failed), with their CVs."""
    start = df[f"{stage}_start_day"]
    end = df[f"{stage}_end_day"]
    done = df[f"{stage}_done_day"]
    working = df[f"{stage}_queue_day"].notna() & start.notna()
    effort_done = (end - start)[working & end.notna()].to_numpy()
    effort_open = (as_of - start)[working & end.isna() & done.isna()].to_numpy()
    lag_done = (done - end)[end.notna() & done.notna()].to_numpy()
    lag_open = (as_of - end)[end.notna() & done.isna() & (df["outcome"] == "open")]
    return (
        mean_time(effort_done, effort_open),
        cv(effort_done),
        mean_time(lag_done, lag_open.to_numpy()),
        cv(lag_done),
    )


def _work_time_split(df: pd.DataFrame, stage: str, as_of: float) -> tuple[Estimate, Estimate]:
    """Effort and lag without 'worked' timestamps: one span in work, split by assumption."""
    entered = df[f"{stage}_queue_day"]
    start = df[f"{stage}_start_day"]
    done = df[f"{stage}_done_day"]
    in_stage = entered.notna()
    finished = in_stage & done.notna() & ~_went_cold_in(df, stage)
    base = start.where(start.notna(), entered)
    in_work = (done - base)[finished].to_numpy()
    total = mean_time(in_work, (as_of - base)[in_stage & done.isna()].to_numpy())
    note = (
        f"not measured (no worked timestamps): assumed {EFFORT_SHARE_ASSUMED:.0%} of "
        f"the {total.value:.3g} days in work"
    )
    share = EFFORT_SHARE_ASSUMED
    effort = Estimate(total.value * share, math.nan, math.nan, total.n, note)
    lag = Estimate(
        total.value * (1 - share), math.nan, math.nan, total.n, "the rest of the time in work"
    )
    return effort, lag


def _handoff(df: pd.DataFrame, measured: frozenset[str]) -> tuple[Estimate, Estimate]:
    """Handoff delay (passed -> entered the next stage) and drop share, from exited dates."""
    if "exited" not in measured:
        delay = Estimate(0.0, math.nan, math.nan, 0, "no exited timestamps")
        drop = Estimate(0.0, math.nan, math.nan, 0, "no exited timestamps")
        return delay, drop
    lost_at = df["lost_at"].astype(str)
    delays, drops, handed = [], 0, 0
    for stage, following in zip(STAGES, STAGES[1:], strict=False):
        exited = df[f"{stage}_done_day"]
        arrived = df[f"{following}_queue_day"]
        delays.append((arrived - exited)[arrived.notna() & exited.notna()].to_numpy())
        dropped = lost_at == f"handoff_to_{following}"
        drops += int(dropped.sum())
        handed += int((arrived.notna() | dropped).sum())
    return mean_time(np.concatenate(delays)), wilson(drops, handed)


def _without_funnel(df: pd.DataFrame, pass_prob: dict, effort: dict, lag: dict) -> None:
    """Stage estimates from outcomes alone, for an export without stage dates.

    The win rate (won / decided) is spread evenly over the stages (each passes
    with its cube root) and the won deals' cycle time evenly over their time in
    work, 20 % of it effort; each estimate says it is an assumption.
    """
    outcome = df["outcome"].astype(str)
    won, decided = int((outcome == "won").sum()), int(outcome.isin(["won", "lost"]).sum())
    rate = wilson(won, decided)
    root = 1 / len(STAGES)
    note = (
        f"not measured (no stage dates): the win rate {rate.value:.3g} ({rate.comment()}) "
        f"spread evenly over {len(STAGES)} stages"
    )
    cycle = (df["end_day"] - df["arrival_day"])[outcome == "won"].to_numpy()
    per_stage = float(np.mean(cycle)) / len(STAGES) if len(cycle) else math.nan
    share = EFFORT_SHARE_ASSUMED
    timing = (
        f"not measured (no stage dates): {share:.0%} of a third of the won deals' mean "
        f"cycle time {per_stage * len(STAGES):.3g} days"
    )
    for stage in STAGES:
        if rate.n:
            pass_prob[stage] = Estimate(
                rate.value**root, rate.low**root, rate.high**root, rate.n, note
            )
        if len(cycle):
            effort[stage] = Estimate(per_stage * share, math.nan, math.nan, len(cycle), timing)
            lag[stage] = Estimate(
                per_stage * (1 - share), math.nan, math.nan, len(cycle), "the rest"
            )


def effort_measured(measured: frozenset[str]) -> bool:
    """Whether the export separates rep effort (assigned -> worked) from customer lag."""
    return "worked" in measured and "assigned" in measured


def _tier_effort(df: pd.DataFrame, tier: pd.Series, tiers: dict) -> dict[str, Estimate]:
    """Each tier's effort relative to the stage mean, over the completed efforts of all stages.

    Every completed effort is divided by its stage's mean; a tier's multiplier
    is the mean of its ratios (normal-approximation CI), which matches the
    simulator's effort, the stage mean times the tier's multiplier.
    """
    ratios = []
    for stage in STAGES:
        spell = (df[f"{stage}_end_day"] - df[f"{stage}_start_day"]).dropna()
        if len(spell) and spell.mean() > 0:
            ratios.append(spell / spell.mean())
    if not ratios:
        return {}
    ratio = pd.concat(ratios)
    by_tier = tier.loc[ratio.index]
    out = {}
    for name in tiers:
        mine = ratio[by_tier == name].to_numpy()
        if len(mine) < 2:
            continue
        half = Z95 * mine.std(ddof=1) / math.sqrt(len(mine))
        out[name] = Estimate(float(mine.mean()), max(0.0, mine.mean() - half), mine.mean() + half,
                             len(mine))  # fmt: skip
    return out


SEASONAL_YEARS = 2
"""Whole years an export must cover before a yearly season is fitted; a shorter one gets
its arrivals month by month instead."""


def monthly_factors(arrival_day: np.ndarray, horizon: float) -> list[float]:
    """Each month's arrival rate over the export's mean (months of 365.25 / 12 days).

    The last month may be partial: its rate is over the days it was observed.
    Empty when the export covers two years or more (a season is fitted then).
    """
    if (horizon + 1.0) // 365 >= SEASONAL_YEARS or horizon <= 0:
        return []
    months = max(1, math.ceil(horizon / MONTH_DAYS - 1e-9))
    edges = np.minimum(np.arange(months + 1) * MONTH_DAYS, horizon)
    counts = np.histogram(arrival_day, bins=edges)[0]
    days = np.diff(edges)
    mean_rate = len(arrival_day) / horizon
    return [float(c / d / mean_rate) if d > 0 and mean_rate > 0 else 1.0
            for c, d in zip(counts, days, strict=True)]  # fmt: skip


def growth_per_year(arrival_day: np.ndarray, horizon: float) -> Estimate:
    """The arrival rate's yearly trend: a log-linear Poisson fit over whole months.

    ``log rate = a + b t``, fitted by iteratively reweighted least squares (the
    Poisson maximum likelihood); growth = exp(365 b) - 1, its CI from b's.
    """
    months = int(horizon // MONTH_DAYS)
    edges = np.arange(months + 1) * MONTH_DAYS
    counts = np.histogram(arrival_day, bins=edges)[0].astype(float)
    if months < 3 or counts.sum() < 30 or (counts == 0).any():
        return Estimate(
            0.0, math.nan, math.nan, 0, "not measured: under three whole months of leads"
        )  # fmt: skip
    x = np.column_stack([np.ones(months), (edges[:-1] + MONTH_DAYS / 2) / 365.0])
    beta = np.array([math.log(max(counts.mean(), 0.5)), 0.0])
    for _ in range(25):
        mu = np.exp(x @ beta)
        beta = beta + np.linalg.solve(x.T @ (mu[:, None] * x), x.T @ (counts - mu))
    cov = np.linalg.inv(x.T @ (np.exp(x @ beta)[:, None] * x))
    slope, half = beta[1], Z95 * math.sqrt(cov[1, 1])
    return Estimate(
        math.expm1(slope), math.expm1(slope - half), math.expm1(slope + half), int(counts.sum()),
        f"log-linear fit over {months} whole months",
    )  # fmt: skip


def _seasonality(arrival_day: np.ndarray, horizon: float) -> tuple[Estimate, float] | None:
    """Amplitude and peak day of the first yearly harmonic, over whole observed years."""
    years = int((horizon + 1.0) // 365)  # a year observed to the last day counts whole
    if years < SEASONAL_YEARS:  # one year cannot tell a season from a trend or a ramp
        return None
    times = arrival_day[arrival_day < years * 365]
    n = len(times)
    if n < 10:
        return None
    phase = np.exp(2j * np.pi * times / 365.0).sum()
    amplitude = 2 * abs(phase) / n
    half = Z95 * math.sqrt(2 / n)
    peak = (np.angle(phase) / (2 * np.pi) * 365.0) % 365.0
    return Estimate(amplitude, max(0.0, amplitude - half), amplitude + half, n), float(peak)


def _team(
    df: pd.DataFrame,
    structure: str,
    stages: dict[str, Any],
    horizon: float,
    utilisation: float,
    effort_known: bool,
) -> tuple[dict[str, Estimate], list[dict], dict[str, float], list, dict[str, float]]:
    """Headcount per role (and per pod), effort from throughput, and each role's expected load.

    When the export has no ``worked`` timestamps, each owned stage's effort is
    what keeps its owners ``utilisation`` busy (``sim.crm.capacity``), and the
    customer lag is the rest of the time in work; ``stages`` is updated.

    Returns:
        The headcount, the pods, each role's expected utilisation, the owner
        groups and each stage's work (days of effort a day).
    """
    groups = capacity.owner_groups(df)
    per_day = _stage_leads_per_day(df, stages["pass_prob"], horizon)
    in_work = {s: _days_in_work(stages, s) for s in STAGES}
    if not effort_known:
        for stage, effort in capacity.effort_from_throughput(
            groups, per_day, in_work, utilisation
        ).items():
            stages["effort_days"][stage] = effort
            stages["lag_days"][stage] = Estimate(
                in_work[stage] - effort.value, math.nan, math.nan, effort.n,
                "the rest of the time in work",
            )  # fmt: skip
    work = {s: per_day[s] * _value(stages["effort_days"][s]) for s in STAGES}
    headcount = capacity.role_headcount(structure, groups, work, utilisation)
    if structure != "allin":
        headcount["account_managers"] = _account_managers(df, groups)
    pods = _find_pods(df, stages, horizon, utilisation) if structure == "pods" else []
    if pods:  # the busiest pod's, per role: a pod cannot lend its people to another
        load = {
            role: max(pod["load"][role] for pod in pods) for role in capacity.ROLE_STAGES[structure]
        }
    else:
        load = capacity.utilisation(work, headcount, structure)
    return headcount, pods, load, groups, work


def _value(estimate: Estimate) -> float:
    return estimate.value if estimate.n and not math.isnan(estimate.value) else 0.0


def _days_in_work(stages: dict[str, Any], stage: str) -> float:
    """A stage's mean time from taken (or entered) to passed or failed: effort plus lag."""
    return _value(stages["effort_days"][stage]) + _value(stages["lag_days"][stage])


def _stage_leads_per_day(df: pd.DataFrame, pass_prob: dict, horizon: float) -> dict[str, float]:
    """Leads a day worked at each stage: counted where the export dates the stages, else implied.

    Without stage dates a lead's later stages are not seen; the leads reaching
    a stage are then the arrivals times the calibrated pass probabilities before it.
    """
    per_day, reach = {}, len(df) / horizon
    for stage in STAGES:
        entered = int(df[f"{stage}_queue_day"].notna().sum())
        per_day[stage] = entered / horizon if entered else reach
        reach *= _value(pass_prob[stage])
    return per_day


def _account_managers(df: pd.DataFrame, groups: list[capacity.OwnerGroup]) -> Estimate:
    """Account owners per quarter; the deal owners keeping their accounts do not count twice."""
    owner = df["account_handler"].astype(str)
    counted = capacity.quarterly_owners(owner, df["account_start_day"])
    keepers = set(owner) - {""}
    deal_owners = {person for s in STAGES for person in set(df[f"{s}_handler"].astype(str)) - {""}}
    if counted.n and len(keepers & deal_owners) < capacity.SAME_PEOPLE_SHARE * len(keepers):
        return counted
    why = (
        "the deal owners kept their accounts in the export"
        if counted.n
        else "no account owners recorded"
    )
    return Estimate(
        1.0, math.nan, math.nan, 0,
        f"{why}; account reviews take no effort in this scenario (not measured): one seat",
    )  # fmt: skip


def _find_pods(
    df: pd.DataFrame, stages: dict[str, Any], horizon: float, utilisation: float
) -> list[dict]:
    """Pods as groups of segments sharing owners (an owner's segments: 10 % of their leads+)."""
    segment = df["segment"].where(df["segment"] != "", "all").astype(str)
    links: dict[str, set[str]] = {}
    for stage in STAGES:
        owner = df[f"{stage}_handler"].astype(str)
        known = owner != ""
        shares = pd.crosstab(owner[known], segment[known], normalize="index")
        for name, row in shares.iterrows():
            links.setdefault(f"{stage}:{name}", set()).update(row.index[row >= 0.1])
    groups: list[set[str]] = []
    for owned in links.values():
        touching = [g for g in groups if g & owned]
        merged = set(owned).union(*touching)
        groups = [g for g in groups if not g & owned] + [merged]
    if not groups:
        groups = [set(segment.unique())]
    groups.sort(key=lambda g: sorted(g))
    return [
        _pod(df[segment.isin(segments)], index, sorted(segments), stages, horizon, utilisation)
        for index, segments in enumerate(groups, start=1)
    ]


def _pod(
    part: pd.DataFrame,
    index: int,
    segments: list[str],
    stages: dict[str, Any],
    horizon: float,
    utilisation: float,
) -> dict:
    """One pod: its segments, headcount per role from its own leads, and each role's load."""
    per_day = _stage_leads_per_day(part, stages["pass_prob"], horizon)
    work = {s: per_day[s] * _value(stages["effort_days"][s]) for s in STAGES}
    groups = capacity.owner_groups(part)
    counts = capacity.role_headcount("pods", groups, work, utilisation)
    counts["account_managers"] = _account_managers(part, groups)
    load = capacity.utilisation(work, counts, "pods")
    return {"name": f"pod{index}", "segments": segments, "headcount": counts, "load": load}


WINS_TOLERANCE = 0.10
"""How far the wins the calibrated rates imply may be from the export's (share of them)."""

MAX_UTILISATION = 1.0
"""A role the calibrated work keeps this busy or more cannot carry the observed volume."""


def matured_wins(cal: Calibration) -> tuple[float, int, int]:
    """Wins the calibrated rates imply among the leads old enough to have finished, and history's.

    A lead is old enough when it arrived longer before the export's end than
    95 % of the won deals' cycles (arrival to win). Such a lead wins with the
    product of the stage pass probabilities, less the share dropped at each
    relay and the share of leads that went cold. Newer leads are left out: how
    many of them have won yet depends on the cycle, not on the rates.

    Returns:
        The implied wins, the wins in history among the same leads, and their number.
    """
    df = cal.history.leads
    won = df["outcome"].astype(str) == "won"
    cycles = (df["end_day"] - df["arrival_day"])[won].dropna()
    if len(cycles) == 0:
        return 0.0, 0, 0
    matured = df["arrival_day"] <= cal.history.as_of_day - float(np.quantile(cycles, 0.95))
    win = math.prod(_value(p) for p in cal.pass_prob.values())
    win *= (1.0 - _value(cal.handoff_drop_prob)) ** (len(STAGES) - 1)  # both relays
    win *= 1.0 - cal.went_cold / len(df)
    return win * int(matured.sum()), int((won & matured).sum()), int(matured.sum())


def calibration_problems(cal: Calibration, label: str) -> list[str]:
    """Why the calibrated scenario could not reproduce the export: one line each (none = fine)."""
    problems = []
    for role, load in cal.expected_utilisation.items():
        if load >= MAX_UTILISATION:
            problems.append(
                f"{label}: structures.{cal.structure}.{role}: the calibrated work would keep "
                f"them {load:.0%} busy: the team could not carry the export's volume (check "
                "which columns name the owners, or the effort per stage)"
            )
    implied, history_wins, leads = matured_wins(cal)
    # A small export's win count is noisy: beyond 3 Poisson standard deviations too.
    allowed = max(WINS_TOLERANCE * history_wins, 3.0 * math.sqrt(implied))
    if history_wins and abs(implied - history_wins) > allowed:
        problems.append(
            f"{label}: the calibrated pass probabilities imply {implied:,.0f} wins among the "
            f"{leads:,} leads old enough to have finished, the export has {history_wins:,} "
            f"(more than {WINS_TOLERANCE:.0%} apart, and more than chance allows): the "
            "stages' outcomes do not add up"
        )
    return problems


def calibration_lines(cal: Calibration) -> list[str]:
    """What calibration found, for the terminal: rates, team, and the checks it passed."""
    history = cal.history
    lines = [
        f"{history.label}: {len(history.leads):,} leads over {history.as_of_day:.0f} days",
        f"  arrivals per day {cal.arrivals_per_day.value:.3g} ({cal.arrivals_per_day.comment()})",
    ]
    lines += [
        f"  {stage} pass_prob {p.value:.3f} ({p.comment()})" for stage, p in cal.pass_prob.items()
    ]
    if not cal.pods:  # pods carry their own headcounts
        lines += [f"  {role} {capacity.seats(c)}: {c.note}" for role, c in cal.headcount.items()]
    lines += [
        f"  pod {pod['name']} {role} {capacity.seats(c)}: {c.note}"
        for pod in cal.pods
        for role, c in pod["headcount"].items()
    ]
    if cal.stale_open:
        lines.append(f"  {stale_sentence(cal)}")
    if cal.cycle_fit is not None:
        lines += [f"  {line}" for line in cal.cycle_fit.lines()]
    busy = ", ".join(f"{role} {load:.0%}" for role, load in cal.expected_utilisation.items())
    lines.append(f"  expected utilisation (the busiest pod for Pods): {busy}")
    implied, wins, leads = matured_wins(cal)
    if leads:
        lines.append(
            f"  wins among the {leads:,} leads old enough to have finished: {wins:,} in the "
            f"export, {implied:,.0f} implied by the calibrated rates"
        )
    return lines


def stale_sentence(cal: Calibration) -> str:
    """Which open deals counted as gone cold, and why."""
    return (
        f"{cal.stale_open:,} open deals idle for more than {cal.stale_after_days:.0f} days "
        f"({STALE_FACTOR:g} x the won deals' 95th-percentile cycle) count as gone cold, "
        "not as alive"
    )


def same_team_as(cal: Calibration, structure: str) -> tuple[dict[str, Estimate], list[dict]]:
    """The calibrated team's people organised as ``structure``: the same headcount, by their work.

    All-In gets everyone (stage owners and account managers) as generalists;
    the other structures keep the account managers (at least one; taken from
    the stage owners when the team had none) and share the rest among their
    roles by the roles' work (``capacity.role_headcount``); Pods get one pod
    per segment, each with at least one person per role and an account
    manager, people following each segment's share of the work.

    Returns:
        The headcount per role, and the pods (empty unless ``structure`` is Pods).
    """
    if structure == cal.structure:
        return cal.headcount, cal.pods
    total = _stage_people(cal) + _account_seats(cal)
    note = f"the calibrated team of {total} as {structure}, shared by the roles' work"
    if structure == "allin":
        return {"generalists": Estimate(float(total), math.nan, math.nan, 0, note)}, []
    if structure == "pods":
        return {}, _segment_pods(cal, total)
    keepers = max(1, _account_seats(cal))
    people = Estimate(float(total - keepers), math.nan, math.nan, 1, note)
    headcount = capacity.role_headcount(
        structure, [capacity.OwnerGroup(STAGES, people)], cal.work_per_day, 1.0
    )
    headcount["account_managers"] = Estimate(float(keepers), math.nan, math.nan, 0, note)
    return headcount, []


def _stage_people(cal: Calibration) -> int:
    if cal.pods:
        return sum(_pod_people(pod, with_accounts=False) for pod in cal.pods)
    return sum(capacity.seats(e) for r, e in cal.headcount.items() if r != "account_managers")


def _pod_people(pod: dict, with_accounts: bool) -> int:
    return sum(
        capacity.seats(e)
        for role, e in pod["headcount"].items()
        if with_accounts or role != "account_managers"
    )


def _account_seats(cal: Calibration) -> int:
    if cal.pods:
        return sum(capacity.seats(pod["headcount"]["account_managers"]) for pod in cal.pods)
    if "account_managers" in cal.headcount:
        return capacity.seats(cal.headcount["account_managers"])
    return 0


POD_ROLES = 4
"""People a pod needs at least: lead generation, a qualifier, a closer, an account manager."""


def pod_count(cal: Calibration) -> int:
    """Pods the calibrated team can staff: one per segment, at most one per four people."""
    return min(len(cal.segments), (_stage_people(cal) + _account_seats(cal)) // POD_ROLES)


def _segment_pods(cal: Calibration, total: int) -> list[dict]:
    """Pods of segments (``pod_count``), the team shared by each pod's share of the work.

    With fewer pods than segments, segments go to pods largest first, each to
    the pod with the least work so far.
    """
    df = cal.history.leads
    segment = df["segment"].where(df["segment"] != "", "all").astype(str)
    shares = segment.value_counts(normalize=True)
    owned: list[list[str]] = [[] for _ in range(max(1, pod_count(cal)))]
    load = [0.0] * len(owned)
    for name, share in shares.items():  # largest first: value_counts sorts so
        lightest = load.index(min(load))
        owned[lightest].append(str(name))
        load[lightest] += float(share)
    pod_share = {f"pod{k + 1}": load[k] for k in range(len(owned))}
    keepers = capacity.share_people(max(_account_seats(cal), len(owned)), pod_share)
    roles = capacity.ROLE_STAGES["pods"]
    work = {
        f"{pod}\x00{role}": share * sum(cal.work_per_day.get(s, 0.0) for s in stages)
        for pod, share in pod_share.items()
        for role, stages in roles.items()
    }
    seats = capacity.share_people(total - sum(keepers.values()), work)
    note = f"the calibrated team of {total} in {len(owned)} pods of segments, shared by the work"

    def seat(count: int) -> Estimate:
        return Estimate(float(count), math.nan, math.nan, 0, note)

    return [
        {
            "name": pod,
            "segments": sorted(segments),
            "headcount": {
                **{role: seat(seats[f"{pod}\x00{role}"]) for role in roles},
                "account_managers": seat(keepers[pod]),
            },
        }
        for pod, segments in zip(pod_share, owned, strict=True)
    ]
