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
from sim.analysis.risk import QUANTILES
from sim.analysis.stats import mean_ci, t_interval
from sim.config.names import structure_label
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
        structure, kpi, mean, ci_low, ci_high, the spread of the replications
        (p10, p50, p90: ``sim.analysis.risk``), replications (non-missing
        values); bounds are NaN with fewer than two values, as in
        ``sim.analysis.stats.t_interval``, and a share's are cut to [0, 1].
    """
    axis_names = [axis.name for axis in sweep.axes]
    ids = ["point", *axis_names, "structure"]
    kpis = [c for c in table.columns if c not in (*ids, "replication", "seed")]
    long = table.melt(id_vars=ids, value_vars=kpis, var_name="kpi", value_name="value")
    long["value"] = long["value"].astype(float)
    grouped = long.groupby([*ids, "kpi"], observed=True, sort=False)["value"]
    summary = grouped.agg(mean="mean", sd="std", replications="count").reset_index()
    for column, q in QUANTILES.items():
        summary[column] = grouped.quantile(q).to_numpy()
    interval = t_interval(
        summary["mean"].to_numpy(dtype=float),
        summary["sd"].to_numpy(dtype=float),
        summary["replications"].to_numpy(dtype=float),
        confidence,
    )
    # A share's interval is cut to its bounds (``KpiSpec.clip``); NaN stays NaN.
    bounds = summary["kpi"].map(lambda kpi: kpi_spec(kpi).bounds or (-math.inf, math.inf))
    lowest, highest = bounds.str[0].astype(float), bounds.str[1].astype(float)
    summary["ci_low"] = pd.Series(interval.low, index=summary.index).clip(lowest, highest)
    summary["ci_high"] = pd.Series(interval.high, index=summary.index).clip(lowest, highest)
    order = {kpi: i for i, kpi in enumerate(kpis)}
    summary["kpi_order"] = summary["kpi"].map(order)
    summary = summary.sort_values(["point", "structure", "kpi_order"], ignore_index=True)
    summary["replications"] = summary["replications"].astype("int64")
    return summary[[*ids, "kpi", "mean", "ci_low", "ci_high", *QUANTILES, "replications"]]


def paired_table(table: pd.DataFrame, sweep: Sweep, confidence: float = 0.95) -> pd.DataFrame:
    """Paired differences of every two structures at every grid point, for the key KPIs.

    Every run of a grid point is seeded by its replication alone, so in
    replication ``r`` all structures met the same leads with the same luck
    (common random numbers): the per-replication difference of two structures
    cancels that luck, and its t interval is far tighter than either
    structure's own. ``winners`` and ``crossovers`` call a lead clear by it.

    Returns:
        One row per (point, kpi, first, second), ``first`` before ``second``
        in report order: difference (first - second), ci_low, ci_high.
    """
    rows = []
    names = list(sweep.structures)
    for kpi in sweep.kpis:
        if kpi not in table:
            continue
        wide = table.pivot_table(
            index=["point", "replication"], columns="structure", values=kpi, observed=True
        )
        for first, second in itertools.combinations(names, 2):
            if first not in wide or second not in wide:
                continue
            for point, diff in (wide[first] - wide[second]).groupby(level="point"):
                mean, low, high = mean_ci(diff.to_numpy(dtype=float), confidence)
                rows.append((point, kpi, first, second, mean, low, high))
    columns = ["point", "kpi", "first", "second", "difference", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def paired_sign(pairs: pd.DataFrame, point: int, kpi: str, first: str, second: str) -> int:
    """+1 when ``first - second`` is clearly above 0 at the point, -1 clearly below, else 0."""
    flip = 1
    found = pairs[
        (pairs["point"] == point)
        & (pairs["kpi"] == kpi)
        & (pairs["first"] == first)
        & (pairs["second"] == second)
    ]
    if found.empty:
        flip = -1
        found = pairs[
            (pairs["point"] == point)
            & (pairs["kpi"] == kpi)
            & (pairs["first"] == second)
            & (pairs["second"] == first)
        ]
    if found.empty:
        return 0
    low, high = found[["ci_low", "ci_high"]].iloc[0]
    return flip * (1 if low > 0 else -1 if high < 0 else 0)  # NaN bounds: 0


def crossovers(
    summary: pd.DataFrame, sweep: Sweep, pairs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Where one structure overtakes another along a numeric axis, for the key KPIs.

    Along each numeric axis (the other axes held at each of their values),
    the difference of two structures' means is interpolated linearly between
    neighbouring grid values (in log space on a log axis); where it changes
    sign, the leader changes.

    Returns:
        One row per crossing: kpi, parameter, at (the other axes' values,
        e.g. ``pods=2``; empty with one axis), value (the parameter value of
        the crossing), kpi_mean (both means there), leader_before and
        leader_after (the better structure below and above the crossing), and
        clear (True when at the grid values on either side the two
        structures are apart in opposite directions: the lead really changes
        hands; False: the means cross inside the noise, no clear change).
        Apart: their paired difference's 95 % CI excludes 0 when ``pairs``
        (``paired_table``) is given, else their own CIs do not overlap.
    """
    columns = [
        "kpi",
        "parameter",
        "at",
        "value",
        "kpi_mean",
        "leader_before",
        "leader_after",
        "clear",
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
                wide, low, high, points = (
                    group.pivot_table(
                        index=axis.name, columns="structure", values=column, observed=True
                    ).sort_index()
                    for column in ("mean", "ci_low", "ci_high", "point")
                )
                at_points = points.iloc[:, 0].to_numpy()
                x = wide.index.to_numpy(dtype=float)
                position = np.log(x) if axis.log else x
                for first, second in itertools.combinations(structures, 2):
                    if first not in wide or second not in wide:
                        continue
                    a = wide[first].to_numpy(dtype=float)
                    b = wide[second].to_numpy(dtype=float)
                    bounds = [frame[[first, second]].to_numpy(dtype=float) for frame in (low, high)]
                    for value, mean, before, after, sides in _crossings(position, a, b):
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
                                "clear": (
                                    all(_apart(*bounds, i) for i in sides)
                                    if pairs is None
                                    else _paired_crossing(
                                        pairs, at_points, sides, kpi, first, second
                                    )
                                ),
                            }
                        )
    return pd.DataFrame(rows, columns=columns)


