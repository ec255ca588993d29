"""Structures side by side: paired differences and how much common random numbers narrow them.

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

Here: the paired differences (``paired_differences``), how much common
random numbers narrowed them (``ci_width_ratio``), and the tables built on
them: ``compare.csv`` (``comparison_table``) and the forest plot's
(``forest_table``). Which KPIs the report shows is ``sim.analysis.report_kpis``;
the red flags, ``sim.analysis.red_flags``; the differences in words,
``sim.analysis.in_words``. Pure pandas on the tables a run wrote: no SimPy,
no matplotlib.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.kpis import kpi_spec
from sim.analysis.report_kpis import comparison_kpis
from sim.analysis.stats import (
    PairedTest,
    benjamini_hochberg,
    paired_test,
    replications_needed,
)

DIFFERENCE_COLUMNS: tuple[str, ...] = (
    "structure",
    "reference",
    "kpi",
    "difference",
    "ci_low",
    "ci_high",
    "replications",
    "p_value",
    "significant",
    "replications_to_separate",
)
"""The columns of ``paired_differences``."""


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

    With many KPIs and structures, some intervals exclude 0 by luck (about
    one in twenty of the differences that are really 0). So ``significant``
    is decided by Benjamini and Hochberg's procedure over every row of the
    table: of the differences called significant, at most 5 % are expected
    to be luck. A significant difference's 95 % CI always excludes 0; the
    reverse need not hold.

    Returns:
        One row per (structure, KPI) in structure order, then KPI order: columns
        structure, reference, kpi, difference, ci_low, ci_high, replications,
        p_value (paired t test), significant (Benjamini-Hochberg at a false
        discovery rate of 1 - ``confidence``), replications_to_separate (for
        a difference not significant: the replications after which one this
        large would have a 95 % CI excluding 0; NaN beyond 100,000). Rows
        where the KPI is undefined for either structure have NaN and are not
        significant.

    Raises:
        ValueError: if the reference is not in the table.
    """
    names = structure_order(kpis)
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
            test = paired_test(diff[kpi].to_numpy(), confidence)
            rows.append({"structure": name, "reference": reference, "kpi": kpi, **test._asdict()})
    table = pd.DataFrame(rows, columns=["structure", "reference", "kpi", *PairedTest._fields])
    table["significant"] = benjamini_hochberg(table["p_value"], 1 - confidence)
    table["replications_to_separate"] = replications_needed(
        table["difference"], table["sd"], table["significant"], 1 - confidence
    )
    return table[list(DIFFERENCE_COLUMNS)]


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
        its CI, its p-value, whether it is significant (Benjamini-Hochberg),
        the replications that would make it significant if it is not and,
        when measured, the CI width with independent streams and the ratio
        of widths.
    """
    order = structure_order(summary)
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
                    p_value=found["p_value"],
                    significant=bool(found["significant"]),
                    replications_to_separate=found["replications_to_separate"],
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
        "p_value",
        "significant",
        "replications_to_separate",
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


def structure_order(table: pd.DataFrame) -> list[str]:
    """Structures in report order: the categories if categorical, else first appearance."""
    column = table["structure"]
    present = list(dict.fromkeys(column.astype(str)))
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(c) for c in column.cat.categories if str(c) in present]
    return present
