"""Figures of the leads' way through the funnel: where they are lost, when won, how fast.

The first three questions a sales leader asks of a structure are about its
funnel: at which stage or handoff do leads drop out, and why; how many deals
does it win each month; how long does a won deal take from first contact to
signature. ``plot_funnel``, ``plot_wins_over_time`` and ``plot_cycle_times``
answer them, one figure each (``funnel.png``, ``wins_over_time.png``,
``cycle_time.png``).

Like every figure function of ``sim.reports``, each takes one table computed
in ``sim.analysis`` and returns a ``matplotlib.figure.Figure``; none shows a
window, writes a file or recomputes a KPI. Think of a quarterly review deck:
the analysis counts the deals, this module only draws the slides, so a wrong
number is fixed once and every figure follows. Time is in days.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.analysis.kpis import KPIS, RELAY_LOSS_KPIS
from sim.reports.style import (
    bottom_row,
    no_data,
    panel_grid,
    structure_colour,
    structure_label,
    structures_in_order,
)

LOSS_COLOURS: dict[str, str] = {
    "failed": "#999999",
    "dropped_in_handoff": "#D55E00",
    "went_cold": "#56B4E9",
}
"""Colours of the ways a lead is lost, in the funnel figure."""


LOSS_LABELS: dict[str, str] = {
    "failed": "failed (customer said no)",
    "dropped_in_handoff": "dropped in handoff",
    "went_cold": "went cold (waited too long)",
}


POINT_LABELS: dict[str, str] = {
    "prospecting": "prospecting",
    "qualification": "qualification",
    "closing": "closing",
    "won": "outcome at horizon",
    # A relay is labelled by the KPI of its losses, as the headline table names it.
    **{point: KPIS[kpi].label for point, kpi in RELAY_LOSS_KPIS.items()},
}
"""Funnel points as printed on the funnel figure's axis."""


FUNNEL_ORDER = (
    "handoff_to_pod",
    "prospecting",
    "handoff_to_qualification",
    "qualification",
    "handoff_to_closing",
    "closing",
    "won",
    "handoff_to_account_management",
)
"""The order in which a lead meets the funnel points."""


