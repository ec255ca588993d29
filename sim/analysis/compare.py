"""Structures side by side: paired differences, variance reduction, red flags.

A sales leader asks "is Pods better than the Conveyor, and by how much?". Two
noisy averages with overlapping error bars cannot answer it; the *paired*
difference can. Every structure in replication ``r`` met the same leads with
the same luck (common random numbers), so the difference ``pods_r -
conveyor_r`` has the market's luck cancelled out: a lucky year lifts both
structures alike. The mean of those per-replication differences, with a t
interval on them, is the answer, and it is usually far tighter than the
interval of either structure alone. It is the difference between weighing
two parcels on the same scale one after the other and weighing them on two
scales that each drift.

How much tighter is measured, not assumed: the comparison can be run a second
time with every structure on lead streams of its own (``simulate_independent``)
and the two interval widths compared per KPI. A ratio of 0.3 means common
random numbers gave the precision of about 11 times (1 / 0.3 squared) as many
independent replications.

The module also computes the red flags a sales leader watches (too few reps
at quota, a win rate below benchmark, a bottleneck role, an overloaded pod)
and the small tables the comparison plots draw. Everything here is pure
pandas on the tables a run wrote: no SimPy, no matplotlib.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.kpis import KPIS, KpiSpec, format_mean_ci, format_value, kpi_spec
from sim.analysis.people import counted_quota_rows, utilisation
from sim.analysis.stats import mean_ci
from sim.config.scenario import ROLES, STAGES, Scenario

HEADLINE_KPIS: tuple[str, ...] = (
    "wins_per_30_days",
    "conversion",
    *(f"conversion_{stage}" for stage in STAGES),
    "dropped_handoff_to_qualification",
    "dropped_handoff_to_closing",
    "accounts_dropped_in_handoff",
    "p50_days_to_close",
    "p90_days_to_close",
    *(f"utilisation_{role}" for role in ROLES),
    "share_reps_at_quota",
    "annual_turnover",
    "vacancy_share",
    "lost_rep_left",
    "revenue",
    "cost",
    "profit",
    "roi",
    "cost_per_won_deal",
    "new_hire_payback_days",
)
"""The headline KPIs in table order (utilisation rows only for roles present)."""

PEOPLE_KPIS: tuple[str, ...] = (
    "headcount",
    *(f"headcount_{role}" for role in ROLES),
    "managers",
    "hires",
    "leavers",
    "annual_turnover",
    "vacancy_share",
    "mean_ramp_factor",
    "weak_performer_share",
    "lost_rep_left",
    "share_reps_at_quota",
    *(f"share_at_quota_{role}" for role in ROLES),
    *(f"mean_attainment_{role}" for role in ROLES),
)
"""People KPIs in the order of the report's people table (rows only for KPIs present)."""

CUSTOMER_KPIS: tuple[str, ...] = (
    "market_share",
    "lost_to_competitor",
    "key_account_conversion",
    "mean_days_to_go_live",
    "p90_days_to_go_live",
    "late_go_live_share",
    "advocates_at_end",
    "advocate_share",
    "referral_leads",
    "referral_share",
    "referral_wins",
)
"""Customer-side KPIs in the order of the report's customers table (rows only if present)."""

COST_KPIS: tuple[str, ...] = (
    "salary_cost",
    "commission_cost",
    "bonus_cost",
    "manager_cost",
    "overhead_cost",
    "hiring_cost",
    "cost",
    "revenue",
    "gross_profit",
    "profit",
    "roi",
    "cost_per_won_deal",
    "revenue_per_rep",
    "new_hire_payback_days",
)
"""Money KPIs in the order of the report's cost table: each cost, then what it bought."""

HEADLINE_SPECS: dict[str, KpiSpec] = {kpi: KPIS[kpi] for kpi in HEADLINE_KPIS}
PEOPLE_SPECS: dict[str, KpiSpec] = {kpi: KPIS[kpi] for kpi in PEOPLE_KPIS}
CUSTOMER_SPECS: dict[str, KpiSpec] = {kpi: KPIS[kpi] for kpi in CUSTOMER_KPIS}
COST_SPECS: dict[str, KpiSpec] = {kpi: KPIS[kpi] for kpi in COST_KPIS}
"""Each table's KPIs with their registry entries (``sim.analysis.kpis``), in table order."""