def _paired_crossing(pairs, points, sides: tuple[int, int], kpi: str, first, second) -> bool:
    """Whether two structures are clearly apart, in opposite order, on both sides."""
    left, right = (paired_sign(pairs, int(points[i]), kpi, first, second) for i in sides)
    return left != 0 and left == -right


def _apart(low: np.ndarray, high: np.ndarray, index: int) -> bool:
    """Whether two structures' 95 % CIs (columns of ``low`` and ``high``) do not overlap."""
    (low_a, low_b), (high_a, high_b) = low[index], high[index]
    return bool(low_a > high_b or low_b > high_a)  # NaN bounds compare False: not apart


def _crossings(
    x: np.ndarray, a: np.ndarray, b: np.ndarray
) -> list[tuple[float, float, float, float, tuple[int, int]]]:
    """Sign changes of ``a - b`` along ``x``.

    Each as (x, mean there, diff before, diff after, the grid indices either side).
    """
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
            found.append(
                (float(x[at]), float(a[at]), float(diff[left]), float(diff[right]), (left, right))
            )
            continue
        share = diff[left] / (diff[left] - diff[right])
        crossing = x[left] + share * (x[right] - x[left])
        mean = a[left] + share * (a[right] - a[left])
        found.append(
            (float(crossing), float(mean), float(diff[left]), float(diff[right]), (left, right))
        )
    return found


def _better(first: str, second: str, diff: float, direction: str) -> str:
    """Which of two structures is ahead when ``mean(first) - mean(second) == diff``."""
    ahead = diff < 0 if direction == "lower" else diff > 0
    return first if ahead else second


