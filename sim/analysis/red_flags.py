"""The red flags: the warning signs from the sales literature that trip in a comparison.

A sales leader reading a dashboard looks first for what is wrong, the way a
pilot scans for warning lights before reading the gauges. ``red_flags``
checks each structure's means against ``scenario.benchmarks``: too few
rep-periods at quota, a falling market share, seats turning over too fast,
an opportunity win rate below benchmark, a role so busy it is the bottleneck,
and a pod far busier than the others of its structure (its territory is too
big for its team). Each flag that trips is one row with a message in words
that quotes the 95 % confidence interval. Pure pandas on the KPI summary and
the pods' utilisation.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.analysis.compare import structure_order
from sim.analysis.kpis import format_value
from sim.config.scenario import ROLES, Scenario


def red_flags(
    summary: pd.DataFrame,
    pods: pd.DataFrame,
    scenario: Scenario,
    labels: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The warning signs from the sales literature that trip in this comparison.

    Four checks, each against ``scenario.benchmarks`` and on the mean across
    replications (the CI is quoted in the message):

    * fewer rep-periods at quota than ``min_share_at_quota`` (two thirds);
    * an opportunity win rate (conversion at closing) below ``win_rate``;
    * a role busier than ``max_utilisation``: the bottleneck;
    * a pod whose utilisation is more than ``max_pod_load_ratio`` times the
      mean of the other pods': its territory is too big for it.

    Args:
        summary: ``kpi_values.summarise``.
        pods: ``pod_utilisation``.
        scenario: the scenario with its benchmarks.
        labels: structure name -> display name.

    Returns:
        One row per tripped flag: structure, flag (``quota``, ``market_share``,
        ``turnover``, ``win_rate``, ``bottleneck``, ``pod_load``), subject (a role or
        pod, else empty),
        value, threshold, message. Empty when nothing trips.
    """
    labels = labels or {}
    bench = scenario.benchmarks
    means = summary.set_index(["structure", "kpi"])
    rows = []
    for structure in structure_order(summary):
        name = labels.get(structure, structure)
        for check in (_quota_flag, _market_share_flag, _turnover_flag, _win_rate_flag):
            rows += check(means, structure, name, bench)
        rows += _bottleneck_flags(means, structure, name, bench)
    rows += _pod_load_flags(pods, bench, labels)
    return pd.DataFrame(rows, columns=list(_FLAG_COLUMNS))


_FLAG_COLUMNS = ("structure", "flag", "subject", "value", "threshold", "message")
"""The columns of ``red_flags``."""


def _flag_stat(means: pd.DataFrame, structure: str, kpi: str) -> tuple[float, float, float]:
    """A KPI's mean, CI low and CI high in ``means`` (NaN when missing)."""
    if (structure, kpi) not in means.index:
        return (math.nan, math.nan, math.nan)
    row = means.loc[(structure, kpi)]
    return (float(row["mean"]), float(row["ci_low"]), float(row["ci_high"]))


def _flag_ci_text(kpi: str, low: float, high: float) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "one replication: no CI"
    return f"95 % CI {format_value(kpi, low)} to {format_value(kpi, high)}"


def _flag(*values: object) -> dict:
    """One row of ``red_flags``: the values of ``_FLAG_COLUMNS`` in order."""
    return dict(zip(_FLAG_COLUMNS, values, strict=True))


def _quota_flag(means: pd.DataFrame, structure: str, name: str, bench) -> list[dict]:
    """Per role that carries a quota: fewer of its rep-periods at quota than the red line.

    The literature's rule of thumb (two thirds of reps at quota) is about the
    reps of one quota plan; mixing roles would let well-paid closers hide an
    impossible lead-generation quota, or the reverse.
    """
    flags = []
    for role in ROLES:
        kpi = f"share_at_quota_{role}"
        share, low, high = _flag_stat(means, structure, kpi)
        if not (math.isfinite(share) and share < bench.min_share_at_quota):
            continue
        words = role.replace("_", " ")  # as the registry's labels name roles
        message = (
            f"{name}: only {format_value(kpi, share)} of {words} rep-periods reach quota "
            f"({_flag_ci_text(kpi, low, high)}); the red line is "
            f"{100 * bench.min_share_at_quota:.0f} % of a role's reps: the {words} quota, or the "
            "team around it, needs a look"
        )
        flags.append(_flag(structure, "quota", role, share, bench.min_share_at_quota, message))
    return flags


