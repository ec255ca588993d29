"""Figures of how busy the reps are: utilisation per role and pod, queues over time.

A structure's bottleneck is the role whose reps are busy nearly all the
time: leads queue in front of them, the way cars queue before the one
narrow bridge on a commute while the roads either side are empty. Above
``BOTTLENECK_UTILISATION`` (90 % by default) queues grow quickly. These
figures show where that happens: ``plot_utilisation`` (each role's share of
time busy, per structure), ``plot_wip`` (leads waiting in each role's queue
over time) and ``plot_pod_utilisation`` (whether one pod's territory
overloads it while its neighbours idle).

Each takes one table computed in ``sim.analysis`` and returns a
``matplotlib.figure.Figure``; none writes a file or recomputes a KPI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.reports.style import (
    BOTTLENECK_UTILISATION,
    ROLE_COLOURS,
    bottom_legend,
    bottom_row,
    ci_bar,
    ci_error,
    in_known_order,
    no_data,
    panel_grid,
    role_colour,
    role_label,
    structure_colour,
    structure_label,
    structures_in_order,
)


def plot_utilisation(util: pd.DataFrame, threshold: float = BOTTLENECK_UTILISATION) -> Figure:
    """Share of time each role is busy, per structure, with 95 % CIs.

    Bars are grouped by role in pipeline order; within a group each structure
    that has the role gets a bar in its colour, so the busiest role of each
    structure (its bottleneck) stands out against the 90 % line.

    Args:
        util: the table of ``people.utilisation_table``: columns structure,
            role, utilisation (a fraction), ci_low, ci_high. NaN bounds (one
            replication) draw no error bar.
        threshold: the bottleneck line, a fraction (the scenario's
            ``benchmarks.max_utilisation``; 0.9 by default).

    Returns:
        The figure, with utilisation on the y axis in %.
    """
    structures = structures_in_order(util["structure"])
    roles = in_known_order(util["role"].astype(str), ROLE_COLOURS)
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
            err = ci_error(value, 100 * float(row["ci_low"]), 100 * float(row["ci_high"]))
            has_ci = has_ci or err is not None
            ci_bar(ax, group + offset, value, err, structure, bar_width)
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
        wip: the table of ``over_time.wip_over_time``: columns structure, role,
            day, waiting, in_service, open_deals, accounts (means over
            replications).
        value: which count to draw; ``"waiting"`` (the queue) by default.

    Returns:
        The figure; panels share both axes so queue lengths compare directly.
    """
    structures = structures_in_order(wip["structure"])
    roles = in_known_order(wip["role"].astype(str), ROLE_COLOURS)
    fig, axes = panel_grid(len(structures), sharex=True, sharey=True, panel_size=(4.6, 2.8))
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
    for ax in bottom_row(axes, len(structures)):
        ax.set_xlabel("day of horizon (days)")
    for ax in axes[: len(structures)]:
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel(f"leads {value.replace('_', ' ')} (mean)")
    handles = [Line2D([], [], color=role_colour(r), label=role_label(r)) for r in roles]
    bottom_legend(fig, handles, "role", ncols=len(roles))
    what = "waiting in queue" if value == "waiting" else value.replace("_", " ")
    fig.suptitle(f"Leads {what} per role over time, by structure (mean across replications)")
    return fig


def plot_pod_utilisation(pods: pd.DataFrame, threshold: float = BOTTLENECK_UTILISATION) -> Figure:
    """How busy each pod is, per role and for its sales reps together, with 95 % CIs.

    Pods own uneven territories; a pod far busier than the others queues its
    leads while its neighbours idle. Bars are grouped by role ("sales" first:
    the pod's lead gen, qualifiers and closers together), one bar per pod,
    in the Pods colour told apart by hatching.

    Args:
        pods: ``people.pod_utilisation``: columns structure, pod, role,
            headcount, utilisation, ci_low, ci_high (fractions).
        threshold: the bottleneck line (a fraction).

    Returns:
        The figure.
    """
    fig = Figure(figsize=(9.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    if pods.empty:
        no_data(ax)
        ax.set_title("Utilisation by pod: no structure with pods")
        return fig
    roles = ["sales"] + in_known_order(
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
            err = ci_error(
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
