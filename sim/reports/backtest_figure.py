"""The back-test figure: history against the simulation's replication bands."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sim.config.scenario import STAGES
from sim.reports import style  # noqa: F401  (chooses the backend; labels drawn as text)


def plot_backtest(table: pd.DataFrame, origin: pd.Timestamp) -> Figure:
    """Four panels: leads per stage per month, wins per month, conversion, cycle time.

    Args:
        table: ``BacktestResult.table``.
        origin: calendar date of day 0, for the title.

    Returns:
        The figure (history as dots, bands as shaded areas, medians as lines).
    """
    figure = Figure(figsize=(12, 8))
    axes = figure.subplots(2, 2)
    monthly = table[table["month"] >= 0]
    colours = dict(zip(STAGES, ("tab:blue", "tab:orange", "tab:green"), strict=True))
    ax = axes[0, 0]
    for stage in STAGES:
        part = monthly[monthly["metric"] == f"entered_{stage}"]
        _band(ax, part["month"], part, colours[stage], stage)
    ax.set(title="leads entering each stage per month", ylabel="leads")
    _month_axis(ax, part)
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    part = monthly[monthly["metric"] == "wins"]
    _band(ax, part["month"], part, "tab:green", "wins")
    ax.set(title="wins per month", ylabel="wins")
    _month_axis(ax, part)
    for ax, prefix, title in (
        (axes[1, 0], "conversion_", "stage conversion (passed / decided)"),
        (axes[1, 1], "cycle_days_", "cycle time of won deals (days), quantiles"),
    ):
        part = table[table["metric"].str.startswith(prefix)].reset_index(drop=True)
        x = range(len(part))
        ax.vlines(x, part["sim_low"], part["sim_high"], colors="grey", linewidth=8, alpha=0.4,
                  label="simulation, middle 95 %")  # fmt: skip
        ax.plot(x, part["sim_median"], "_", color="black", markersize=16, label="simulated median")
        colour = ["red" if o else "black" for o in part["outside"]]
        ax.scatter(x, part["history"], color=colour, zorder=3, label="history")
        ax.set_xticks(list(x), [m.removeprefix(prefix) for m in part["metric"]])
        ax.set_title(title)
        ax.legend(fontsize=8)
    figure.suptitle(f"back-test: history (dots, red = outside the band) from {origin:%Y-%m-%d}")
    figure.tight_layout()
    return figure


def _month_axis(ax, part: pd.DataFrame) -> None:
    """Calendar months (``2024-03``) under the monthly panels, at most about 12 labels."""
    step = max(1, -(-len(part) // 12))
    shown = part.iloc[::step]
    ax.set_xticks(list(shown["month"]), list(shown["period"]), rotation=45, ha="right")
    ax.set_xlabel("month")


def _band(ax, x, part: pd.DataFrame, colour: str, label: str) -> None:
    ax.fill_between(x, part["sim_low"], part["sim_high"], color=colour, alpha=0.2)
    ax.plot(x, part["sim_median"], color=colour, linewidth=1)
    outside = part["outside"]
    ax.scatter(x[~outside], part["history"][~outside], color=colour, s=14, label=label)
    ax.scatter(x[outside], part["history"][outside], color="red", s=22, marker="x")
