"""The best value of a swept parameter per structure and objective, and how sure it is.

A sweep over the switch day asks "switch now, in six months, or never?":
for each structure and key KPI, ``best_points`` takes the grid point with
the best mean and compares it with the runner-up point replication by
replication. Every run is seeded by its replication alone, so replication
``r`` meets the same leads with the same luck at every grid point (common
random numbers), as two structures do in ``compare``: the paired
difference cancels that luck. A best point is *clear* when the paired 95 %
confidence interval of its lead over the runner-up excludes zero. The row
``structure = "any"`` ranks every (structure, point) path together: the
best path overall (with the structures as the target of a switch, "Pods at
day 365" against "Conveyor at day 180"; a switch "never" is the same run as
the structure it starts as, and counts once).
"""

from __future__ import annotations

import pandas as pd

from sim.analysis.kpis import kpi_spec
from sim.analysis.stats import mean_ci
from sim.sweep.spec import Sweep

ANY_STRUCTURE = "any"
"""The ``structure`` of the row that ranks every structure's points together."""

BEST_POINT_COLUMNS: tuple[str, ...] = (
    "kpi", "structure", "best", "best_mean", "runner_up", "runner_up_mean", "margin",
    "ci_low", "ci_high", "clear", "replications",
)  # fmt: skip
"""Columns of ``best_points.csv``."""


def point_labels(sweep: Sweep) -> dict[int, str]:
    """Each grid point as text, ``axis=value`` joined by commas (``switch_day=365``)."""
    table = sweep.point_table()
    names = [axis.name for axis in sweep.axes]
    return {
        int(row["point"]): ", ".join(f"{name}={row[name]}" for name in names)
        for _, row in table.iterrows()
    }


def best_points(table: pd.DataFrame, sweep: Sweep, confidence: float = 0.95) -> pd.DataFrame:
    """Per key KPI and structure (and over all structures), the best point and its margin.

    Args:
        table: the sweep table (``summary.sweep_table``: one row per run).
        sweep: the sweep.
        confidence: of the paired interval.

    Returns:
        One row per (kpi, structure) with ``BEST_POINT_COLUMNS``: the best and
        runner-up points (labels) and means, the margin (best minus runner-up,
        in the KPI's unit, positive when the KPI is better higher), its paired
        interval and whether it is clear of zero. A structure whose KPI the grid
        does not move (every point's mean equal) has no row; nor does a grid of
        one point.
    """
    labels = point_labels(sweep)
    rows = []
    for kpi in sweep.kpis:
        if kpi not in table:
            continue
        higher = kpi_spec(kpi).direction != "lower"
        wide = table.pivot_table(
            index="replication", columns=["structure", "point"], values=kpi, observed=True
        )
        for structure in (*sweep.structures, ANY_STRUCTURE):
            paths = wide if structure == ANY_STRUCTURE else _one_structure(wide, structure)
            row = _best(paths, higher, confidence)
            if row is None:
                continue
            show = structure == ANY_STRUCTURE
            row["best"] = _path_label(row.pop("best_path"), labels, show)
            row["runner_up"] = _path_label(row.pop("runner_up_path"), labels, show)
            rows.append({"kpi": kpi, "structure": structure, **row})
    return pd.DataFrame(rows, columns=list(BEST_POINT_COLUMNS))


def _one_structure(wide: pd.DataFrame, structure: str) -> pd.DataFrame:
    if structure not in wide.columns.get_level_values("structure"):
        return wide.iloc[:, :0]
    return wide.loc[:, [column for column in wide.columns if column[0] == structure]]


def _best(paths: pd.DataFrame, higher: bool, confidence: float) -> dict | None:
    """The best column of ``paths`` against the runner-up, paired by replication.

    Paths with the very same value in every replication are one path (a switch
    "never" is the starting structure's run): the first in table order is kept.
    """
    paths = paths.loc[:, ~paths.T.duplicated()]
    means = paths.mean()
    if len(means.dropna()) < 2 or means.nunique() < 2:
        return None
    ranked = means.dropna().sort_values(ascending=not higher, kind="stable")
    best, second = ranked.index[0], ranked.index[1]
    difference = (paths[best] - paths[second]).dropna().to_numpy(dtype=float)
    margin, low, high = mean_ci(difference, confidence)
    clear = low > 0 if higher else high < 0  # NaN bounds compare False: not clear
    return {
        "best_path": best,
        "best_mean": float(ranked.iloc[0]),
        "runner_up_path": second,
        "runner_up_mean": float(ranked.iloc[1]),
        "margin": margin,
        "ci_low": low,
        "ci_high": high,
        "clear": bool(clear),
        "replications": len(difference),
    }


def _path_label(path: tuple[str, int], labels: dict[int, str], with_structure: bool) -> str:
    structure, point = path
    return f"{structure}: {labels[int(point)]}" if with_structure else labels[int(point)]


def best_lines(best: pd.DataFrame) -> list[str]:
    """One sentence per row of ``best_points``, for the terminal and the report."""
    lines = []
    for row in best.itertuples(index=False):
        who = "over all structures" if row.structure == ANY_STRUCTURE else row.structure
        sure = (
            f"clear: paired 95 % CI of the margin {row.ci_low:+.4g} to {row.ci_high:+.4g}"
            if row.clear
            else f"not clear: paired 95 % CI {row.ci_low:+.4g} to {row.ci_high:+.4g} includes 0"
        )
        lines.append(
            f"{kpi_spec(row.kpi).label} ({who}): best {row.best} ({row.best_mean:.4g}), "
            f"then {row.runner_up} ({row.runner_up_mean:.4g}); margin {row.margin:+.4g}, {sure}"
        )
    return lines