def headline_kpis(kpis: pd.DataFrame) -> list[str]:
    """The headline KPIs this KPI table has, in headline order.

    Args:
        kpis: the per-run table of ``kpi_values.run_kpis``.

    Returns:
        KPI names; a role's utilisation only if some structure has the role.
    """
    return [k for k in HEADLINE_SPECS if k in kpis.columns and kpis[k].notna().any()]


def comparison_kpis(kpis: pd.DataFrame) -> list[str]:
    """Every numeric KPI of the table: headline ones first, then the rest in table order."""
    head = headline_kpis(kpis)
    rest = [
        c
        for c in kpis.columns
        if c not in ("structure", "replication")
        and c not in head
        and pd.api.types.is_numeric_dtype(kpis[c])
    ]
    return head + rest


def paired_differences(
    kpis: pd.DataFrame,
    reference: str,
    columns: list[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean difference of each structure from the reference, with a CI on the pairs.

    For every structure ``s`` other than the reference and every KPI, the
    per-replication differences ``kpi[s, r] - kpi[reference, r]`` are formed
    (replications matched by index) and their mean gets a two-sided t interval.
    Under common random numbers the pairs share their leads; with independent
    streams the same formula is still valid (the pairs are then simply
    independent), only wider.

    Args:
        kpis: one row per (structure, replication), KPIs as columns
            (``kpi_values.run_kpis``).
        reference: the structure everything is compared with.
        columns: KPIs to compare; default: every numeric KPI.
        confidence: the interval's coverage.

    Returns:
        One row per (structure, KPI) in structure order, then KPI order: columns
        structure, reference, kpi, difference, ci_low, ci_high, replications,
        significant (True when the interval excludes 0). Rows where the KPI is
        undefined for either structure have NaN and are not significant.

    Raises:
        ValueError: if the reference is not in the table.
    """
    names = _structure_order(kpis)
    if reference not in names:
        raise ValueError(f"reference {reference!r} is not among the structures {names}")
    columns = columns if columns is not None else comparison_kpis(kpis)
    by_structure = {
        name: group.set_index("replication")[columns].astype(float)
        for name, group in kpis.groupby("structure", observed=True, sort=False)
    }
    base = by_structure[str(reference)] if str(reference) in by_structure else None
    rows = []
    for name in names:
        if name == reference:
            continue
        diff = by_structure[name] - base
        for kpi in columns:
            values = diff[kpi].to_numpy()
            mean, low, high = mean_ci(values, confidence)
            rows.append(
                {
                    "structure": name,
                    "reference": reference,
                    "kpi": kpi,
                    "difference": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "replications": int(np.isfinite(values).sum()),
                    "significant": bool(low > 0 or high < 0),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "structure",
            "reference",
            "kpi",
            "difference",
            "ci_low",
            "ci_high",
            "replications",
            "significant",
        ],
    )


def ci_width_ratio(crn: pd.DataFrame, independent: pd.DataFrame) -> pd.DataFrame:
    """How much narrower the paired CIs are with common random numbers than without.

    Args:
        crn: ``paired_differences`` on the common-random-numbers run.
        independent: ``paired_differences`` on the run with independent streams.

    Returns:
        ``crn`` with columns independent_ci_low, independent_ci_high and
        ci_width_ratio (CRN width / independent width; below 1 means CRN
        helped; NaN where a width is undefined or the independent width is 0).
    """
    other = independent.set_index(["structure", "kpi"])[["ci_low", "ci_high"]]
    other = other.rename(columns=lambda c: f"independent_{c}")
    merged = crn.join(other, on=["structure", "kpi"])
    crn_width = merged["ci_high"] - merged["ci_low"]
    independent_width = merged["independent_ci_high"] - merged["independent_ci_low"]
    ratio = crn_width / independent_width.where(independent_width > 0)
    merged["ci_width_ratio"] = ratio
    return merged


def comparison_table(
    summary: pd.DataFrame, differences: pd.DataFrame, kpis: list[str]
) -> pd.DataFrame:
    """The table written as ``compare.csv``: every KPI per structure, with its difference.

    Args:
        summary: ``kpi_values.summarise`` (structure, kpi, mean, ci_low, ci_high, replications).
        differences: ``paired_differences``, optionally with the columns of
            ``ci_width_ratio``.
        kpis: the KPIs to include, in row order.

    Returns:
        One row per (KPI, structure): label and unit, the mean with its 95 % CI,
        and for structures other than the reference the paired difference with
        its CI, whether it is significant and, when measured, the CI width with
        independent streams and the ratio of widths.
    """
    order = _structure_order(summary)
    reference = differences["reference"].iloc[0] if len(differences) else (order or [""])[0]
    means = summary.set_index(["structure", "kpi"])
    diffs = differences.set_index(["structure", "kpi"])
    rows = []
    for kpi in kpis:
        spec = kpi_spec(kpi)
        for structure in order:
            row = {
                "kpi": kpi,
                "label": spec.label,
                "unit": spec.unit,
                "structure": structure,
                "reference": reference,
            }
            if (structure, kpi) in means.index:
                found = means.loc[(structure, kpi)]
                row.update(
                    mean=found["mean"],
                    ci_low=found["ci_low"],
                    ci_high=found["ci_high"],
                    replications=int(found["replications"]),
                )
            if (structure, kpi) in diffs.index:
                found = diffs.loc[(structure, kpi)]
                row.update(
                    difference=found["difference"],
                    difference_ci_low=found["ci_low"],
                    difference_ci_high=found["ci_high"],
                    significant=bool(found["significant"]),
                )
                for column in ("independent_ci_low", "independent_ci_high", "ci_width_ratio"):
                    if column in found.index:
                        row[column] = found[column]
            rows.append(row)
    columns = [
        "kpi",
        "label",
        "unit",
        "structure",
        "reference",
        "mean",
        "ci_low",
        "ci_high",
        "replications",
        "difference",
        "difference_ci_low",
        "difference_ci_high",
        "significant",
    ]
    if "ci_width_ratio" in differences.columns:
        columns += ["independent_ci_low", "independent_ci_high", "ci_width_ratio"]
    table = pd.DataFrame(rows)
    for column in columns:
        if column not in table:
            table[column] = math.nan
    table = table[columns]
    # A nullable boolean: empty for the reference, True/False for the others.
    table["significant"] = table["significant"].astype("boolean")
    table["replications"] = table["replications"].astype("Int64")
    return table


def headline_table(summary: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """KPI x structure table of ``mean ± 95 % CI half-width`` strings, labelled rows.

    Args:
        summary: ``kpi_values.summarise``.
        kpis: the rows, in order (``headline_kpis``).

    Returns:
        Index: KPI labels with their units (``KpiSpec.title``); columns:
        structures in report order.
    """
    order = _structure_order(summary)
    means = summary.set_index(["structure", "kpi"])
    data = {}
    for structure in order:
        column = []
        for kpi in kpis:
            if (structure, kpi) in means.index:
                row = means.loc[(structure, kpi)]
                column.append(format_mean_ci(kpi, row["mean"], row["ci_low"], row["ci_high"]))
            else:
                column.append("-")
        data[structure] = column
    table = pd.DataFrame(data, index=[kpi_spec(k).title for k in kpis])
    table.index.name = "KPI (mean ± 95 % CI)"
    return table


def describe_differences(differences: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """The significant paired differences, in words.

    Args:
        differences: ``paired_differences``.
        kpis: which KPIs to describe (the headline ones), in order.

    Returns:
        One row per (structure, KPI) whose 95 % CI excludes 0, structures in
        order, then KPIs in order: columns structure, reference, kpi, verdict
        (``better``, ``worse`` or empty where neither direction is better) and
        text, e.g. ``"throughput +2.51 wins per 30 days (95 % CI +1.90 to
        +3.12): better"``. Empty when nothing is significant.
    """
    chosen = differences[differences["kpi"].isin(kpis) & differences["significant"]]
    rows = []
    for structure, group in chosen.groupby("structure", sort=False):
        group = group.set_index("kpi").reindex([k for k in kpis if k in set(group["kpi"])])
        for kpi, row in group.iterrows():
            spec = kpi_spec(kpi)
            verdict = {1: "better", -1: "worse"}.get(
                int(np.sign(row["difference"]) * spec.better), ""
            )
            # A difference of fractions prints its own "pp"; money's unit is not a word.
            unit = {"percent": "", "points": "", "money": " (currency)"}.get(
                spec.format, f" {spec.difference_unit}"
            )
            text = (
                f"{spec.label} {format_value(kpi, row['difference'], True)}{unit} "
                f"(95 % CI {format_value(kpi, row['ci_low'], True)} to "
                f"{format_value(kpi, row['ci_high'], True)})" + (f": {verdict}" if verdict else "")
            )
            rows.append(
                {
                    "structure": structure,
                    "reference": row["reference"],
                    "kpi": kpi,
                    "verdict": verdict,
                    "text": text,
                }
            )
    return pd.DataFrame(rows, columns=["structure", "reference", "kpi", "verdict", "text"])


def quota_attainment(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Attainment of every rep-period that counts towards the share at quota.

    Args:
        reps: the rep table of a run (``reps.parquet``, one row per person per period).
        scenario: the scenario (warm-up, quotas).

    Returns:
        Columns structure, replication, rep_id, person_id, role, pod, period,
        attainment (1.0 = exactly at quota); see ``people.counted_quota_rows``.
    """
    columns = ["structure", "replication", "rep_id", "person_id", "role", "pod", "period"]
    counted = counted_quota_rows(reps, scenario)
    return counted[columns + ["attainment"]].reset_index(drop=True)


SALES_ROLES: tuple[str, ...] = ("generalist", "lead_gen", "qualifier", "closer")
"""Roles that work the lead stream (all but account care)."""


def pod_utilisation(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Utilisation per pod (its sales reps together, and per role), mean and 95 % CI.

    A pod's *load* is the utilisation of its sales reps (lead gen, qualifiers,
    closers) together: they work the territory's lead flow. Account managers
    are shown per role but left out of the load, because their work grows
    with the accounts already won, not with the territory.

    Args:
        reps: the rep table of a run; reps outside pods have an empty ``pod``.
        scenario: the scenario (warm-up and horizon define the window).

    Returns:
        Columns structure, pod, role (``"sales"`` for the pod's load),
        headcount, utilisation, ci_low, ci_high; empty when no structure has pods.
    """
    in_pods = reps[reps["pod"].astype(str) != ""]
    columns = ["structure", "pod", "role", "headcount", "utilisation", "ci_low", "ci_high"]
    if in_pods.empty:
        return pd.DataFrame(columns=columns)
    whole = in_pods[in_pods["role"].isin(SALES_ROLES)].assign(role="sales")
    rows = []
    for frame in (whole, in_pods):
        keys = ["structure", "pod", "role"]
        runs = frame.groupby(keys + ["replication"], observed=True, sort=False)
        per_run = pd.DataFrame(
            {
                "utilisation": runs.apply(utilisation, include_groups=False),
                "seats": runs["rep_id"].nunique(),
            }
        ).reset_index()
        for (structure, pod, role), group in per_run.groupby(keys, observed=True, sort=False):
            mean, low, high = mean_ci(group["utilisation"])
            rows.append(
                {
                    "structure": structure,
                    "pod": pod,
                    "role": role,
                    "headcount": int(group["seats"].iloc[0]),
                    "utilisation": mean,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows, columns=columns)


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
    for structure in _structure_order(summary):
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
    kpi = "share_reps_at_quota"
    share, low, high = _flag_stat(means, structure, kpi)
    if not (math.isfinite(share) and share < bench.min_share_at_quota):
        return []
    message = (
        f"{name}: only {format_value(kpi, share)} of rep-periods reach quota "
        f"({_flag_ci_text(kpi, low, high)}); "
        f"the red line is {100 * bench.min_share_at_quota:.0f} %"
    )
    return [_flag(structure, "quota", "", share, bench.min_share_at_quota, message)]


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


MONEY_COMPONENTS: tuple[tuple[str, str | None], ...] = (
    ("revenue", "revenue"),
    ("cost of goods", None),
    ("rep salaries", "salary_cost"),
    ("commission", "commission_cost"),
    ("rep bonuses", "bonus_cost"),
    ("managers", "manager_cost"),
    ("overhead", "overhead_cost"),
    ("hiring", "hiring_cost"),
    ("profit", "profit"),
)
"""Money components (label, KPI) in the order the breakdown shows them."""


def money_breakdown(summary: pd.DataFrame) -> pd.DataFrame:
    """Where the money goes, per structure: revenue, its costs, and the profit left.

    Args:
        summary: ``kpi_values.summarise``.

    Returns:
        Columns structure, component, mean, ci_low, ci_high, one row per
        component of ``MONEY_COMPONENTS`` in its order. Cost of goods is
        revenue minus gross profit.
    """
    means = summary.set_index(["structure", "kpi"])
    rows = []
    for structure in _structure_order(summary):
        for component, kpi in MONEY_COMPONENTS:
            if kpi is None:
                revenue = means.loc[(structure, "revenue")]
                gross = means.loc[(structure, "gross_profit")]
                # The margin is fixed, so the CI scales with revenue's.
                share = 1.0 - gross["mean"] / revenue["mean"] if revenue["mean"] else math.nan
                values = (
                    revenue["mean"] - gross["mean"],
                    revenue["ci_low"] * share,
                    revenue["ci_high"] * share,
                )
            elif (structure, kpi) in means.index:
                row = means.loc[(structure, kpi)]
                values = (row["mean"], row["ci_low"], row["ci_high"])
            else:
                values = (math.nan, math.nan, math.nan)
            rows.append(
                {
                    "structure": structure,
                    "component": component,
                    "mean": values[0],
                    "ci_low": values[1],
                    "ci_high": values[2],
                }
            )
    return pd.DataFrame(rows)


def forest_table(differences: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """Paired differences ready for the forest plot: display units and panels.

    Rates become percentage points and money thousands, so each panel of the
    plot has one unit; KPIs whose difference is undefined are left out.

    Args:
        differences: ``paired_differences`` (optionally with ``ci_width_ratio``
            columns, whose independent bounds are scaled too).
        kpis: KPIs to show, top to bottom.

    Returns:
        Columns structure, reference, kpi, label, panel (the unit), better,
        difference, ci_low, ci_high, significant, and independent_ci_low /
        independent_ci_high when present.
    """
    panels = {"percent": "percentage points", "points": "percentage points"}
    panels["money"] = "thousands of currency"
    scale = {"percent": 100.0, "points": 100.0, "money": 1e-3}
    chosen = differences[differences["kpi"].isin(kpis)].copy()
    chosen = chosen[np.isfinite(chosen["difference"].to_numpy(dtype=float))]
    order = {kpi: index for index, kpi in enumerate(kpis)}
    chosen["order"] = chosen["kpi"].map(order)
    specs = chosen["kpi"].map(kpi_spec)
    chosen["label"] = [s.label for s in specs]
    chosen["panel"] = [panels.get(s.format, s.difference_unit) for s in specs]
    chosen["better"] = [s.better for s in specs]
    factor = np.array([scale.get(s.format, 1.0) for s in specs])
    value_columns = ["difference", "ci_low", "ci_high"]
    value_columns += [c for c in ("independent_ci_low", "independent_ci_high") if c in chosen]
    for column in value_columns:
        chosen[column] = chosen[column].to_numpy(dtype=float) * factor
    chosen = chosen.sort_values(["order"], kind="stable").drop(columns="order")
    keep = ["structure", "reference", "kpi", "label", "panel", "better", *value_columns]
    return chosen[keep + ["significant"]].reset_index(drop=True)


def _structure_order(table: pd.DataFrame) -> list[str]:
    """Structures in report order: the categories if categorical, else first appearance."""
    column = table["structure"]
    present = list(dict.fromkeys(column.astype(str)))
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(c) for c in column.cat.categories if str(c) in present]
    return present