def winners(
    summary: pd.DataFrame, sweep: Sweep, kpi: str, pairs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The best structure of one KPI at every grid point.

    Returns:
        One row per point: point, the swept values, winner, best (its mean),
        runner_up, margin (how far ahead, in the KPI's unit) and clear (True
        when the winner's paired difference from the runner-up has a 95 % CI
        clear of 0, with ``pairs``; without, when the two structures' own 95 %
        CIs do not overlap; False when not or unknown).
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
            if pairs is not None:
                sign = paired_sign(
                    pairs, point, kpi, str(best["structure"]), str(second["structure"])
                )
                apart = sign == (1 if higher else -1)
            elif higher:
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
    scenarios = {p.index: p.scenario for p in sweep.points}
    for point, runs in table.groupby("point", sort=True):
        scored = score_claims(runs, claims, scenarios[point])
        scored.insert(0, "point", point)
        frames.append(scored)
    scored = pd.concat(frames, ignore_index=True)
    scored = sweep.point_table().merge(scored, on="point", how="right")
    columns = ["point", *(a.name for a in sweep.axes), "id", "claim", "verdict"]
    scored = scored[columns + ["difference", "ci_low", "ci_high"]]
    previous = scored.groupby("id", sort=False)["verdict"].shift()
    scored["changed"] = previous.notna() & (previous != scored["verdict"])
    return scored


MAX_HELD = 4
"""At most this many combinations of the other axes are described per axis."""


def findings(
    summary: pd.DataFrame,
    crossings: pd.DataFrame,
    sweep: Sweep,
    pairs: pd.DataFrame | None = None,
) -> list[str]:
    """What the sweep found about its key KPIs, in words: the leader along each axis.

    For each axis (and each combination of the other axes' values, at most
    ``MAX_HELD``): which structure leads at the ends, and where the lead changes
    hands clearly (the two structures' 95 % CIs separate on both sides of the
    crossing) or only inside the noise ("no clear change").
    """
    lines = []
    for kpi in sweep.kpis:
        lines += _kpi_findings(summary, crossings, sweep, kpi, pairs)
    return lines


def _kpi_findings(
    summary: pd.DataFrame, crossings: pd.DataFrame, sweep: Sweep, kpi: str, pairs
) -> list[str]:
    """``findings`` for one KPI."""
    spec = kpi_spec(kpi)
    board = winners(summary, sweep, kpi, pairs)
    lines = []
    for axis in sweep.axes:
        others = [a.name for a in sweep.axes if a is not axis]
        groups = board.groupby(others, sort=False) if others else [((), board)]
        for count, (held, group) in enumerate(groups):
            if count == MAX_HELD:
                lines.append(f"(and {len(list(groups)) - MAX_HELD} more combinations: see below)")
                break
            held = held if isinstance(held, tuple) else (held,)
            at = "; ".join(f"{n} = {v}" for n, v in zip(others, held, strict=True))
            lines.append(_axis_finding(spec, axis, group, crossings, at))
    return lines


def _axis_finding(spec, axis, group: pd.DataFrame, crossings: pd.DataFrame, at: str) -> str:
    """One sentence: the leader of ``spec``'s KPI along ``axis`` with the others at ``at``."""
    values = [str(v) for v in axis.labels]
    leaders = [structure_label(w) if w else "-" for w in group["winner"]]
    clear = int(group["clear"].sum())
    head = f"{spec.in_sentence} along {axis.name} ({values[0]} to {values[-1]}"
    head += f", {at})" if at else ")"
    if not axis.numeric:
        listed = ", ".join(f"{v}: {w}" for v, w in zip(values, leaders, strict=True))
        head = head[:1].upper() + head[1:]
        return f"{head}: the leader is {listed} (clear at {clear} of {len(values)} values)."
    marks = crossings[
        (crossings["kpi"] == spec.name)
        & (crossings["parameter"] == axis.name)
        & (crossings["at"] == at.replace(" = ", "=").replace("; ", ", "))
    ]
    real = marks[marks["clear"]]
    text = f"{head[:1].upper()}{head[1:]}: "
    if len(set(leaders)) == 1:
        text += f"{leaders[0]} leads at every value (clearly at {clear} of {len(values)})"
    else:
        text += f"{leaders[0]} leads at {values[0]}, {leaders[-1]} at {values[-1]}"
    if len(real):
        passes = "; ".join(
            f"the lead passes from {structure_label(r.leader_before)} to "
            f"{structure_label(r.leader_after)} near {r.value:.3g}"
            for r in real.itertuples(index=False)
        )
        text += f"; {passes} (clear: the 95 % CIs separate on both sides)"
    unclear = len(marks) - len(real)
    if unclear:
        text += (
            f"; {unclear} crossing{'s' if unclear > 1 else ''} of the means where the CIs "
            "overlap: no clear change"
        )
    return text + "."
