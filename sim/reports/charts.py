"""Figures that compare sales structures, drawn from the tables in ``sim.analysis.metrics``.

This is the only module that imports matplotlib. Each ``plot_*`` function takes
one metric table (a pandas DataFrame returned by ``sim.analysis.metrics``) and returns a
``matplotlib.figure.Figure``; none of them shows a window, writes a file or
recomputes a KPI. Think of a quarterly review deck: the metrics module counts
the deals, this module only draws the slides, so a wrong number is fixed once
in ``metrics.py`` and every figure follows.

Every figure colours a structure the same way (``STRUCTURE_COLOURS``, from the
Okabe-Ito colour-blind-safe palette) and names it the same way
(``STRUCTURE_LABELS``, from ``sim.config.names``). Time is in days throughout.
Figures are built with ``Figure()`` rather than ``pyplot``, so making many of
them keeps no global state; ``save_figures`` writes them as PNGs and closes them.

The Agg backend is selected when this module is imported (and nowhere else), so
figures render without a display, in CI or over SSH. Text is drawn as typed,
never parsed as maths: names come from users' files, and a pod named
``Pod $x$`` must read so, not break the figure (``text.parse_math``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim.config.names import structure_label  # noqa: E402  (also imported from here)

STRUCTURE_COLOURS: dict[str, str] = {
    "allin": "#0072B2",  # blue
    "two_party": "#E69F00",  # orange
    "conveyor": "#009E73",  # bluish green
    "pods": "#CC79A7",  # reddish purple
}
"""One colour per structure (Okabe-Ito palette), in report order."""

ROLE_COLOURS: dict[str, str] = {
    # Paul Tol's muted palette plus grey: colour-blind safe and unlike the structure colours,
    # so a role line is never mistaken for a structure.
    "generalist": "#332288",  # indigo
    "lead_gen": "#88CCEE",  # cyan
    "qualifier": "#999933",  # olive
    "closer": "#882255",  # wine
    "account_manager": "#777777",  # grey
}
"""One colour per role, in pipeline order, for plots whose lines are roles."""

ROLE_LABELS: dict[str, str] = {
    "generalist": "generalist",
    "lead_gen": "lead gen",
    "qualifier": "qualifier",
    "closer": "closer",
    "account_manager": "account manager",
}
"""Human names of the roles."""

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
    "handoff_to_qualification": "handoff → qualification",
    "qualification": "qualification",
    "handoff_to_closing": "handoff → closing",
    "closing": "closing",
    "won": "outcome at horizon",
}
"""Funnel points as printed on the funnel figure's axis."""

FUNNEL_ORDER = (
    "prospecting",
    "handoff_to_qualification",
    "qualification",
    "handoff_to_closing",
    "closing",
    "won",
)
"""The order in which a lead meets the funnel points."""

BOTTLENECK_UTILISATION = 0.90
"""Above this utilisation queues grow quickly (M/M/c waits explode as load nears 1)."""

DPI = 110
"""Resolution of saved PNGs: readable on screen, small enough for a repository."""

# Colours for structures outside the four known ones: the rest of Okabe-Ito.
_SPARE_COLOURS = ("#D55E00", "#56B4E9", "#F0E442", "#000000")
_MISSING_COLOUR = "#7F7F7F"


def structure_colour(structure: str) -> str:
    """Colour of a structure in every figure.

    Args:
        structure: the structure's name, e.g. ``"two_party"``.

    Returns:
        A hex colour; structures outside the four known ones get a spare
        Okabe-Ito colour chosen from their name, so it is stable between runs.
    """
    if structure in STRUCTURE_COLOURS:
        return STRUCTURE_COLOURS[structure]
    return _SPARE_COLOURS[sum(structure.encode()) % len(_SPARE_COLOURS)]


def role_colour(role: str) -> str:
    """Colour of a role in plots whose lines or bars are roles."""
    return ROLE_COLOURS.get(role, _MISSING_COLOUR)


def role_label(role: str) -> str:
    """Human name of a role (``"account_manager"`` -> ``"account manager"``)."""
    return ROLE_LABELS.get(role, role.replace("_", " "))


def bottom_legend(fig: Figure, handles: list, title: str | None, ncols: int | None = None) -> None:
    """One legend for the whole figure, below the panels, in the house style."""
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=ncols or len(handles),
        fontsize=8,
        frameon=False,
        title=title,
        title_fontsize=8,
    )


