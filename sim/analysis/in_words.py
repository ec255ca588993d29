"""The comparison in words: the headline table as text, significant differences as sentences.

A sales leader forwards a sentence, not a confidence interval: "Pods wins
2.5 more deals per 30 days than the Conveyor (95 % CI +1.9 to +3.1):
better". ``describe_differences`` writes one such sentence per significant
paired difference of a headline KPI, saying whether it is better or worse;
``headline_table`` prints each structure's headline KPIs as
``mean ± 95 % CI half-width`` strings, labelled with their units, for the
terminal and the report. Numbers are printed as the KPI registry
(``sim.analysis.kpis``) says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.compare import structure_order
from sim.analysis.kpis import format_mean_ci, format_value, kpi_spec


def headline_table(summary: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """KPI x structure table of ``mean ± 95 % CI half-width`` strings, labelled rows.

    Args:
        summary: ``kpi_values.summarise``.
        kpis: the rows, in order (``headline_kpis``).

    Returns:
        Index: KPI labels with their units (``KpiSpec.title``); columns:
        structures in report order.
    """
    order = structure_order(summary)
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
        One row per (structure, KPI) that is significant (``paired_differences``:
        Benjamini-Hochberg), structures in
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
