"""The verdict: which structure to run, by how much, how sure, and what it would take.

A sales leader reads the first lines of a report and decides. So the report
opens with one answer per objective the scenario names (``decision.objectives``:
by default profit over the horizon, the yearly revenue of the book built, wins
per 30 days and cost per won deal): the best structure, its margin over every
other with the paired 95 % interval, and a plain sentence.

How the best is chosen and how sure the answer is:

* The best structure on an objective has the best mean over the replications.
* Its margin over another structure is the mean of the per-replication
  differences (the same leads and the same luck in both: common random
  numbers), with a t interval on them.
* A margin counts as *clear* when its paired t test rejects "no difference"
  under Holm's step-down over every comparison of the verdict together
  (objectives x other structures). Picking the best and then testing it
  against each other is a family of tests; Holm keeps the chance that any
  clear margin is luck below 1 - ``decision.confidence``.
* An unclear margin says how many replications would make it clear if it is
  as large as measured (``stats.replications_to_separate``, at the level of
  Bonferroni's correction, which Holm's first step uses: an upper figure).

The result is a table (``verdict.csv``) and the sentences the terminal and
the report print. Pure pandas on the per-run KPI table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from sim.analysis.compare import structure_order
from sim.analysis.kpis import format_value, kpi_spec
from sim.analysis.money import annual_retention
from sim.analysis.selection import Selection
from sim.analysis.stats import holm, mean_ci, paired_test, replications_needed
from sim.config.names import structure_label
from sim.config.schema import Scenario

VERDICT_COLUMNS: tuple[str, ...] = (
    "objective",
    "best",
    "structure",
    "best_mean",
    "structure_mean",
    "margin",
    "ci_low",
    "ci_high",
    "p_value",
    "clear",
    "replications",
    "replications_to_separate",
)
"""``verdict.csv``: one row per objective and structure other than the best; ``margin`` is
the best's advantage in the better direction (positive = the best is ahead), its CI too."""


@dataclass(frozen=True)
class Verdict:
    """The answer per objective.

    Attributes:
        table: ``VERDICT_COLUMNS``, objectives in the scenario's order, then the
            other structures in report order.
        objectives: the objectives answered (present in the KPI table), in order.
        best: the best structure per objective.
        comparisons: how many comparisons Holm's correction covered.
        confidence: the family-wise confidence.
        replications: replications per structure.
        order: the structures in report order.
        levels: each objective's mean and 95 % CI per structure (objective,
            structure, mean, ci_low, ci_high).
    """

    table: pd.DataFrame
    objectives: list[str]
    best: dict[str, str]
    comparisons: int
    confidence: float
    replications: int
    order: tuple[str, ...]
    levels: pd.DataFrame

    def clear_best(self, objective: str) -> bool:
        """True when the best is clearly ahead of every other structure on ``objective``."""
        rows = self.table[self.table["objective"] == objective]
        return bool(len(rows)) and bool(rows["clear"].all())

    def tied_with_best(self, objective: str) -> list[str]:
        """Structures the best could not be told apart from on ``objective``."""
        rows = self.table[(self.table["objective"] == objective) & ~self.table["clear"]]
        return list(rows["structure"])


def best_structure(means: pd.Series, better: int) -> str:
    """The structure with the best mean; the first in report order on a tie."""
    scores = means * better
    return str(scores.idxmax())


def build_verdict(
    kpis: pd.DataFrame, objectives: tuple[str, ...] | list[str], confidence: float = 0.95
) -> Verdict:
    """The verdict on the per-run KPI table.

    Args:
        kpis: one row per (structure, replication) (``kpi_values.run_kpis``).
        objectives: KPI names, each with a better direction; those missing from
            the table or undefined for every structure are left out.
        confidence: family-wise, over all comparisons of the verdict.

    Returns:
        The verdict; with one structure its table is empty.
    """
    order = structure_order(kpis)
    runs = {
        name: group.set_index("replication")
        for name, group in kpis.groupby("structure", observed=True, sort=False)
    }
    rows, best, answered, levels = [], {}, [], []
    for objective in objectives:
        if objective not in kpis.columns or not kpis[objective].notna().any():
            continue
        spec = kpi_spec(objective)
        means = pd.Series({name: runs[name][objective].mean() for name in order}).dropna()
        if means.empty:
            continue
        answered.append(objective)
        for name in means.index:
            mean, low, high = mean_ci(runs[name][objective], confidence)
            low, high = spec.clip(low, high)
            levels.append((objective, name, mean, low, high))
        winner = best[objective] = best_structure(means, spec.better)
        for other in order:
            if other == winner:
                continue
            pairs = (runs[winner][objective] - runs[other][objective]) * spec.better
            test = paired_test(pairs.to_numpy(dtype=float), confidence)
            rows.append(
                {
                    "objective": objective,
                    "best": winner,
                    "structure": other,
                    "best_mean": float(means.get(winner, math.nan)),
                    "structure_mean": float(means.get(other, math.nan)),
                    **test._asdict(),
                }
            )
    table = pd.DataFrame(rows).rename(columns={"difference": "margin"})
    table = table.reindex(columns=[*VERDICT_COLUMNS, "sd"])
    alpha = 1 - confidence
    table["clear"] = holm(table["p_value"], alpha) & (table["margin"] > 0)
    family = max(int(table["p_value"].notna().sum()), 1)
    table["replications_to_separate"] = replications_needed(
        table["margin"], table["sd"], table["clear"], alpha / family
    )
    replications = int(kpis.groupby("structure", observed=True).size().max()) if len(kpis) else 0
    return Verdict(
        table=table[list(VERDICT_COLUMNS)],
        objectives=answered,
        best=best,
        comparisons=family if len(table) else 0,
        confidence=confidence,
        replications=replications,
        order=tuple(order),
        levels=pd.DataFrame(
            levels, columns=["objective", "structure", "mean", "ci_low", "ci_high"]
        ),
    )