def plot_funnel(funnel: pd.DataFrame) -> Figure:
    """Where each structure loses its leads, one panel per structure.

    Each funnel point (stage or handoff) gets a horizontal bar: an outline as
    long as the leads that reached it and, filled from the left, the leads lost
    there, stacked by reason. The last row splits the leads left at the end
    into won and still open at the horizon.

    Args:
        funnel: the table of ``metrics.funnel_table``: columns structure, point,
            reached, failed, dropped_in_handoff, went_cold, open (mean leads
            per replication), with ``point == "won"`` last.

    Returns:
        The figure; panels share both axes so structures compare at a glance.
    """
    if "open" not in funnel:
        funnel = funnel.assign(open=0.0)
    structures = _structures(funnel["structure"])
    present = set(funnel["point"].astype(str))
    # Funnel order, whatever order the rows come in; unknown points go last.
    points = [p for p in FUNNEL_ORDER if p in present] + sorted(present - set(FUNNEL_ORDER))
    fig, axes = _panel_grid(len(structures), sharex=True, sharey=True, panel_size=(5.4, 3.0))
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
                text = f"lost {left[index]:,.0f} of {reached[index]:,.0f}"
                end = reached[index]
            ax.text(end + 0.01 * x_max, index, text, va="center", fontsize=7.5, color="#333333")
        ax.set_title(structure_label(structure), color=colour, fontweight="bold")
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
    # The panels share their axes: setting ticks and limits once sets them for all.
    axes[0].set_yticks(y, [POINT_LABELS.get(p, p.replace("_", " ")) for p in points])
    axes[0].invert_yaxis()
    axes[0].set_xlim(0, x_max * 1.45)
    for ax in _bottom_row(axes, len(structures)):
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


