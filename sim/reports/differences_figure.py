"""The comparison report's forest plot: each structure's paired difference from the reference.

Two teams compared on the same leads, replication by replication, differ only
by their structure, not by luck: like two sales reps working the same
territory in the same quarter. ``plot_paired_differences`` draws those
paired differences (from ``sim.analysis.compare.forest_table``) per KPI, each
with its 95 % confidence interval, and marks the ones whose interval excludes
zero, so a reader sees at a glance which differences are real.

It returns a ``matplotlib.figure.Figure`` and writes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.reports.style import (
    bottom_legend,
    no_data,
    structure_colour,
    structure_label,
    structures_in_order,
)


def plot_paired_differences(forest: pd.DataFrame, reference: str) -> Figure:
    """Forest plot: each structure's difference from the reference, per KPI, with CIs.

    One panel per unit (wins per 30 days, percentage points, leads, days,
    thousands of currency), one row per KPI, one marker per structure in its
    colour; the thick line is the 95 % CI of the paired (common random
    numbers) difference. A filled marker means the difference is significant
    (Benjamini-Hochberg over every KPI and structure), a hollow one that it
    is not. When the comparison was also run with independent lead streams,
    that wider CI is drawn as a thin grey line behind, to show what common
    random numbers bought.

    Args:
        forest: ``compare.forest_table``: columns structure, kpi, label, panel,
            better (+1/-1/0), difference, ci_low, ci_high, significant, and
            optionally independent_ci_low, independent_ci_high.
        reference: the reference structure's name.

    Returns:
        The figure.
    """
    panels = list(dict.fromkeys(forest["panel"]))
    structures = structures_in_order(forest["structure"])
    independent = "independent_ci_low" in forest
    counts = [max(1, forest.loc[forest["panel"] == p, "kpi"].nunique()) for p in panels]
    height = 1.6 + 0.42 * sum(counts) + 0.55 * len(panels)
    fig = Figure(figsize=(9.5, height), layout="constrained")
    axes = fig.subplots(max(1, len(panels)), 1, height_ratios=[c + 1.2 for c in counts] or None)
    axes = list(np.atleast_1d(axes))
    if not panels:
        no_data(axes[0])
    offsets = (np.arange(len(structures)) - (len(structures) - 1) / 2) * (
        0.6 / max(1, len(structures))
    )
    for ax, panel in zip(axes, panels, strict=False):
        table = forest[forest["panel"] == panel]
        kpis = list(dict.fromkeys(table["kpi"]))
        for row_index, kpi in enumerate(kpis):
            rows = table[table["kpi"] == kpi]
            for offset, structure in zip(offsets, structures, strict=True):
                found = rows[rows["structure"].astype(str) == structure]
                if found.empty:
                    continue
                item = found.iloc[0]
                y = row_index + offset
                colour = structure_colour(structure)
                if independent and np.isfinite(item["independent_ci_low"]):
                    ax.plot(
                        [item["independent_ci_low"], item["independent_ci_high"]],
                        [y, y],
                        color="#AAAAAA",
                        linewidth=1.0,
                        zorder=1,
                    )
                if np.isfinite(item["ci_low"]):
                    ax.plot(
                        [item["ci_low"], item["ci_high"]],
                        [y, y],
                        color=colour,
                        linewidth=2.6,
                        solid_capstyle="butt",
                        zorder=2,
                    )
                ax.plot(
                    item["difference"],
                    y,
                    marker="o",
                    markersize=6,
                    color=colour,
                    markerfacecolor=colour if item["significant"] else "white",
                    markeredgewidth=1.4,
                    zorder=3,
                )
        arrows = {1: "  (↑ better)", -1: "  (↓ better)", 0: ""}
        better = table.drop_duplicates("kpi").set_index("kpi")["better"]
        labels = [
            f"{table.loc[table['kpi'] == k, 'label'].iloc[0]}{arrows[better[k]]}" for k in kpis
        ]
        ax.set_yticks(np.arange(len(kpis)), labels, fontsize=8)
        ax.set_ylim(len(kpis) - 0.5, -0.5)
        ax.axvline(0, color="#333333", linewidth=1)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel(f"difference vs {structure_label(reference)} ({panel})", fontsize=9)
    handles = [
        Line2D(
            [], [], color=structure_colour(s), marker="o", linewidth=2.6, label=structure_label(s)
        )
        for s in structures
    ]
    handles.append(
        Line2D(
            [],
            [],
            color="#555555",
            marker="o",
            markerfacecolor="white",
            linestyle="none",
            label="hollow: not significant",
        )
    )
    if independent:
        handles.append(
            Line2D([], [], color="#AAAAAA", linewidth=1.0, label="CI with independent streams")
        )
    bottom_legend(
        fig,
        handles,
        "structure - reference, paired by replication (line: 95 % CI)",
        ncols=min(len(handles), 4),
    )
    fig.suptitle(
        f"Paired differences from {structure_label(reference)} "
        "(same leads in every replication), by KPI"
    )
    return fig