def _amount(objective: str, value: float) -> str:
    """A margin as printed, without a sign: ``157,000``, ``2.51``, ``3.4 pp``."""
    return format_value(objective, abs(value)).removeprefix("+")


def margin_text(objective: str, row: pd.Series) -> str:
    """``earns 157,000 more profit than the Conveyor (95 % CI 89,000 to 225,000)``."""
    spec = kpi_spec(objective)
    other = structure_label(row["structure"])
    amount = _amount(objective, row["margin"])
    if spec.ahead:
        head = spec.ahead.format(margin=amount) + f" than {other}"
    else:
        unit = "" if spec.format in ("percent", "points", "money") else f" {spec.difference_unit}"
        head = f"is ahead of {other} on {spec.label} by {amount}{unit}"
    if not (math.isfinite(row["ci_low"]) and math.isfinite(row["ci_high"])):
        return head + " (one replication: no interval)"
    low = format_value(objective, row["ci_low"])
    high = format_value(objective, row["ci_high"])
    return f"{head} (95 % CI {low} to {high})"


def objective_name(objective: str) -> str:
    """An objective's name inside a sentence: ``profit``, ``wins per 30 days``."""
    return kpi_spec(objective).in_sentence


def objective_title(objective: str, horizon_days: float) -> str:
    """What an objective asks, in a sales leader's words (``KpiSpec.heading``)."""
    return kpi_spec(objective).heading_for(horizon_days)


PRACTICAL_REPLICATIONS = 1_000
"""A margin that needs more replications than this to be told apart is called practically
equal: it is small against the noise of one year's leads."""


def names_in_words(structures: list[str]) -> str:
    """``All-In``, ``All-In and Pods``, ``All-In, Conveyor and Pods``."""
    labels = [structure_label(s) for s in structures]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _unclear_text(verdict: Verdict, row: pd.Series) -> str:
    """Why an unclear margin is unclear, and the replications that would settle it."""
    needed = row["replications_to_separate"]
    if not math.isfinite(needed) or needed > PRACTICAL_REPLICATIONS:
        return (
            f"practically equal (telling them apart would take more than "
            f"{PRACTICAL_REPLICATIONS:,} replications)"
        )
    settle = f"about {int(needed):,} replications would settle it if the margin is as measured"
    if row["ci_low"] > 0:
        return (
            f"likely, but not yet sure with {verdict.comparisons} comparisons made at once; "
            + settle
        )
    return f"not clear at {verdict.replications} replications; " + settle


def answer_lines(verdict: Verdict, objective: str) -> list[str]:
    """The answer to one objective: who is best, then each margin, the runner-up's first."""
    rows = verdict.table[verdict.table["objective"] == objective]
    winner = verdict.best[objective]
    best = structure_label(winner)
    if rows.empty:
        return [f"{best}: {_level_text(verdict, objective, winner)}."]
    unclear = rows[~rows["clear"]]
    if unclear.empty:
        lines = [f"{best}, clearly."]
    else:
        tied = names_in_words([winner, *unclear["structure"]])
        lines = [f"{best} leads; {tied} cannot be told apart yet."]
    for _, row in rows.sort_values("margin", kind="stable").iterrows():
        why = "" if row["clear"] else f": {_unclear_text(verdict, row)}"
        lines.append(f"{best} {margin_text(objective, row)}{why}.")
    return lines