def plot_wins_over_time(wins: pd.DataFrame) -> Figure:
    """Wins per period for each structure, with a 95 % confidence band.

    Args:
        wins: the table of ``metrics.wins_over_time``: columns structure,
            period_start_day, wins (mean over replications), ci_low, ci_high.
            With one replication the bounds are NaN and no band is drawn.

    Returns:
        The figure: one line per structure, each point at the middle of its
        period; bands are clipped at zero wins.
    """
    period_days = _period_days(wins["period_start_day"])
    fig = Figure(figsize=(8.5, 4.6), layout="constrained")
    ax = fig.add_subplot()
    banded = False
    for structure in _structures(wins["structure"]):
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
        cycle: the table of ``metrics.cycle_times``: columns structure,
            replication, days_to_close, one row per won lead, all replications.
        bin_days: histogram bin width in days; by default a round width
            (1, 2, 5, 10, 20, ... days) giving 20 to 50 bins over the range.

    Returns:
        The figure.
    """
    structures = [
        s for s in _structures(cycle["structure"]) if (cycle["structure"].astype(str) == s).any()
    ]
    fig = Figure(figsize=(8.5, 6.0), layout="constrained")
    hist_ax, box_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    days = cycle["days_to_close"].to_numpy(dtype=float)
    days = days[np.isfinite(days)]
    if len(days) == 0:
        _no_data(hist_ax)
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


def plot_utilisation(util: pd.DataFrame, threshold: float = BOTTLENECK_UTILISATION) -> Figure:
    """Share of time each role is busy, per structure, with 95 % CIs.

    Bars are grouped by role in pipeline order; within a group each structure
    that has the role gets a bar in its colour, so the busiest role of each
    structure (its bottleneck) stands out against the 90 % line.

    Args:
        util: the table of ``metrics.utilisation_table``: columns structure,
            role, utilisation (a fraction), ci_low, ci_high. NaN bounds (one
            replication) draw no error bar.
        threshold: the bottleneck line, a fraction (the scenario's
            ``benchmarks.max_utilisation``; 0.9 by default).

    Returns:
        The figure, with utilisation on the y axis in %.
    """
    structures = _structures(util["structure"])
    roles = _ordered(util["role"].astype(str), ROLE_COLOURS)
    fig = Figure(figsize=(9.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    bar_width = 0.8 / max(1, len(structures))
    has_ci = False
    for group, role in enumerate(roles):
        in_role = util[util["role"].astype(str) == role]
        present = [s for s in structures if (in_role["structure"].astype(str) == s).any()]
        # Only the structures that have this role share the group, so no empty slots.
        offsets = (np.arange(len(present)) - (len(present) - 1) / 2) * bar_width
        for offset, structure in zip(offsets, present, strict=True):
            row = in_role[in_role["structure"].astype(str) == structure].iloc[0]
            value = 100 * float(row["utilisation"])
            err = _error(value, 100 * float(row["ci_low"]), 100 * float(row["ci_high"]))
            has_ci = has_ci or err is not None
            _ci_bar(ax, group + offset, value, err, structure, bar_width)
    threshold = 100 * threshold
    ax.axhline(threshold, color="#333333", linestyle="--", linewidth=1)
    ax.set_xticks(np.arange(len(roles)), [role_label(r) for r in roles])
    ax.set_xlim(-0.5, len(roles) - 0.5)
    highest = np.nanmax(100 * util[["utilisation", "ci_high"]].to_numpy(dtype=float), initial=0.0)
    ax.set_ylim(0, max(105.0, highest + 5))
    ax.set_xlabel("role")
    ax.set_ylabel("utilisation (% of working time busy)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    handles = [Patch(color=structure_colour(s), label=structure_label(s)) for s in structures]
    handles.append(
        Line2D(
            [],
            [],
            color="#333333",
            linestyle="--",
            linewidth=1,
            label=f"bottleneck threshold ({threshold:.0f} %)",
        )
    )
    title = "structure (error bar: 95 % CI)" if has_ci else "structure (one replication: no CI)"
    bottom_legend(fig, handles, title)
    ax.set_title("Rep utilisation by role and structure, after warm-up")
    return fig


def plot_wip(wip: pd.DataFrame, value: str = "waiting") -> Figure:
    """Leads waiting in each role's queue over time, one panel per structure.

    Args:
        wip: the table of ``metrics.wip_over_time``: columns structure, role,
            day, waiting, in_service, open_deals, accounts (means over
            replications).
        value: which count to draw; ``"waiting"`` (the queue) by default.

    Returns:
        The figure; panels share both axes so queue lengths compare directly.
    """
    structures = _structures(wip["structure"])
    roles = _ordered(wip["role"].astype(str), ROLE_COLOURS)
    fig, axes = _panel_grid(len(structures), sharex=True, sharey=True, panel_size=(4.6, 2.8))
    for ax, structure in zip(axes, structures, strict=False):
        table = wip[wip["structure"].astype(str) == structure]
        for role in roles:
            series = table[table["role"].astype(str) == role].sort_values("day")
            if len(series):
                ax.plot(
                    series["day"],
                    series[value],
                    color=role_colour(role),
                    linewidth=1.1,
                    label=role_label(role),
                )
        ax.set_title(
            structure_label(structure), color=structure_colour(structure), fontweight="bold"
        )
        ax.grid(alpha=0.3)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    for ax in _bottom_row(axes, len(structures)):
        ax.set_xlabel("day of horizon (days)")
    for ax in axes[: len(structures)]:
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel(f"leads {value.replace('_', ' ')} (mean)")
    handles = [Line2D([], [], color=role_colour(r), label=role_label(r)) for r in roles]
    bottom_legend(fig, handles, "role", ncols=len(roles))
    what = "waiting in queue" if value == "waiting" else value.replace("_", " ")
    fig.suptitle(f"Leads {what} per role over time, by structure (mean across replications)")
    return fig


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
        headcount: the table of ``metrics.headcount_over_time``: columns
            structure, day, headcount, and filled, vacant, ramping with their
            ``_ci_low`` / ``_ci_high`` bounds (means across replications; NaN
            bounds draw no band).

    Returns:
        The figure; panels share both axes so structures compare directly.
    """
    structures = _structures(headcount["structure"])
    fig, axes = _panel_grid(len(structures), sharex=True, sharey=True, panel_size=(4.6, 2.8))
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
    for ax in _bottom_row(axes, len(structures)):
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

    Left: every rep-period that counts (``metrics.counted_quota_rows``: every
    role with a quota, periods after the warm-up) as a dot, credit as % of the
    period's quota, over a box of quartiles, with the quota at 100 %.
    Right: the share of those rep-periods at quota with its 95 % CI, against the
    red-flag line (two thirds by default): a sales team where fewer reps make
    quota has a quota, territory or hiring problem.

    Args:
        attainment: ``compare.quota_attainment``: columns structure,
            replication, rep_id, role, period, attainment (1.0 = at quota).
        share: rows of ``metrics.summarise`` for ``share_reps_at_quota``:
            columns structure, mean, ci_low, ci_high (fractions).
        min_share: where the red-flag line is drawn (a fraction).

    Returns:
        The figure.
    """
    structures = _structures(attainment["structure"])
    structures += [s for s in _structures(share["structure"]) if s not in structures]
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
        _no_data(dots_ax)
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
        err = _error(value, 100 * float(row["ci_low"].iloc[0]), 100 * float(row["ci_high"].iloc[0]))
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
"""Money components in breakdown order (labels of ``compare.MONEY_COMPONENTS``)."""


def plot_money_breakdown(money: pd.DataFrame, horizon_days: float) -> Figure:
    """Revenue, what it costs, and the profit left, per structure, with 95 % CIs.

    Bars are grouped by component (revenue, cost of goods, rep pay, managers,
    overhead, hiring, profit); each structure gets a bar in its
    colour, so a reader sees at once where one structure earns or spends more.
    Costs are drawn as positive amounts; profit = revenue - every cost.

    Args:
        money: ``compare.money_breakdown``: columns structure, component,
            mean, ci_low, ci_high (currency over the horizon).
        horizon_days: the simulated period, for the axis label (days).

    Returns:
        The figure, amounts in thousands.
    """
    structures = _structures(money["structure"])
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
            err = _error(value, low, high)
            has_ci = has_ci or err is not None
            _ci_bar(ax, group + offset, value, err, structure, bar_width)
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


def plot_paired_differences(forest: pd.DataFrame, reference: str) -> Figure:
    """Forest plot: each structure's difference from the reference, per KPI, with CIs.

    One panel per unit (wins per 30 days, percentage points, leads, days,
    thousands of currency), one row per KPI, one marker per structure in its
    colour; the thick line is the 95 % CI of the paired (common random
    numbers) difference. A filled marker means the CI excludes 0 (significant),
    a hollow one that it does not. When the comparison was also run with
    independent lead streams, that wider CI is drawn as a thin grey line
    behind, to show what common random numbers bought.

    Args:
        forest: ``compare.forest_table``: columns structure, kpi, label, panel,
            better (+1/-1/0), difference, ci_low, ci_high, significant, and
            optionally independent_ci_low, independent_ci_high.
        reference: the reference structure's name.

    Returns:
        The figure.
    """
    panels = list(dict.fromkeys(forest["panel"]))
    structures = _structures(forest["structure"])
    independent = "independent_ci_low" in forest
    counts = [max(1, forest.loc[forest["panel"] == p, "kpi"].nunique()) for p in panels]
    height = 1.6 + 0.42 * sum(counts) + 0.55 * len(panels)
    fig = Figure(figsize=(9.5, height), layout="constrained")
    axes = fig.subplots(max(1, len(panels)), 1, height_ratios=[c + 1.2 for c in counts] or None)
    axes = list(np.atleast_1d(axes))
    if not panels:
        _no_data(axes[0])
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
            label="hollow: CI includes 0",
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


def plot_pod_utilisation(pods: pd.DataFrame, threshold: float = BOTTLENECK_UTILISATION) -> Figure:
    """How busy each pod is, per role and for its sales reps together, with 95 % CIs.

    Pods own uneven territories; a pod far busier than the others queues its
    leads while its neighbours idle. Bars are grouped by role ("sales" first:
    the pod's lead gen, qualifiers and closers together), one bar per pod,
    in the Pods colour told apart by hatching.

    Args:
        pods: ``compare.pod_utilisation``: columns structure, pod, role,
            headcount, utilisation, ci_low, ci_high (fractions).
        threshold: the bottleneck line (a fraction).

    Returns:
        The figure.
    """
    fig = Figure(figsize=(9.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    if pods.empty:
        _no_data(ax)
        ax.set_title("Utilisation by pod: no structure with pods")
        return fig
    roles = ["sales"] + _ordered(
        [r for r in pods["role"].astype(str) if r != "sales"], ROLE_COLOURS
    )
    keys = list(
        dict.fromkeys(zip(pods["structure"].astype(str), pods["pod"].astype(str), strict=True))
    )
    hatches = ("", "///", "...", "xxx", "\\\\", "++")
    bar_width = 0.8 / max(1, len(keys))
    offsets = (np.arange(len(keys)) - (len(keys) - 1) / 2) * bar_width
    for group, role in enumerate(roles):
        for index, (structure, pod) in enumerate(keys):
            row = pods[
                (pods["structure"].astype(str) == structure)
                & (pods["pod"].astype(str) == pod)
                & (pods["role"].astype(str) == role)
            ]
            if row.empty:
                continue
            value = 100 * float(row["utilisation"].iloc[0])
            err = _error(
                value, 100 * float(row["ci_low"].iloc[0]), 100 * float(row["ci_high"].iloc[0])
            )
            ax.bar(
                group + offsets[index],
                value,
                width=bar_width * 0.95,
                color=structure_colour(structure),
                alpha=0.9 if index % 2 == 0 else 0.6,
                hatch=hatches[index % len(hatches)],
                edgecolor="white",
                yerr=err,
                capsize=3,
                error_kw={"elinewidth": 1, "ecolor": "#333333"},
            )
    ax.axhline(100 * threshold, color="#333333", linestyle="--", linewidth=1)
    names = ["sales reps (pod load)"] + [role_label(r) for r in roles[1:]]
    ax.set_xticks(np.arange(len(roles)), names)
    ax.set_xlim(-0.5, len(roles) - 0.5)
    ax.set_ylim(
        0, max(105.0, 100 * float(np.nanmax(pods["ci_high"].to_numpy(dtype=float), initial=0)) + 5)
    )
    ax.set_xlabel("role within the pod")
    ax.set_ylabel("utilisation (% of working time busy)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    handles = [
        Patch(
            facecolor=structure_colour(structure),
            alpha=0.9 if index % 2 == 0 else 0.6,
            hatch=hatches[index % len(hatches)],
            edgecolor="white",
            label=f"{structure_label(structure)}: {pod}",
        )
        for index, (structure, pod) in enumerate(keys)
    ]
    handles.append(
        Line2D(
            [], [], color="#333333", linestyle="--", label=f"bottleneck ({100 * threshold:.0f} %)"
        )
    )
    bottom_legend(fig, handles, "pod (error bar: 95 % CI)")
    ax.set_title("Utilisation by pod and role: is one territory overloaded?")
    return fig


def save_figures(figures: Mapping[str, Figure], directory: Path) -> list[Path]:
    """Write each figure as ``<name>.png`` and close it.

    PNGs carry no software or date metadata, so identical figures give
    identical files.

    Args:
        figures: name -> figure; the name becomes the file stem.
        directory: where to write; created if missing.

    Returns:
        The written paths, in the order of ``figures``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        path = directory / f"{name}.png"
        fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
        plt.close(fig)
        paths.append(path)
    return paths


def _structures(column: pd.Series) -> list[str]:
    """Structures in report order: the column's categories if it has them, else known order."""
    present = list(dict.fromkeys(column.astype(str)))
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(c) for c in column.cat.categories if str(c) in present]
    return _ordered(present, STRUCTURE_COLOURS)


