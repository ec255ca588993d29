"""Figures of people and money: seats over time, quota attainment, what each structure costs.

The people and money section of the comparison report. A structure can look
strong on paper and still be short-handed: turnover empties seats, a hiring
lag keeps them empty, and new hires spend months ramping up
(``plot_headcount``). Reps who rarely make quota leave, or signal a quota or
territory problem (``plot_quota_attainment``). And a structure that wins a
few more deals may still earn less once salaries, commission, managers and
hiring are paid (``plot_money_breakdown``): the figures a finance partner
asks for before any reorganisation.

Each takes tables computed in ``sim.analysis`` and returns a
``matplotlib.figure.Figure``; none writes a file or recomputes a KPI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.reports.style import (
    bottom_legend,
    bottom_row,
    ci_bar,
    ci_error,
    no_data,
    panel_grid,
    structure_colour,
    structure_label,
    structures_in_order,
)

HEADCOUNT_STYLES: dict[str, tuple[str, str, str]] = {
    # (colour, line style, label); Paul Tol's colours, unlike the structure colours,
    # so a measure line is never mistaken for a structure.
    "filled": ("#222222", "-", "filled seats"),
    "ramping": ("#44AA99", "--", "ramping up (filled, not yet at full pace)"),
    "vacant": ("#CC3311", "-", "vacant seats (waiting for a hire)"),
}
"""How each measure of the headcount figure is drawn, in legend order."""


def plot_headcount(headcount: pd.DataFrame) -> Figure:
    """Filled seats, vacancies and ramping reps over time, one panel per structure.

    Turnover empties seats, a hiring lag keeps them empty, and every new hire
    spends weeks or months ramping up: this figure shows how much of each
    structure's nominal headcount is really at work on each day. A thin grey
    line marks the seats (the nominal headcount).

    Args:
        headcount: the table of ``people.headcount_over_time``: columns
            structure, day, headcount, and filled, vacant, ramping with their
            ``_ci_low`` / ``_ci_high`` bounds (means across replications; NaN
            bounds draw no band).

    Returns:
        The figure; panels share both axes so structures compare directly.
    """
    structures = structures_in_order(headcount["structure"])
    fig, axes = panel_grid(len(structures), sharex=True, sharey=True, panel_size=(4.6, 2.8))
    banded = False
    for ax, structure in zip(axes, structures, strict=False):
        table = headcount[headcount["structure"].astype(str) == structure].sort_values("day")
        days = table["day"].to_numpy(dtype=float)
        ax.plot(days, table["headcount"], color="#999999", linewidth=0.8, linestyle=":")
        for measure, (colour, style, _) in HEADCOUNT_STYLES.items():
            ax.plot(days, table[measure], color=colour, linestyle=style, linewidth=1.2)
            low = table[f"{measure}_ci_low"].to_numpy(dtype=float)
            high = table[f"{measure}_ci_high"].to_numpy(dtype=float)
            if np.isfinite(low).any() and np.isfinite(high).any():
                # No count is below zero or above the seats: clip the t band there.
                seats = table["headcount"].to_numpy(dtype=float)
                ax.fill_between(
                    days,
                    np.clip(low, 0, seats),
                    np.clip(high, 0, seats),
                    color=colour,
                    alpha=0.18,
                    linewidth=0,
                )
                banded = True
        ax.set_title(
            structure_label(structure), color=structure_colour(structure), fontweight="bold"
        )
        ax.grid(alpha=0.3)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    if structures:
        top = float(np.nanmax(headcount["headcount"].to_numpy(dtype=float), initial=1.0))
        axes[0].set_ylim(0, top * 1.08)
    for ax in bottom_row(axes, len(structures)):
        ax.set_xlabel("day of horizon (days)")
    for ax in axes[: len(structures)]:
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel("reps (seats, mean)")
    handles = [
        Line2D([], [], color=colour, linestyle=style, label=label)
        for colour, style, label in HEADCOUNT_STYLES.values()
    ]
    handles.append(
        Line2D([], [], color="#999999", linestyle=":", linewidth=0.8, label="seats (headcount)")
    )
    title = "band: 95 % CI across replications" if banded else "one replication: no CI"
    bottom_legend(fig, handles, title, ncols=2)
    fig.suptitle(
        "Seats filled, vacant and ramping over time, by structure (mean across replications)"
    )
    return fig


def plot_quota_attainment(
    attainment: pd.DataFrame, share: pd.DataFrame, min_share: float = 2 / 3
) -> Figure:
    """How close reps get to quota, and how many make it, per structure.

    Left: every rep-period that counts (``people.counted_quota_rows``: every
    role with a quota, periods after the warm-up) as a dot, credit as % of the
    period's quota, over a box of quartiles, with the quota at 100 %.
    Right: the share of those rep-periods at quota with its 95 % CI, against the
    red-flag line (two thirds by default): a sales team where fewer reps make
    quota has a quota, territory or hiring problem.

    Args:
        attainment: ``people.quota_attainment``: columns structure,
            replication, rep_id, role, period, attainment (1.0 = at quota).
        share: rows of ``kpi_values.summarise`` for ``share_reps_at_quota``:
            columns structure, mean, ci_low, ci_high (fractions).
        min_share: where the red-flag line is drawn (a fraction).

    Returns:
        The figure.
    """
    structures = structures_in_order(attainment["structure"])
    structures += [s for s in structures_in_order(share["structure"]) if s not in structures]
    fig = Figure(figsize=(10.0, 1.2 + 0.75 * max(2, len(structures))), layout="constrained")
    dots_ax, share_ax = fig.subplots(1, 2, width_ratios=(3, 2), sharey=True)
    y = np.arange(len(structures))
    samples = []
    for index, structure in enumerate(structures):
        values = 100 * attainment.loc[
            attainment["structure"].astype(str) == structure, "attainment"
        ].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        samples.append(values)
        # Deterministic vertical jitter (golden-ratio sequence): same figure every run.
        jitter = ((np.arange(len(values)) * 0.618034) % 1.0 - 0.5) * 0.5
        dots_ax.scatter(
            values,
            index + jitter,
            s=12,
            color=structure_colour(structure),
            alpha=0.7,
            linewidths=0,
            zorder=3,
        )
    if any(len(v) for v in samples):
        dots_ax.boxplot(
            [v if len(v) else [np.nan] for v in samples],
            positions=y,
            orientation="horizontal",
            widths=0.7,
            showfliers=False,
            whis=(0, 100),
            medianprops={"color": "black"},
            boxprops={"color": "#555555"},
            whiskerprops={"color": "#555555"},
            capprops={"color": "#555555"},
        )
    else:
        no_data(dots_ax)
    dots_ax.axvline(100, color="#333333", linestyle="--", linewidth=1)
    dots_ax.set_xlim(left=0)
    dots_ax.set_xlabel("credit as % of the period's quota (bookings, passed leads or NRR)")
    dots_ax.set_ylabel("structure")
    dots_ax.grid(axis="x", alpha=0.3)
    dots_ax.set_title("each dot: one rep in one quota period", fontsize=9, loc="left")
    has_ci = False
    for index, structure in enumerate(structures):
        row = share[share["structure"].astype(str) == structure]
        if row.empty:
            continue
        value = 100 * float(row["mean"].iloc[0])
        err = ci_error(
            value, 100 * float(row["ci_low"].iloc[0]), 100 * float(row["ci_high"].iloc[0])
        )
        has_ci = has_ci or err is not None
        xerr = None if err is None else [[err[0][0]], [min(err[1][0], 100 - value)]]
        share_ax.barh(
            index,
            value,
            height=0.6,
            color=structure_colour(structure),
            xerr=xerr,
            capsize=3,
            error_kw={"elinewidth": 1, "ecolor": "#333333"},
        )
        share_ax.text(value + 1.5, index + 0.32, f"{value:.0f} %", fontsize=8, va="center")
    share_ax.axvline(100 * min_share, color="#D55E00", linestyle="--", linewidth=1.2)
    share_ax.text(
        100 * min_share,
        -0.6,
        f" red flag below {100 * min_share:.0f} %",
        color="#D55E00",
        fontsize=8,
        va="bottom",
    )
    share_ax.set_xlim(0, 105)
    share_ax.set_xlabel("rep-periods at quota (%)" + (", bar: 95 % CI" if has_ci else ""))
    share_ax.grid(axis="x", alpha=0.3)
    share_ax.set_yticks(y, [structure_label(s) for s in structures])
    share_ax.set_ylim(len(structures) - 0.5, -0.9)
    fig.suptitle("Quota attainment per rep and period, by structure")
    return fig


MONEY_COMPONENTS = (
    "revenue",
    "cost of goods",
    "rep salaries",
    "commission",
    "rep bonuses",
    "managers",
    "overhead",
    "hiring",
    "profit",
)
"""Money components in breakdown order (labels of ``money.MONEY_COMPONENTS``)."""


def plot_money_breakdown(money: pd.DataFrame, horizon_days: float) -> Figure:
    """Revenue, what it costs, and the profit left, per structure, with 95 % CIs.

    Bars are grouped by component (revenue, cost of goods, rep pay, managers,
    overhead, hiring, profit); each structure gets a bar in its
    colour, so a reader sees at once where one structure earns or spends more.
    Costs are drawn as positive amounts; profit = revenue - every cost.

    Args:
        money: ``money.money_breakdown``: columns structure, component,
            mean, ci_low, ci_high (currency over the horizon).
        horizon_days: the simulated period, for the axis label (days).

    Returns:
        The figure, amounts in thousands.
    """
    structures = structures_in_order(money["structure"])
    components = [c for c in MONEY_COMPONENTS if c in set(money["component"])]
    fig = Figure(figsize=(10.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    bar_width = 0.8 / max(1, len(structures))
    has_ci = False
    for group, component in enumerate(components):
        rows = money[money["component"] == component]
        offsets = (np.arange(len(structures)) - (len(structures) - 1) / 2) * bar_width
        for offset, structure in zip(offsets, structures, strict=True):
            row = rows[rows["structure"].astype(str) == structure]
            if row.empty:
                continue
            value = float(row["mean"].iloc[0]) / 1e3
            low = float(row["ci_low"].iloc[0]) / 1e3
            high = float(row["ci_high"].iloc[0]) / 1e3
            err = ci_error(value, low, high)
            has_ci = has_ci or err is not None
            ci_bar(ax, group + offset, value, err, structure, bar_width)
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.axvline(len(components) - 1.5, color="#999999", linewidth=0.8, linestyle=":")
    ax.set_xticks(np.arange(len(components)), components)
    ax.set_xlim(-0.5, len(components) - 0.5)
    ax.set_xlabel("money component (costs shown as positive amounts; profit = revenue - costs)")
    ax.set_ylabel(f"thousands (currency) over {horizon_days:g} days")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    handles = [Patch(color=structure_colour(s), label=structure_label(s)) for s in structures]
    title = "structure (error bar: 95 % CI)" if has_ci else "structure (one replication: no CI)"
    bottom_legend(fig, handles, title)
    ax.set_title("Revenue, costs and profit by structure (mean across replications)")
    return fig
