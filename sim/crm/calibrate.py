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

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config.scenario import STAGES, STRUCTURES, ScenarioError
from sim.crm import capacity
from sim.crm.arrivals import (
    arrival_rate,
    busiest_month,
    growth_per_year,
    monthly_factors,
    seasonality,
)
from sim.crm.estimates import Z95, Estimate, cv, exponential_mean, mean_time, wilson
from sim.crm.read import CrmHistory, closed_cycles, gone_stale, stale_as_lost
from sim.crm.team import calibrated_team

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
    loss_split: float = 1.0  # where the win rate's losses fall without stage dates (loss_weights)
    time_split: float = 1.0  # how the won cycle is shared over the stages then (split_cycle)
    owner_groups: list[capacity.OwnerGroup] = field(default_factory=list)
    work_per_day: dict[str, float] = field(default_factory=dict)
    stale_open: int = 0
    stale_after_days: float = math.nan
    utilisation_assumed: float = capacity.DEFAULT_UTILISATION
    busiest_month: float = 1.0  # its arrival rate over the mean: the month the team is sized for
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
    stale, stale_after = gone_stale(df, horizon)
    # A stale deal was lost where it stood: its outcome counts, its age is no time in work.
    outcomes = stale_as_lost(df, stale, stale_after, "assigned" in measured)
    stages = _stage_estimates(df[~stale], outcomes, measured, horizon, cold_after_days)
    stages["went_cold"] += int((outcomes["lost_reason"][stale] == "went_cold").sum())
    if "funnel" not in measured:
        _without_funnel(
            outcomes, stages["pass_prob"], stages["effort_days"], stages["lag_days"],
            effort_measured(measured),
        )  # fmt: skip
    delay, drop = _handoff(df, measured)
    arrival_days = df["arrival_day"].to_numpy()
    months = monthly_factors(arrival_days, horizon)
    season = seasonality(arrival_days, horizon)
    peak = busiest_month(months, season, horizon)
    team = calibrated_team(
        df, structure, stages, horizon, utilisation, effort_measured(measured), peak
    )
    return Calibration(
        structure=structure,
        history=history,
        horizon_days=math.ceil(horizon),
        arrivals_per_day=arrival_rate(len(df), horizon),
        seasonality=season,
        monthly_factors=months,
        growth_per_year=growth_per_year(arrival_days, horizon),
        **deals,
        tier_effort=_tier_effort(df, tier, deals["tiers"]) if effort_measured(measured) else {},
        **stages,
        effort_measured=effort_measured(measured),
        handoff_delay_days=delay,
        handoff_drop_prob=drop,
        headcount=team.headcount,
        pods=team.pods,
        utilisation_assumed=utilisation,
        busiest_month=peak,
        expected_utilisation=team.load,
        owner_groups=team.groups,
        work_per_day=team.work_per_day,
        stale_open=int(stale.sum()),
        stale_after_days=stale_after,
    )


def with_loss_split(cal: Calibration, split: float, time_split: float = 1.0) -> Calibration:
    """The calibration of an export without stage dates, re-split.

    Its losses are shared over the stages by ``split`` (``split_win_rate``)
    and the won deals' cycle by ``time_split`` (``split_cycle``); the leads
    reaching each stage change, hence the effort from throughput and the team
    (``calibrated_team``). At 1.0 and 1.0 it is ``calibrate``'s.
    """
    df = cal.history.leads
    stale, stale_after = gone_stale(df, cal.history.as_of_day)
    outcomes = stale_as_lost(df, stale, stale_after, "assigned" in cal.history.measured)
    stages = {
        "pass_prob": dict(cal.pass_prob),
        "effort_days": dict(cal.effort_days),
        "lag_days": dict(cal.lag_days),
    }
    _without_funnel(
        outcomes, stages["pass_prob"], stages["effort_days"], stages["lag_days"],
        cal.effort_measured, (split, time_split),
    )  # fmt: skip
    team = calibrated_team(
        df, cal.structure, stages, cal.history.as_of_day, cal.utilisation_assumed,
        cal.effort_measured, cal.busiest_month,
    )  # fmt: skip
    return dataclasses.replace(
        cal,
        pass_prob=stages["pass_prob"],
        effort_days=stages["effort_days"],
        lag_days=stages["lag_days"],
        headcount=team.headcount,
        pods=team.pods,
        expected_utilisation=team.load,
        owner_groups=team.groups,
        work_per_day=team.work_per_day,
        loss_split=split,
        time_split=time_split,
    )


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
    df: pd.DataFrame,
    outcomes: pd.DataFrame,
    measured: frozenset[str],
    as_of: float,
    cold_after_days: float,
) -> dict[str, Any]:
    """Per stage pass probability, waiting, effort and lag; leads gone cold and patience.

    Times come from ``df`` (the leads alive or closed), pass probabilities from
    ``outcomes`` (the same with the stale deals as lost, ``stale_as_lost``).

    Returns:
        The Calibration fields ``pass_prob``, ``waiting_days``, ``effort_days``,
        ``effort_cv``, ``lag_days``, ``lag_cv``, ``went_cold``, ``open_inactive``
        and ``patience_days``.
    """
    pass_prob, waiting, effort, effort_shape, lag, lag_shape = {}, {}, {}, {}, {}, {}
    queue_exposure: list[np.ndarray] = []
    cold = open_inactive = 0
    for stage in STAGES:
        pass_prob[stage] = _pass_prob(outcomes, stage)
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


