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


def plot_plan(path: pd.DataFrame, target: float, reached: set[str] | None = None) -> Figure:
    """Wins per quarter against team size for every team the search tried.

    Accepted teams are joined by a line in search order (the path), each with
    its 95 % CI; teams tried and undone are hollow; the final plan is a star;
    the target is a dashed line.

    Args:
        path: ``sim.plan.output.path_table``: structure, step, accepted, headcount,
            wins_per_quarter and its CI columns.
        target: the target wins per quarter.
        reached: the structures whose search reached the target: their last team
            is a plan (a star); the others' is only the best found (a cross).
            Default: all of them.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(8.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    handles = []
    for structure, rows in path.groupby("structure", sort=False):
        colour = structure_colour(str(structure))
        kept = rows[rows["accepted"]]
        undone = rows[~rows["accepted"]]
        low = (kept["wins_per_quarter"] - kept["wins_per_quarter_ci_low"]).fillna(0)
        high = (kept["wins_per_quarter_ci_high"] - kept["wins_per_quarter"]).fillna(0)
        ax.errorbar(
            kept["headcount"],
            kept["wins_per_quarter"],
            yerr=[low.to_numpy(), high.to_numpy()],
            color=colour,
            marker="o",
            markersize=4,
            linewidth=1.5,
            capsize=3,
        )
        ax.scatter(
            undone["headcount"],
            undone["wins_per_quarter"],
            facecolors="none",
            edgecolors=colour,
            s=30,
            zorder=3,
        )
        final = kept.iloc[-1]
        planned = reached is None or str(structure) in reached
        ax.scatter(
            [final["headcount"]],
            [final["wins_per_quarter"]],
            marker="*" if planned else "X",
            s=220 if planned else 120,
            color=colour,
            edgecolors="black",
            linewidths=0.6,
            zorder=4,
        )
        handles.append(Line2D([], [], color=colour, marker="o", label=structure_label(structure)))
    ax.axhline(target, color="black", linestyle="--", linewidth=1)
    handles += [
        Line2D([], [], color="black", linestyle="--", label=f"target ({target:g})"),
        Line2D([], [], color="grey", marker="*", markersize=11, linestyle="", label="plan"),
        Line2D([], [], color="grey", marker="X", markersize=8, linestyle="", label="target missed"),
        Line2D(
            [], [], color="grey", marker="o", markerfacecolor="none", linestyle="", label="undone"
        ),
    ]
    ax.set_xlabel("headcount (reps, account managers included)")
    ax.set_ylabel("wins per quarter (mean, 95 % CI)")
    ax.set_title("Capacity plan: team size needed for the target wins per quarter")
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    bottom_legend(fig, handles, None, ncols=min(len(handles), 4))
    return fig
