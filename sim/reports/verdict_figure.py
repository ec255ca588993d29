"""The report's headline figure: each objective's value per structure, and who is ahead.

A sales leader gives a chart ten seconds. One panel per objective of the
verdict (``sim.analysis.verdict``): a bar per structure with its mean and 95 %
interval, the best marked, and the structures the paired comparison puts
clearly behind it faded. Whether a structure is *clearly* behind comes from
the paired differences (same leads, same luck), which are far tighter than
the bars' own intervals; so two overlapping whiskers may still be a clear
difference, and the faded bars, not the whiskers, say which.

It returns a ``matplotlib.figure.Figure`` and writes nothing.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.analysis.kpis import kpi_spec
from sim.analysis.verdict import Verdict, objective_title
from sim.reports.style import bottom_legend, panel_grid, structure_colour, structure_label

_FADED = 0.3


def _scale(objective: str) -> tuple[float, str]:
    """Factor and unit for the axis: fractions in %, everything else as stored."""
    spec = kpi_spec(objective)
    if spec.format in ("percent", "points"):
        return 100.0, spec.shown_unit
    return 1.0, spec.unit


def _status(verdict: Verdict, objective: str, structure: str) -> str:
    """``best``, ``tied`` (not told apart from the best) or ``behind`` (clearly)."""
    if verdict.best[objective] == structure:
        return "best"
    rows = verdict.table[
        (verdict.table["objective"] == objective) & (verdict.table["structure"] == structure)
    ]
    return "behind" if len(rows) and bool(rows["clear"].iloc[0]) else "tied"


def _panel(ax, verdict: Verdict, summary: pd.DataFrame, objective: str, horizon_days: float):
    factor, unit = _scale(objective)
    means = summary[summary["kpi"] == objective].set_index("structure")
    names = [s for s in verdict.order if s in means.index and math.isfinite(means.loc[s, "mean"])]
    words = {"best": "best", "tied": "not told apart", "behind": "clearly behind"}
    labels = []
    for y, structure in enumerate(names):
        row = means.loc[structure]
        status = _status(verdict, objective, structure)
        value = factor * row["mean"]
        low, high = factor * row["ci_low"], factor * row["ci_high"]
        error = [[value - low], [high - value]] if math.isfinite(low) else None
        ax.barh(
            y,
            value,
            height=0.7,
            color=structure_colour(structure),
            alpha=_FADED if status == "behind" else 1.0,
            edgecolor="#222222" if status == "best" else "none",
            linewidth=1.6,
            xerr=error,
            error_kw={"elinewidth": 1, "ecolor": "#333333", "capsize": 3},
        )
        alone = len(verdict.order) == 1  # nothing to be best against
        labels.append(structure_label(structure) + ("" if alone else f"\n{words[status]}"))
    ax.set_yticks(np.arange(len(names)), labels, fontsize=8)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.grid(axis="x", alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(FuncFormatter(_tick_format(objective, factor, ax)))
    better = {"higher": "more is better", "lower": "less is better"}[kpi_spec(objective).direction]
    ax.set_xlabel(f"{unit} ({better})", fontsize=8)
    ax.set_title(objective_title(objective, horizon_days), fontsize=9, wrap=True)
    ax.tick_params(axis="x", labelsize=8)


def _tick_format(objective: str, factor: float, ax):
    """Tick labels without an offset: money in k or M, others as the registry prints them."""
    spec = kpi_spec(objective)
    largest = max(abs(v) for v in ax.get_xlim())
    if spec.format == "money" and largest >= 1e6:
        return lambda x, _: "0" if x == 0 else f"{x / 1e6:,.1f}M"
    if spec.format == "money" and largest >= 1e4:
        return lambda x, _: "0" if x == 0 else f"{x / 1e3:,.0f}k"
    return lambda x, _: spec.format_value(x / factor)


def plot_verdict(verdict: Verdict, summary: pd.DataFrame, horizon_days: float) -> Figure:
    """One panel per objective: each structure's mean with its 95 % CI, the best outlined.

    Args:
        verdict: ``verdict.build_verdict``.
        summary: ``kpi_values.summarise`` (mean, ci_low, ci_high per structure and KPI).
        horizon_days: the run's horizon, for the profit panel's title.

    Returns:
        The figure.
    """
    count = len(verdict.objectives)
    fig, axes = panel_grid(count, sharex=False, sharey=False, panel_size=(4.8, 2.3))
    for ax, objective in zip(axes, verdict.objectives, strict=False):
        _panel(ax, verdict, summary, objective, horizon_days)
    whiskers = f"bar: mean over {verdict.replications} replications, whisker: its 95 % CI"
    if len(verdict.order) == 1:
        fig.suptitle(f"{structure_label(verdict.order[0])} on each objective ({whiskers})")
        return fig
    handles = [
        Patch(facecolor="#777777", edgecolor="#222222", linewidth=1.6, label="best mean"),
        Patch(facecolor="#777777", label="not told apart from the best yet"),
        Patch(facecolor="#777777", alpha=_FADED, label="clearly behind the best"),
    ]
    bottom_legend(
        fig,
        handles,
        f"{whiskers}; 'clearly' from paired differences (same leads), Holm-corrected",
    )
    fig.suptitle("Which structure is ahead, per objective")
    return fig
