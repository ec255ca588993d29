"""Which assumptions decide the verdict: leaders per value, the bisection, the sentences.

A verdict ("run Pods") rests on numbers nobody measured. For each such
assumption, ``python -m sim sensitivity`` runs the structures at the ends of
its range (and at the scenario's own value) on common random numbers, and
asks per objective: is the leading structure the same everywhere? Where the
leader at two neighbouring values differs, the value at which it changes is
found by bisection: try the middle, keep the half where the leader still
changes, until the interval is narrower than the tolerance. The answer is a
sentence per objective ("Pods lead on profit unless the relay drop inside a
pod exceeds 4 %") and a tornado chart of the leader's margin over the range.

The leader is the structure with the best mean over the replications, as in
the verdict (``verdict.best_structure``). Pure pandas: everything here works
on per-run KPI tables; running the structures is ``sim.sensitivity``'s job.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from sim.analysis.compare import paired_differences, structure_order
from sim.analysis.kpis import kpi_spec
from sim.analysis.verdict import best_structure, objective_name
from sim.config.assumptions import Assumption
from sim.config.names import structure_label

TABLE_COLUMNS: tuple[str, ...] = (
    "objective",
    "assumption",
    "label",
    "scale",
    "low",
    "high",
    "base_value",
    "base_leader",
    "leader_at_low",
    "leader_at_high",
    "margin_at_low",
    "margin_at_base",
    "margin_at_high",
    "changes_leader",
    "switch_below",
    "leader_below",
    "switch_above",
    "leader_above",
    "half_width",
    "clear_below",
    "clear_above",
)
"""``sensitivity.csv``: one row per objective and assumption. ``margin_*`` is the base
leader's advantage over the best other structure (in the better direction, negative when
it is behind); ``switch_below``/``switch_above`` the value below/above the scenario's
where the leader changes, to ``leader_below``/``leader_above``, within ``half_width``;
``clear_below``/``clear_above`` whether, at that end of the range, the new leader's paired
95 % CI over the old one excludes 0 (else the change is within the replications' noise)."""


def leader(kpis: pd.DataFrame, objective: str) -> str:
    """The structure with the best mean on ``objective`` (the first in report order on a tie)."""
    order = structure_order(kpis)
    means = kpis.groupby("structure", observed=True, sort=False)[objective].mean()
    means = means.reindex(order).dropna()
    return best_structure(means, kpi_spec(objective).better) if len(means) else ""


def clear_lead(kpis: pd.DataFrame, objective: str, ahead: str, behind: str) -> bool:
    """Whether ``ahead`` beats ``behind`` on ``objective`` beyond noise, on common random numbers.

    The per-replication differences (same replication = same leads and luck)
    have a paired 95 % t interval; the lead is clear when it excludes 0 in
    the better direction. With one replication nothing is clear.
    """
    pairs = kpis[kpis["structure"].astype(str).isin([ahead, behind])]
    if set(pairs["structure"].astype(str)) != {ahead, behind}:
        return False
    row = paired_differences(pairs, behind, [objective]).iloc[0]
    better = kpi_spec(objective).better
    return bool(min(row["ci_low"] * better, row["ci_high"] * better) > 0)


def lead_margin(kpis: pd.DataFrame, objective: str, structure: str) -> float:
    """``structure``'s mean advantage over the best other structure (negative: behind)."""
    means = kpis.groupby("structure", observed=True, sort=False)[objective].mean().dropna()
    if structure not in means.index or len(means) < 2:
        return math.nan
    scores = means * kpi_spec(objective).better
    return float(scores[structure] - scores.drop(structure).max())


@dataclasses.dataclass
class Search:
    """The bisection of one leader change between two values of one assumption.

    ``inner`` is the value on the scenario's side (its leader ``inner_leader``),
    ``outer`` the value where another structure leads. Each step tries the
    middle: where the inner leader still leads, the interval's inner end moves
    there, else its outer end.
    """

    assumption: Assumption
    objective: str
    inner: float
    outer: float
    inner_leader: str
    outer_leader: str

    def middle(self) -> float:
        """The next value to try."""
        return (self.inner + self.outer) / 2

    def narrowed(self, value: float, found: str) -> None:
        """Keep the half where the leader changes, given the leader ``found`` at ``value``."""
        if found == self.inner_leader:
            self.inner = value
        else:
            self.outer, self.outer_leader = value, found

    def done(self, tolerance: float) -> bool:
        """True when the interval is within ``tolerance`` of the assumption's range."""
        span = self.assumption.high - self.assumption.low
        return abs(self.outer - self.inner) <= tolerance * span

    @property
    def switch(self) -> float:
        """The value where the leader changes: the middle of what is left."""
        return self.middle()

    @property
    def half_width(self) -> float:
        """How far the true switch may be from ``switch``."""
        return abs(self.outer - self.inner) / 2

    @property
    def above(self) -> bool:
        """True when the change lies above the scenario's side (the assumption grows)."""
        return self.outer > self.inner


def anchors(assumption: Assumption, base: float) -> list[float]:
    """The values every assumption is run at: its ends, and the scenario's value when inside."""
    inside = assumption.low < base < assumption.high
    return [assumption.low, base, assumption.high] if inside else [assumption.low, assumption.high]


def searches(
    assumption: Assumption, base: float, objective: str, leaders: dict[float, str]
) -> list[Search]:
    """The leader changes between neighbouring anchors, each to be bisected.

    With the scenario's value inside the range, the searches start from it
    towards each end; otherwise from the low end towards the high one.
    """
    points = anchors(assumption, base)
    found = []
    if len(points) == 3:
        pairs = [(points[1], points[0]), (points[1], points[2])]
    else:
        pairs = [(points[0], points[1])]
    for inner, outer in pairs:
        if leaders[inner] != leaders[outer]:
            found.append(
                Search(assumption, objective, inner, outer, leaders[inner], leaders[outer])
            )
    return found


def result_rows(
    assumption: Assumption,
    base: float,
    objective: str,
    tables: dict[float, pd.DataFrame],
    finished: list[Search],
) -> dict[str, object]:
    """One row of ``sensitivity.csv`` from the anchors' KPI tables and the finished searches."""
    low, high = assumption.low, assumption.high
    base_table = tables.get(base, tables[low])
    base_leader = leader(base_table, objective)
    row: dict[str, object] = {
        "objective": objective,
        "assumption": assumption.name,
        "label": assumption.label,
        "scale": assumption.scale,
        "low": low,
        "high": high,
        "base_value": base,
        "base_leader": base_leader,
        "leader_at_low": leader(tables[low], objective),
        "leader_at_high": leader(tables[high], objective),
        "margin_at_low": lead_margin(tables[low], objective, base_leader),
        "margin_at_base": lead_margin(base_table, objective, base_leader),
        "margin_at_high": lead_margin(tables[high], objective, base_leader),
        "changes_leader": bool(finished),
        "switch_below": math.nan,
        "leader_below": "",
        "switch_above": math.nan,
        "leader_above": "",
        "half_width": math.nan,
        "clear_below": False,
        "clear_above": False,
    }
    for search in finished:
        side = "above" if search.above else "below"
        row[f"switch_{side}"] = search.switch
        row[f"leader_{side}"] = search.outer_leader
        end = tables[high if search.above else low]
        row[f"clear_{side}"] = clear_lead(end, objective, search.outer_leader, base_leader)
        widest = row["half_width"]
        row["half_width"] = (
            search.half_width if math.isnan(widest) else max(widest, search.half_width)
        )
    return row


def _verb(structure: str) -> str:
    label = structure_label(structure)
    return f"{label} {'lead' if label.endswith('s') else 'leads'}"


def condition_text(assumption: Assumption, row: pd.Series, side: str) -> str:
    """``the relay drop inside a pod exceeds 4 % (then the Conveyor leads)``."""
    value = row[f"switch_{side}"]
    word = "exceeds" if side == "above" else "falls below"
    return (
        f"{assumption.label} {word} {assumption.text(value)} "
        f"(± {assumption.text(row['half_width']).split(' x ')[0]}; "
        f"then {_verb(row[f'leader_{side}'])})"
    )


def objective_sentence(
    table: pd.DataFrame, objective: str, assumptions: dict[str, Assumption]
) -> str:
    """The answer for one objective: who leads, and unless which assumption says otherwise."""
    rows = table[table["objective"] == objective]
    if rows.empty:
        return f"No assumption was varied for {objective_name(objective)}."
    base_leader = str(rows["base_leader"].iloc[0])
    head = f"{_verb(base_leader)} on {objective_name(objective)}"
    changing = rows[rows["changes_leader"]]
    if changing.empty:
        plural = "" if len(rows) == 1 else "s"
        return f"{head} over every range tried ({len(rows)} assumption{plural}, one at a time)."
    clear, noisy = [], []
    for _, row in changing.iterrows():
        for side in ("below", "above"):
            if isinstance(row[f"leader_{side}"], str) and row[f"leader_{side}"]:
                text = condition_text(assumptions[row["assumption"]], row, side)
                (clear if bool(row.get(f"clear_{side}", True)) else noisy).append(text)
    if clear:
        sentence = f"{head} unless " + "; or unless ".join(clear) + "."
    else:
        sentence = f"{head} over every range tried, beyond the noise of the replications."
    if noisy:
        sentence += (
            " Within that noise (the new leader's paired 95 % CI at the end of the range "
            "includes no difference), the leader also changes when "
            + "; or when ".join(noisy)
            + ": more replications (--only NAME --replications 10) would tell."
        )
    return sentence


def tornado_order(table: pd.DataFrame, objective: str) -> pd.DataFrame:
    """An objective's rows, the widest swing of the leader's margin first."""
    rows = table[table["objective"] == objective].copy()
    rows["swing"] = (rows["margin_at_high"] - rows["margin_at_low"]).abs()
    return rows.sort_values(["changes_leader", "swing"], ascending=False, kind="stable")