def plot_funnel(funnel: pd.DataFrame) -> Figure:
    """Where each structure loses its leads, one panel per structure.

    Each funnel point (stage or handoff) gets a horizontal bar: an outline as
    long as the leads that reached it and, filled from the left, the leads lost
    there, stacked by reason. The last row splits the leads left at the end
    into won and still open at the horizon.

    Args:
        funnel: the table of ``funnel_tables.funnel_table``: columns structure, point,
            reached, failed, dropped_in_handoff, went_cold, open (mean leads
            per replication), with ``point == "won"`` last.

    Returns:
        The figure; panels share both axes so structures compare at a glance.
    """
    if "open" not in funnel:
        funnel = funnel.assign(open=0.0)
    structures = structures_in_order(funnel["structure"])
    present = set(funnel["point"].astype(str))
    # Funnel order, whatever order the rows come in; unknown points go last.
    points = [p for p in FUNNEL_ORDER if p in present] + sorted(present - set(FUNNEL_ORDER))
    fig, axes = panel_grid(len(structures), sharex=True, sharey=True, panel_size=(5.4, 3.0))
    y = np.arange(len(points))
    x_max = float(funnel["reached"].max()) if len(funnel) else 1.0
    for ax, structure in zip(axes, structures, strict=False):
        table = funnel[funnel["structure"].astype(str) == structure].set_index("point")
        absent = ~pd.Index(points).isin(table.index.astype(str))
        # Counts only: the text column (structure) must not be filled with a number.
        table = table.reindex(points).select_dtypes("number").fillna(0.0)
        colour = structure_colour(structure)
        final = np.array([p == "won" for p in points])
        reached = table["reached"].to_numpy(dtype=float)
        # Outline of the leads that reached each point; the final row is drawn below.
        ax.barh(
            y[~final], reached[~final], height=0.7, fill=False, edgecolor="#444444", linewidth=0.8
        )
        left = np.zeros(len(points))
        for reason in LOSS_COLOURS:
            values = table[reason].to_numpy(dtype=float)
            ax.barh(y, values, left=left, height=0.7, color=LOSS_COLOURS[reason], linewidth=0)
            left += values
        if final.any():
            row = int(np.flatnonzero(final)[0])
            won = float(table["reached"].iloc[row])
            still_open = float(table["open"].iloc[row])
            ax.barh(row, won, height=0.7, color=colour)
            ax.barh(
                row,
                still_open,
                left=won,
                height=0.7,
                color="white",
                edgecolor=colour,
                hatch="///",
                linewidth=0.8,
            )
        for index in range(len(points)):
            if final[index]:
                text = (
                    f"won {table['reached'].iloc[index]:,.0f}, "
                    f"open {table['open'].iloc[index]:,.0f}"
                )
                end = table["reached"].iloc[index] + table["open"].iloc[index]
            elif absent[index]:
                text, end = "no relay in this structure", 0.0
            else:
                # A relay drops (a customer dropped at the handover still bills under a contract).
                verb = "dropped" if points[index].startswith("handoff_") else "lost"
                text = f"{verb} {left[index]:,.0f} of {reached[index]:,.0f}"
                end = reached[index]
            ax.text(end + 0.01 * x_max, index, text, va="center", fontsize=7.5, color="#333333")
        ax.set_title(structure_label(structure), color=colour, fontweight="bold")
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
    # The panels share their axes: setting ticks and limits once sets them for all.
    axes[0].set_yticks(y, [POINT_LABELS.get(p, p.replace("_", " ")) for p in points])
    axes[0].invert_yaxis()
    axes[0].set_xlim(0, x_max * 1.45)
    for ax in bottom_row(axes, len(structures)):
        ax.set_xlabel("leads per replication (mean)")
    handles = [Patch(facecolor="white", edgecolor="#444444", label="reached this point")]
    handles += [Patch(color=LOSS_COLOURS[r], label=LOSS_LABELS[r]) for r in LOSS_COLOURS]
    handles += [
        Patch(facecolor="#555555", label="won (structure colour)"),
        Patch(facecolor="white", edgecolor="#555555", hatch="///", label="still open at horizon"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.suptitle("Where leads are lost: funnel of the measured lead cohort, by structure")
    return fig


def plot_wins_over_time(wins: pd.DataFrame, switch_days: dict[str, float] | None = None) -> Figure:
    """Wins per period for each structure, with a 95 % confidence band.

    Args:
        wins: the table of ``over_time.wins_over_time``: columns structure,
            period_start_day, wins (mean over replications), ci_low, ci_high.
            With one replication the bounds are NaN and no band is drawn.
        switch_days: a reorganised structure's switch day, marked by a dashed
            line in its colour.

    Returns:
        The figure: one line per structure, each point at the middle of its
        period; bands are clipped at zero wins.
    """
    period_days = _period_days(wins["period_start_day"])
    fig = Figure(figsize=(8.5, 4.6), layout="constrained")
    ax = fig.add_subplot()
    banded = False
    for structure in structures_in_order(wins["structure"]):
        table = wins[wins["structure"].astype(str) == structure].sort_values("period_start_day")
        middle = table["period_start_day"].to_numpy(dtype=float) + period_days / 2
        colour = structure_colour(structure)
        ax.plot(
            middle,
            table["wins"],
            marker="o",
            markersize=3.5,
            color=colour,
            label=structure_label(structure),
        )
        low = table["ci_low"].to_numpy(dtype=float)
        high = table["ci_high"].to_numpy(dtype=float)
        if np.isfinite(low).any() and np.isfinite(high).any():
            ax.fill_between(
                middle,
                np.clip(low, 0, None),
                np.clip(high, 0, None),
                color=colour,
                alpha=0.15,
                linewidth=0,
            )
            banded = True
    for structure, day in (switch_days or {}).items():
        ax.axvline(day, color=structure_colour(structure), linestyle="--", linewidth=1)
    ax.set_xlabel("day of horizon (days; points at the middle of each period)")
    ax.set_ylabel(f"wins per {period_days:g}-day period")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    title = "structure (band: 95 % CI)" if banded else "structure (one replication: no CI)"
    ax.legend(title=title, fontsize=8, title_fontsize=8)
    ax.set_title(f"Wins per {period_days:g} days by structure, mean across replications")
    return fig


def plot_cycle_times(cycle: pd.DataFrame, bin_days: float | None = None) -> Figure:
    """How long won deals take from arrival to win, per structure.

    Two panels share the time axis: step histograms (each structure's wins as
    shares, so structures with more wins are not taller) and box plots
    (median, quartiles, 5th-95th percentile whiskers, mean as a diamond).

    Args:
        cycle: the table of ``funnel_tables.cycle_times``: columns structure,
            replication, days_to_close, one row per won lead, all replications.
        bin_days: histogram bin width in days; by default a round width
            (1, 2, 5, 10, 20, ... days) giving 20 to 50 bins over the range.

    Returns:
        The figure.
    """
    structures = [
        s
        for s in structures_in_order(cycle["structure"])
        if (cycle["structure"].astype(str) == s).any()
    ]
    fig = Figure(figsize=(8.5, 6.0), layout="constrained")
    hist_ax, box_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    days = cycle["days_to_close"].to_numpy(dtype=float)
    days = days[np.isfinite(days)]
    if len(days) == 0:
        no_data(hist_ax)
        bins = np.array([0.0, 1.0])
    else:
        width = bin_days or _round_width(float(days.max()) / 30)
        bins = np.arange(0.0, float(days.max()) + width, width)
        if len(bins) < 2:
            bins = np.array([0.0, width])
    width = float(bins[1] - bins[0])
    samples = []
    for structure in structures:
        values = cycle.loc[cycle["structure"].astype(str) == structure, "days_to_close"]
        values = values.dropna().to_numpy(dtype=float)
        samples.append(values)
        weights = np.full(len(values), 100.0 / len(values))
        hist_ax.hist(
            values,
            bins=bins,
            weights=weights,
            histtype="step",
            linewidth=1.6,
            color=structure_colour(structure),
            label=f"{structure_label(structure)} ({len(values):,} wins)",
        )
    hist_ax.set_ylabel(f"share of wins (% per {width:g}-day bin)")
    hist_ax.grid(alpha=0.3)
    if structures:
        hist_ax.legend(fontsize=8, title="structure (wins, all replications)", title_fontsize=8)
        boxes = box_ax.boxplot(
            samples,
            orientation="horizontal",
            whis=(5, 95),
            showmeans=True,
            showfliers=False,
            patch_artist=True,
            widths=0.6,
            meanprops={
                "marker": "D",
                "markerfacecolor": "white",
                "markeredgecolor": "black",
                "markersize": 5,
            },
            medianprops={"color": "black"},
        )
        for patch, structure in zip(boxes["boxes"], structures, strict=True):
            patch.set_facecolor(structure_colour(structure))
            patch.set_alpha(0.8)
        box_ax.set_yticks(
            np.arange(1, len(structures) + 1), [structure_label(s) for s in structures]
        )
        box_ax.invert_yaxis()
    box_ax.set_xlabel("days from arrival to win")
    box_ax.set_xlim(left=0)
    box_ax.grid(axis="x", alpha=0.3)
    box_ax.set_title(
        "box: quartiles and median; whiskers: 5th-95th percentile; ◇ mean", fontsize=8, loc="left"
    )
    fig.suptitle("Time to win a deal, by structure (won leads of the measured cohort)")
    return fig


def _period_days(starts: pd.Series) -> float:
    """Length of the periods in a wins table, read off the spacing of their starts."""
    gaps = np.diff(np.unique(starts.to_numpy(dtype=float)))
    return float(gaps.min()) if len(gaps) else 30.0


def _round_width(rough: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... days not below ``rough``."""
    if not math.isfinite(rough) or rough <= 1:
        return 1.0
    decade = 1.0
    while True:
        for step in (1.0, 2.0, 5.0):
            if step * decade >= rough:
                return step * decade
        decade *= 10