def _market_share_flag(means: pd.DataFrame, structure: str, name: str, bench) -> list[dict]:
    trend, low, high = _flag_stat(means, structure, "market_share_trend_per_year")
    if not (math.isfinite(high) and high < 0):
        return []
    message = (
        f"{name}: market share is falling, by {100 * -trend:.1f} points a year "
        f"(95 % CI {100 * -high:.1f} to {100 * -low:.1f}): "
        "competitors decide before the team closes"
    )
    return [_flag(structure, "market_share", "", trend, 0.0, message)]


def _turnover_flag(means: pd.DataFrame, structure: str, name: str, bench) -> list[dict]:
    kpi = "annual_turnover"
    turnover, low, high = _flag_stat(means, structure, kpi)
    if not (math.isfinite(turnover) and turnover > bench.max_annual_turnover):
        return []
    message = (
        f"{name}: {format_value(kpi, turnover)} of seats turn over per year "
        f"({_flag_ci_text(kpi, low, high)}); "
        f"the red line is {100 * bench.max_annual_turnover:.0f} %"
    )
    return [_flag(structure, "turnover", "", turnover, bench.max_annual_turnover, message)]


def _win_rate_flag(means: pd.DataFrame, structure: str, name: str, bench) -> list[dict]:
    if bench.win_rate is None:
        return []
    kpi = "conversion_closing"
    rate, low, high = _flag_stat(means, structure, kpi)
    if not (math.isfinite(rate) and rate < bench.win_rate):
        return []
    message = (
        f"{name}: opportunity win rate {format_value(kpi, rate)} "
        f"({_flag_ci_text(kpi, low, high)}) "
        f"is below the benchmark of {100 * bench.win_rate:.0f} %"
    )
    return [_flag(structure, "win_rate", "closing", rate, bench.win_rate, message)]


def _bottleneck_flags(means: pd.DataFrame, structure: str, name: str, bench) -> list[dict]:
    rows = []
    for role in ROLES:
        kpi = f"utilisation_{role}"
        busy, low, high = _flag_stat(means, structure, kpi)
        if not (math.isfinite(busy) and busy > bench.max_utilisation):
            continue
        message = (
            f"{name}: {role.replace('_', ' ')}s are busy {format_value(kpi, busy)} "
            f"of the time ({_flag_ci_text(kpi, low, high)}), "
            f"above {100 * bench.max_utilisation:.0f} %: the bottleneck, where queues grow"
        )
        rows.append(_flag(structure, "bottleneck", role, busy, bench.max_utilisation, message))
    return rows


def _pod_load_flags(pods: pd.DataFrame, bench, labels: dict[str, str]) -> list[dict]:
    """A pod far busier than the others of its structure (sales reps' utilisation)."""
    rows = []
    whole = pods[pods["role"] == "sales"] if len(pods) else pods
    for structure, group in whole.groupby("structure", observed=True, sort=False):
        if len(group) < 2:
            continue
        name = labels.get(structure, structure)
        loads = group.set_index("pod")["utilisation"]
        for pod, load in loads.items():
            others = loads.drop(pod).mean()
            if not (math.isfinite(load) and others > 0):
                continue
            ratio = load / others
            if not ratio > bench.max_pod_load_ratio:
                continue
            message = (
                f"{name}: pod {pod!r}'s sales reps are busy {100 * load:.0f} % of the time, "
                f"{ratio:.2f}x the other pods' {100 * others:.0f} % "
                f"(red line {bench.max_pod_load_ratio:g}x): its territory is too big for its team"
            )
            rows.append(_flag(structure, "pod_load", pod, ratio, bench.max_pod_load_ratio, message))
    return rows
