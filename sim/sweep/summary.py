"""A sweep's tables from its runs: the sweep table, the summary, crossovers, winners.

Plain pandas, no simulation: the runs' KPI rows become one tidy table (one
row per run), then a mean and confidence interval per grid point, structure
and KPI, then the answers a sweep is for: where one structure overtakes
another along a swept parameter, and which structure leads at each point.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from sim.analysis.kpis import kpi_spec
from sim.analysis.stats import t_interval
from sim.sweep.spec import Sweep


def sweep_table(sweep: Sweep, rows: pd.DataFrame) -> pd.DataFrame:
    """The tidy sweep table: one row per run, swept values after ``point``.

    Args:
        sweep: the sweep.
        rows: every run's row (``RunStore.read_all``), in table order.

    Returns:
        Columns point, one per axis, structure (categorical, report order),
        replication, seed, then every KPI; sorted by point, structure, replication.
    """
    table = rows.drop(columns=["wall_seconds"], errors="ignore")
    table = sweep.point_table().merge(table, on="point", how="right", validate="one_to_many")
    table["structure"] = pd.Categorical(
        table["structure"].astype(str), categories=list(sweep.structures)
    )
    table = table.sort_values(["point", "structure", "replication"], ignore_index=True)
    for column in ("point", "replication", "seed"):
        table[column] = table[column].astype("int64")
    return table


def summarise_sweep(table: pd.DataFrame, sweep: Sweep, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t confidence interval of every KPI per grid point and structure.

    Returns:
        One row per (point, structure, KPI): point, the swept values,
        structure, kpi, mean, ci_low, ci_high, replications (non-missing
        values); bounds are NaN with fewer than two values, as in
        ``sim.analysis.stats.t_interval``.
    """
    axis_names = [axis.name for axis in sweep.axes]
    ids = ["point", *axis_names, "structure"]
    kpis = [c for c in table.columns if c not in (*ids, "replication", "seed")]
    long = table.melt(id_vars=ids, value_vars=kpis, var_name="kpi", value_name="value")
    long["value"] = long["value"].astype(float)
    grouped = long.groupby([*ids, "kpi"], observed=True, sort=False)["value"]
    summary = grouped.agg(mean="mean", sd="std", replications="count").reset_index()
    interval = t_interval(
        summary["mean"].to_numpy(dtype=float),
        summary["sd"].to_numpy(dtype=float),
        summary["replications"].to_numpy(dtype=float),
        confidence,
    )
    summary["ci_low"] = interval.low
    summary["ci_high"] = interval.high
    order = {kpi: i for i, kpi in enumerate(kpis)}
    summary["kpi_order"] = summary["kpi"].map(order)
    summary = summary.sort_values(["point", "structure", "kpi_order"], ignore_index=True)
    summary["replications"] = summary["replications"].astype("int64")
    return summary[[*ids, "kpi", "mean", "ci_low", "ci_high", "replications"]]


def crossovers(summary: pd.DataFrame, sweep: Sweep) -> pd.DataFrame:
    """Where one structure overtakes another along a numeric axis, for the key KPIs.

    Along each numeric axis (the other axes held at each of their values),
    the difference of two structures' means is interpolated linearly between
    neighbouring grid values (in log space on a log axis); where it changes
    sign, the leader changes.

    Returns:
        One row per crossing: kpi, parameter, at (the other axes' values,
        e.g. ``pods=2``; empty with one axis), value (the parameter value of
        the crossing), kpi_mean (both means there), leader_before and
        leader_after (the better structure below and above the crossing).
    """
    columns = [
        "kpi",
        "parameter",
        "at",
        "value",
        "kpi_mean",
        "leader_before",
        "leader_after",
    ]
    rows = []
    structures = list(sweep.structures)
    for axis in sweep.axes:
        if not axis.numeric or len(axis.labels) < 2:
            continue
        others = [a.name for a in sweep.axes if a is not axis]
        for kpi in sweep.kpis:
            direction = kpi_spec(kpi).direction
            picked = summary[summary["kpi"] == kpi]
            groups = picked.groupby(others, sort=False) if others else [((), picked)]
            for held, group in groups:
                held = held if isinstance(held, tuple) else (held,)
                at = ", ".join(f"{n}={v}" for n, v in zip(others, held, strict=True))
                wide = group.pivot_table(
                    index=axis.name, columns="structure", values="mean", observed=True
                ).sort_index()
                x = wide.index.to_numpy(dtype=float)
                position = np.log(x) if axis.log else x
                for first, second in itertools.combinations(structures, 2):
                    if first not in wide or second not in wide:
                        continue
                    a = wide[first].to_numpy(dtype=float)
                    b = wide[second].to_numpy(dtype=float)
                    for value, mean, before, after in _crossings(position, a, b):
                        better_before = _better(first, second, before, direction)
                        better_after = _better(first, second, after, direction)
                        rows.append(
                            {
                                "kpi": kpi,
                                "parameter": axis.name,
                                "at": at,
                                "value": float(np.exp(value)) if axis.log else value,
                                "kpi_mean": mean,
                                "leader_before": better_before,
                                "leader_after": better_after,
                            }
                        )
    return pd.DataFrame(rows, columns=columns)