def _contenders(verdict: Verdict) -> dict[str, list[str]]:
    """Per structure, the objectives on which it is best or not told apart from the best."""
    contenders: dict[str, list[str]] = {}
    for objective in verdict.objectives:
        for name in [verdict.best[objective], *verdict.tied_with_best(objective)]:
            contenders.setdefault(name, []).append(objective)
    return contenders


def _what_would_settle(verdict: Verdict) -> str:
    """How many replications would settle the open comparisons that can be settled."""
    table = verdict.table
    open_rows = table[~table["clear"]]
    needed = open_rows["replications_to_separate"]
    settleable = needed[needed <= PRACTICAL_REPLICATIONS]
    if open_rows.empty:
        return ""
    if settleable.empty:
        return (
            f"The {len(open_rows)} open comparisons are practically equal: more replications "
            "would not change the choice."
        )
    rest = len(open_rows) - len(settleable)
    most = int(settleable.max())
    half = int(settleable.sort_values().iloc[(len(settleable) - 1) // 2])
    steps = [half, most] if half < most else [most]
    parts = [
        f"about {n:,} replications (--replications {n}) would settle "
        f"{int((settleable <= n).sum())} of the {len(open_rows)} open comparisons"
        for n in steps
    ]
    text = "; ".join(parts) + ", if the margins are as measured"
    return (
        text[:1].upper()
        + text[1:]
        + (f"; the other {rest} {'is' if rest == 1 else 'are'} practically equal." if rest else ".")
    )


def _level_text(verdict: Verdict, objective: str, structure: str) -> str:
    """``-1,242,551 (95 % CI -3,400,000 to 900,000)``: one structure's mean on an objective."""
    levels = verdict.levels
    row = levels[(levels["objective"] == objective) & (levels["structure"] == structure)]
    if row.empty:
        return "-"
    mean, low, high = row[["mean", "ci_low", "ci_high"]].iloc[0]
    text = format_value(objective, mean)
    if math.isfinite(low) and math.isfinite(high):
        text += f" (95 % CI {format_value(objective, low)} to {format_value(objective, high)})"
    return text


def overall_lines(verdict: Verdict) -> list[str]:
    """The recommendation across objectives, how sure it is, and what would settle the rest."""
    if not verdict.objectives:
        return ["No objective could be measured on this run."]
    if verdict.table.empty:
        alone = verdict.order[0]
        results = "; ".join(
            f"{objective_name(o)} {_level_text(verdict, o, alone)}" for o in verdict.objectives
        )
        return [
            f"{structure_label(alone)} on its own (no other structure to choose from): {results}."
        ]
    contenders = _contenders(verdict)
    most = max(len(objectives) for objectives in contenders.values())
    top = [s for s in verdict.order if len(contenders.get(s, ())) == most]
    count = len(verdict.objectives)
    settled = [o for o in verdict.objectives if verdict.clear_best(o)]
    if len(top) == 1 and len(settled) == count and len(set(verdict.best.values())) == 1:
        first = f"Run {names_in_words(top)}: clearly the best on all {count} objectives."
    elif len(top) == 1:
        first = (
            f"Run {names_in_words(top)}: best, or not told apart from the best, on {most} of "
            f"{count} objectives."
        )
    else:
        first = (
            f"No single structure is clearly best yet: {names_in_words(top)} are each best, or "
            f"not told apart from the best, on {most} of {count} objectives."
        )
    lines = [first]
    behind = [s for s in verdict.order if s not in contenders]
    if behind:
        lines.append(
            f"{names_in_words(behind)} {'is' if len(behind) == 1 else 'are'} clearly behind on "
            f"every objective."
        )
    lines.append(
        f"{len(settled)} of {count} objectives settled at {100 * verdict.confidence:.0f} % "
        f"confidence, for all {verdict.comparisons} comparisons together (Holm's correction)."
    )
    if settle := _what_would_settle(verdict):
        lines.append(settle)
    return lines


def opening_lines(verdict: Verdict, selection: dict | None) -> list[str]:
    """The verdict's first lines: the selection when one was decided, else the recommendation.

    A decided selection answers "which structure?" for the first objective with
    the user's own indifference zone; the recommendation's first sentence, which
    asks for clear margins of any size, would only contradict it.
    """
    overall = overall_lines(verdict)
    if selection and selection.get("decided") and selection.get("method") == "kim_nelson":
        overall = overall[1:]
    return [*selection_lines(selection), *overall]


def verdict_lines(
    verdict: Verdict, horizon_days: float, selection: dict | None = None
) -> list[str]:
    """The verdict as the terminal prints it: selection, recommendation, each objective."""
    alone = len(verdict.order) == 1
    lines = ["What the run found:" if alone else "Which structure to run:"]
    lines += [f"  {line}" for line in opening_lines(verdict, selection)]
    if alone:
        return lines
    for objective in verdict.objectives:
        first, *rest = answer_lines(verdict, objective)
        lines += ["", f"{objective_title(objective, horizon_days)}: {first}"]
        lines += [f"  - {line}" for line in rest]
    return lines


def selection_document(
    selection: Selection,
    objective: str,
    *,
    indifference: float | None,
    precision: float | None,
    confidence: float,
    first_stage: int,
    max_replications: int,
) -> dict:
    """What ``compare --select-best`` did, as saved in ``selection.json``."""
    return {
        "objective": objective,
        "method": "kim_nelson" if indifference is not None else "precision",
        "indifference": indifference,
        "precision": precision if indifference is None else None,
        "confidence": confidence,
        "first_stage": first_stage,
        "max_replications": max_replications,
        "replications": int(selection.replications),
        "bound": int(selection.bound) or None,
        "decided": bool(selection.decided),
        "best": str(selection.best),
        "contenders": [str(name) for name in selection.contenders],
        "eliminated": {str(name): int(at) for name, at in selection.eliminated.items()},
    }


def selection_lines(document: dict | None) -> list[str]:
    """``selection.json`` in words: what was selected, with which guarantee, at what cost."""
    if not document:
        return []
    objective = document["objective"]
    label = objective_name(objective)
    best = structure_label(document["best"])
    replications = document["replications"]
    if document["method"] == "precision":
        share = f"{100 * document['precision']:g} %"
        if document["decided"]:
            return [
                f"Replications were added until every structure's 95 % CI of {label} was within "
                f"{share} of its mean: reached at {replications} replications."
            ]
        return [
            f"The precision asked ({share} of the mean for {label}) was not reached within "
            f"{replications} replications (--max-replications)."
        ]
    zone = format_value(objective, document["indifference"])
    dropped = ", ".join(
        f"{structure_label(name)} after {count}" for name, count in document["eliminated"].items()
    )
    cost = (
        f"{replications} replications, the first {document['first_stage']} for every "
        "structure" + (f"; dropped from contention: {dropped}" if dropped else "")
    )
    if document["decided"]:
        return [
            f"Selected {best} as the best on {label} (Kim and Nelson's procedure, {cost}).",
            f"Guarantee: if the best structure is at least {zone} ahead of every other, it is "
            f"the one selected with probability at least {100 * document['confidence']:.0f} %; "
            f"if some are closer than {zone}, the one selected is within {zone} of the best.",
        ]
    contenders = names_in_words(document["contenders"])
    return [
        f"Not decided within {replications} replications (--max-replications): {contenders} "
        f"are still in contention on {label}; the procedure stops by {document['bound']:,} "
        f"replications at the latest ({cost})."
    ]


def _money_range(values: pd.Series) -> str:
    """``-1.45 to -1.26 million``, or one amount when every value is the same."""
    low, high = float(values.min()), float(values.max())
    scale, unit, digits = (1e6, " million", 2) if max(abs(low), abs(high)) >= 1e6 else (1, "", 0)
    if f"{low / scale:,.{digits}f}" == f"{high / scale:,.{digits}f}":
        return f"{low / scale:,.{digits}f}{unit}"
    return f"{low / scale:,.{digits}f} to {high / scale:,.{digits}f}{unit}"


def economics_lines(summary: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Why every structure may lose money in the horizon, and what the book built is worth.

    Said only when every structure's mean profit over the horizon is negative:
    a sales leader reading "all four lose money" needs to know the horizon
    paid for customers who keep paying after it.
    """
    means = summary.set_index(["kpi", "structure"])["mean"]
    if "profit" not in means.index.get_level_values(0):
        return []
    profit = means.loc["profit"].dropna()
    if profit.empty or (profit >= 0).any():
        return []
    days = f"{scenario.horizon_days:g} days"
    who = (
        "Every structure spends"
        if len(profit) > 1
        else f"{structure_label(str(profit.index[0]))} spends"
    )
    first = (
        f"{who} more than it earns within the {days} (profit "
        f"{_money_range(profit)}): the period pays for a team that builds a book of customers "
        "who keep paying after it."
    )
    money = scenario.money
    if money.book_years == 0 or "profit_with_book" not in means.index.get_level_values(0):
        return [first]
    churn = 1 - annual_retention(scenario)
    with_book = means.loc["profit_with_book"].dropna()
    return [
        first,
        f"Counting that book (its margin for {money.book_years} more years less the cost to "
        f"serve it, {100 * churn:.0f} % churn a year, discounted at "
        f"{100 * money.discount_rate_per_year:g} % a year), profit is "
        f"{_money_range(with_book)} (profit_with_book; money.book_years and "
        "money.discount_rate_per_year set it).",
    ]