def _ordered(names: Iterable[str], known: Mapping[str, str]) -> list[str]:
    """Known names in the mapping's order, then unknown ones in order of appearance."""
    present = list(dict.fromkeys(names))
    return [n for n in known if n in present] + [n for n in present if n not in known]


def _panel_grid(
    count: int, sharex: bool, sharey: bool, panel_size: tuple[float, float]
) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels, two per row, spare panels hidden."""
    ncols = 1 if count <= 1 else 2
    nrows = max(1, math.ceil(count / ncols))
    fig = Figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows + 1.0), layout="constrained")
    axes = list(
        np.atleast_1d(
            fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False)
        ).ravel()
    )
    for ax in axes[count:]:
        ax.set_visible(False)
    if count == 0:
        _no_data(axes[0])
        axes[0].set_visible(True)
    return fig, axes


def _bottom_row(axes: list[Axes], count: int) -> list[Axes]:
    """Visible panels with no visible panel below them: they carry the x label."""
    ncols = axes[0].get_subplotspec().get_gridspec().ncols
    return [ax for index, ax in enumerate(axes[:count]) if index + ncols >= count]


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


def _error(value: float, low: float, high: float) -> list[list[float]] | None:
    """Asymmetric error bar for ``bar``, or None when the bounds are unknown."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return [[max(0.0, value - low)], [max(0.0, high - value)]]


def _ci_bar(
    ax: Axes, x: float, value: float, err: list[list[float]] | None, structure: str, width: float
) -> None:
    """One structure's bar with its 95 % CI error bar (if known), in its colour."""
    ax.bar(
        x,
        value,
        width=width * 0.95,
        color=structure_colour(structure),
        yerr=err,
        capsize=3,
        error_kw={"elinewidth": 1, "ecolor": "#333333"},
    )


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