def loss_weights(split: float) -> list[float]:
    """Each stage's share of the win rate's log: ``split ** k`` normalised (1.0: even thirds).

    A stage passing with ``rate ** w`` fails more often the larger its ``w``;
    a split below 1 puts the losses early (most lost deals fail in
    prospecting), above 1 late.
    """
    raw = [split**k for k in range(len(STAGES))]
    return [w / sum(raw) for w in raw]


def split_win_rate(outcomes: pd.DataFrame, split: float = 1.0) -> dict[str, Estimate]:
    """Pass probability per stage from the win rate alone, shared by ``loss_weights``.

    An export without stage dates says how many deals were won, not where the
    others were lost; ``split`` says it (1.0 spreads evenly, each stage
    passing with the cube root; ``sim.crm.cycle_fit`` fits it to the lost
    deals' cycle). The product of the stages' pass probabilities is the win
    rate whatever the split.
    """
    outcome = outcomes["outcome"].astype(str)
    won, decided = int((outcome == "won").sum()), int(outcome.isin(["won", "lost"]).sum())
    rate = wilson(won, decided)
    if not rate.n:
        return {}
    how = (
        f"spread evenly over {len(STAGES)} stages"
        if split == 1.0
        else f"shared over the stages as {'/'.join(f'{w:.2f}' for w in loss_weights(split))} "
        f"of its log (split {split:.3g}, fitted to the lost deals' cycle)"
    )
    note = f"not measured (no stage dates): the win rate {rate.value:.3g} ({rate.comment()}) {how}"
    return {
        stage: Estimate(rate.value**w, rate.low**w, rate.high**w, rate.n, note)
        for stage, w in zip(STAGES, loss_weights(split), strict=True)
    }


def _without_funnel(
    df: pd.DataFrame,
    pass_prob: dict,
    effort: dict,
    lag: dict,
    effort_known: bool,
    splits: tuple[float, float] = (1.0, 1.0),
) -> None:
    """Stage estimates from outcomes alone, for an export without stage dates.

    The win rate (won / decided) is spread evenly over the stages
    (``split_win_rate``) and the won deals' cycle time evenly over their time
    in work (``split_cycle``), 20 % of it effort, unless ``splits`` (of the
    losses, of the time) say otherwise; each estimate says it is an
    assumption. A stage whose effort and lag the export measured (``worked``
    timestamps on a stage it dates) keeps them.
    """
    pass_prob.update(split_win_rate(df, splits[0]))
    for stage, (stage_effort, stage_lag) in split_cycle(df, splits[1]).items():
        if not (effort_known and effort[stage].n):
            effort[stage], lag[stage] = stage_effort, stage_lag


def split_cycle(outcomes: pd.DataFrame, split: float = 1.0) -> dict[str, tuple[Estimate, Estimate]]:
    """Effort and lag per stage from the won deals' mean cycle, shared by ``loss_weights(split)``.

    1.0 gives each stage a third; below 1 the early stages are shorter
    (``sim.crm.cycle_fit`` fits it to the lost deals' cycle). Empty without wins.
    """
    cycle = closed_cycles(outcomes).to_numpy()
    if not len(cycle):
        return {}
    mean, share = float(np.mean(cycle)), EFFORT_SHARE_ASSUMED
    raw = [split**k for k in range(len(STAGES))]
    how = "a third" if split == 1.0 else f"a share (split {split:.3g}, fitted)"
    timing = (
        f"not measured (no stage dates): {share:.0%} of {how} of the won deals' mean "
        f"cycle time {mean:.3g} days"
    )
    out = {}
    for stage, weight in zip(STAGES, raw, strict=True):
        in_work = mean * weight / sum(raw)
        out[stage] = (
            Estimate(in_work * share, math.nan, math.nan, len(cycle), timing),
            Estimate(in_work * (1 - share), math.nan, math.nan, len(cycle), "the rest"),
        )
    return out


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
