"""The dip and the recovery after a switch of structure: one figure, ``switch.png``.

For each reorganised structure, the wins and bookings per period minus those
of the structure it started as (the run that stays as it is, same leads and
luck), with a 95 % band across replications and the switch day marked. Below
zero after the line is what the move costs; above, what it buys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.switch import SWITCH_MEASURES
from sim.config.names import structure_label
from sim.reports.style import structure_colour


def plot_switch_dip(dip: pd.DataFrame) -> Figure:
    """Per reorganised structure (rows) and measure (columns): the paired difference over time.

    Args:
        dip: the table of ``sim.analysis.switch.switch_dip`` (not empty).
    """
    names = list(dict.fromkeys(dip["structure"]))
    measures = list(SWITCH_MEASURES)
    fig = Figure(figsize=(10, 3.2 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), len(measures), squeeze=False)
    for row, name in enumerate(names):
        for column, measure in enumerate(measures):
            table = dip[(dip["structure"] == name) & (dip["measure"] == measure)]
            _draw(axes[row][column], table, name, measure)
    fig.suptitle("After the switch: the reorganised structure minus staying as you were")
    return fig


def _draw(ax, table: pd.DataFrame, name: str, measure: str) -> None:
    table = table.sort_values("period_start_day")
    starts = table["period_start_day"].to_numpy(dtype=float)
    width = float(np.diff(starts).min()) if len(starts) > 1 else 30.0
    middle = starts + width / 2
    colour = structure_colour(name)
    ax.plot(middle, table["difference"], marker="o", markersize=3, color=colour)
    low, high = table["ci_low"].to_numpy(dtype=float), table["ci_high"].to_numpy(dtype=float)
    if np.isfinite(low).any():
        ax.fill_between(middle, low, high, color=colour, alpha=0.15, linewidth=0)
    switch_day = float(table["switch_day"].iloc[0])
    ax.axvline(switch_day, color="#333333", linestyle="--", linewidth=1)
    ax.axhline(0.0, color="#999999", linewidth=0.8)
    start = structure_label(str(table["from_structure"].iloc[0]))
    ax.set_title(
        f"{structure_label(name)} (from {start} on day {switch_day:g}): {measure}", fontsize=9
    )
    ax.set_xlabel("day of horizon (days; dashed: the switch)")
    ax.set_ylabel(f"difference, {SWITCH_MEASURES[measure]}", fontsize=8)
    ax.grid(alpha=0.3)