def _crossings(
    x: np.ndarray, a: np.ndarray, b: np.ndarray
) -> list[tuple[float, float, float, float]]:
    """Sign changes of ``a - b`` along ``x``: (x, mean there, diff before, diff after)."""
    diff = a - b
    found = []
    known = [i for i in range(len(x)) if np.isfinite(diff[i])]
    nonzero = [i for i in known if diff[i] != 0]
    for left, right in itertools.pairwise(nonzero):
        if np.sign(diff[left]) == np.sign(diff[right]):
            continue
        between = [i for i in known if left < i < right]  # exact ties in between
        if between:
            at = between[0]
            found.append((float(x[at]), float(a[at]), float(diff[left]), float(diff[right])))
            continue
        share = diff[left] / (diff[left] - diff[right])
        crossing = x[left] + share * (x[right] - x[left])
        mean = a[left] + share * (a[right] - a[left])
        found.append((float(crossing), float(mean), float(diff[left]), float(diff[right])))
    return found


def _better(first: str, second: str, diff: float, direction: str) -> str:
    """Which of two structures is ahead when ``mean(first) - mean(second) == diff``."""
    ahead = diff < 0 if direction == "lower" else diff > 0
    return first if ahead else second


def winners(summary: pd.DataFrame, sweep: Sweep, kpi: str) -> pd.DataFrame:
    """The best structure of one KPI at every grid point.

    Returns:
        One row per point: point, the swept values, winner, best (its mean),
        runner_up, margin (how far ahead, in the KPI's unit) and clear (True
        when the two 95 % CIs do not overlap; False when they do or are unknown).
    """
    higher = kpi_spec(kpi).direction != "lower"
    picked = summary[summary["kpi"] == kpi]
    rows = []
    names = [axis.name for axis in sweep.axes]
    for point, group in picked.groupby("point", sort=True):
        ranked = group.dropna(subset=["mean"]).sort_values(
            "mean", ascending=not higher, kind="stable"
        )
        row = {"point": point, **{n: group[n].iloc[0] for n in names}}
        row.update(winner="", best=math.nan, runner_up="", margin=math.nan, clear=False)
        if len(ranked):
            best = ranked.iloc[0]
            row.update(winner=str(best["structure"]), best=float(best["mean"]))
        if len(ranked) > 1:
            second = ranked.iloc[1]
            if higher:
                apart = float(best["ci_low"]) > float(second["ci_high"])
            else:
                apart = float(best["ci_high"]) < float(second["ci_low"])
            row.update(
                runner_up=str(second["structure"]),
                margin=abs(float(best["mean"]) - float(second["mean"])),
                clear=bool(apart),  # NaN bounds compare False: not clear
            )
        rows.append(row)
    return pd.DataFrame(rows)


def claims_along(table: pd.DataFrame, sweep: Sweep) -> pd.DataFrame:
    """Each literature claim scored at every grid point (``claims.score_claims``).

    Returns:
        One row per grid point and claim: point, one column per axis, id,
        claim, verdict, difference, ci_low, ci_high, and ``changed`` (True
        where the verdict differs from the previous grid point's).
    """
    from sim.analysis.claims import load_claims, score_claims

    claims = load_claims()
    frames = []
    for point, runs in table.groupby("point", sort=True):
        scored = score_claims(runs, claims)
        scored.insert(0, "point", point)
        frames.append(scored)
    scored = pd.concat(frames, ignore_index=True)
    scored = sweep.point_table().merge(scored, on="point", how="right")
    columns = ["point", *(a.name for a in sweep.axes), "id", "claim", "verdict"]
    scored = scored[columns + ["difference", "ci_low", "ci_high"]]
    previous = scored.groupby("id", sort=False)["verdict"].shift()
    scored["changed"] = previous.notna() & (previous != scored["verdict"])
    return scored
