"""The capacity plan's figure: headcount against wins per quarter, per structure.

Drawn from ``sim.plan.output.path_table`` (every team the search tried), in the house
style of ``sim.reports.style`` (its colours and names; importing it selects the Agg
backend). Like the other report functions it returns a ``Figure`` and writes
nothing.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

# Importing sim.reports.style chooses the backend and draws labels as plain text.
from sim.reports.style import bottom_legend, structure_colour, structure_label


def plot_plan(
    path: pd.DataFrame,
    target: float,
    reached: set[str] | None = None,
    kpi: str = "wins",
    probabilities: dict[str, float] | None = None,
) -> Figure:
    """The target's KPI per quarter against team size for every team the search tried.

    Accepted teams are joined by a line in search order (the path), each with
    its 95 % CI; teams tried and undone are hollow; the final plan is a star;
    the target is a dashed line.

    Args:
        path: ``sim.plan.output.path_table``: structure, step, accepted, headcount,
            ``<kpi>_per_quarter`` and its CI columns.
        target: the target per quarter.
        reached: the structures whose search reached the target: their last team
            is a plan (a star); the others' is only the best found (a cross).
            Default: all of them.
        kpi: the target's KPI: wins, bookings or revenue.
        probabilities: per structure, the probability that its final team's
            expected value reaches the target, shown in the legend.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(8.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    handles = []
    column = f"{kpi}_per_quarter"
    for structure, rows in path.groupby("structure", sort=False):
        colour = structure_colour(str(structure))
        kept = rows[rows["accepted"]]
        undone = rows[~rows["accepted"]]
        low = (kept[column] - kept[f"{column}_ci_low"]).fillna(0)
        high = (kept[f"{column}_ci_high"] - kept[column]).fillna(0)
        ax.errorbar(
            kept["headcount"],
            kept[column],
            yerr=[low.to_numpy(), high.to_numpy()],
            color=colour,
            marker="o",
            markersize=4,
            linewidth=1.5,
            capsize=3,
        )
        ax.scatter(
            undone["headcount"],
            undone[column],
            facecolors="none",
            edgecolors=colour,
            s=30,
            zorder=3,
        )
        final = kept.iloc[-1]
        planned = reached is None or str(structure) in reached
        ax.scatter(
            [final["headcount"]],
            [final[column]],
            marker="*" if planned else "X",
            s=220 if planned else 120,
            color=colour,
            edgecolors="black",
            linewidths=0.6,
            zorder=4,
        )
        label = structure_label(structure)
        chance = (probabilities or {}).get(str(structure))
        if chance is not None and chance == chance:
            label += f" (P reach {chance:.0%})"
        handles.append(Line2D([], [], color=colour, marker="o", label=label))
    ax.axhline(target, color="black", linestyle="--", linewidth=1)
    handles += [
        Line2D([], [], color="black", linestyle="--", label=f"target ({target:g})"),
        Line2D([], [], color="grey", marker="*", markersize=11, linestyle="", label="plan"),
        Line2D(
            [],
            [],
            color="grey",
            marker="X",
            markersize=8,
            linestyle="",
            label="missed or over budget",
        ),
        Line2D(
            [], [], color="grey", marker="o", markerfacecolor="none", linestyle="", label="undone"
        ),
    ]
    ax.set_xlabel("headcount (reps, account managers included)")
    ax.set_ylabel(f"{kpi} per quarter (mean, 95 % CI)")
    ax.set_title(f"Capacity plan: the cheapest team for the target {kpi} per quarter")
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    bottom_legend(fig, handles, None, ncols=min(len(handles), 4))
    return fig
