"""A capacity plan's outputs: the tables, the document, the files and the printed text.

The search (``sim.plan.search``) ends with one ``StructurePlan`` per
structure: the team it settled on, its verdict and every team it tried on the
way. Here they become what a sales leader reads, like a hiring request with
its workings attached: ``plan.csv`` (one row per structure: verdict, team,
wins, cost, profit), ``path.csv`` (every team tried), ``plan.json`` (the
settings and the resolved scenario), ``plan.png``, and the terminal's text.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sim.analysis.kpis import KPIS
from sim.config.scenario import Scenario
from sim.plan.goal import QUARTER_DAYS, Target
from sim.plan.search import HEADCOUNT_FIELDS, StructurePlan, role_totals, team_text
from sim.version import __version__


def goal_of(plan: StructurePlan) -> Target:
    """The plan's target as a ``Target``."""
    return Target(plan.kpi, plan.target)  # type: ignore[arg-type]


def _values(evaluation: Any, kpis: tuple[str, ...]) -> dict[str, float]:
    """``<kpi>_per_quarter`` with its CI columns, for wins and the target's KPI."""
    out = {}
    for kpi in dict.fromkeys(kpis):
        mean, low, high = evaluation.interval(kpi)
        name = f"{kpi}_per_quarter"
        out.update({name: mean, f"{name}_ci_low": low, f"{name}_ci_high": high})
    return out


def plan_table(plans: list[StructurePlan]) -> pd.DataFrame:
    """One row per structure: verdict, reps per role, the target's KPI, cost, profit, P(reach)."""
    rows = []
    for plan in plans:
        final = plan.final
        totals = role_totals(final.team)
        row: dict[str, Any] = {
            "structure": plan.structure,
            "verdict": plan.verdict,
            "target_kpi": plan.kpi,
            "target_per_quarter": plan.target,
            "criterion": plan.criterion,
            "objective": plan.objective,
            "probability_target_reached": plan.probability,
            "budget_per_year": plan.budget_per_year,
        }
        row.update({role: totals.get(role) for role in HEADCOUNT_FIELDS})
        row.update(
            {
                "headcount": final.headcount,
                "team": team_text(final.team),
                **_values(final, ("wins", plan.kpi)),
                **final.kpis,
                "cost_per_year": final.cost_per_year,
                "minimal": plan.minimal,
                "simulations": plan.simulations,
                "replications": plan.replications,
            }
        )
        rows.append(row)
    table = pd.DataFrame(rows)
    for role in HEADCOUNT_FIELDS:
        table[role] = table[role].astype("Int64")
    return table


def path_table(plans: list[StructurePlan]) -> pd.DataFrame:
    """Every team tried, in order: one row per structure and step."""
    rows = []
    for plan in plans:
        for step in plan.steps:
            totals = role_totals(step.evaluation.team)
            row: dict[str, Any] = {
                "structure": plan.structure,
                "step": step.number,
                "phase": step.phase,
                "change": step.change,
                "accepted": step.accepted,
                "reason": step.reason,
            }
            row.update({role: totals.get(role) for role in HEADCOUNT_FIELDS})
            row.update(
                {
                    "headcount": step.evaluation.headcount,
                    "team": team_text(step.evaluation.team),
                    **_values(step.evaluation, ("wins", plan.kpi)),
                    "gain": step.gain,
                    "gain_ci_low": step.gain_ci_low,
                    "gain_ci_high": step.gain_ci_high,
                    "cost": step.evaluation.kpis["cost"],
                    "profit": step.evaluation.kpis["profit"],
                    "cost_per_year": step.evaluation.cost_per_year,
                    "replications": step.evaluation.replications,
                }
            )
            rows.append(row)
    table = pd.DataFrame(rows)
    for role in HEADCOUNT_FIELDS:
        table[role] = table[role].astype("Int64")
    return table


VERDICT_TEXT: dict[str, str] = {
    "reached": "reached",
    "over_budget": "OVER BUDGET: the cheapest team found that reaches the target costs more a "
    "year than --budget-per-year",
    "not_reachable": "NOT REACHABLE: more reps add less than --min-gain per quarter each, "
    "even with every sales role doubled (lead volume, pass rates and losses are the limit, "
    "not headcount)",
    "max_steps": "UNDECIDED: --max-steps used up before the target was reached",
}
"""What each verdict means, as printed."""


def plan_document(
    plans: list[StructurePlan],
    scenario: Scenario,
    scenario_file: str | None,
    min_gain: float | None,
    max_steps: int,
) -> dict[str, Any]:
    """What ``plan.json`` holds: provenance, the resolved scenario, each plan and its path."""
    from sim.files.tables import json_safe

    structures = {}
    for plan, row, path in zip(
        plans,
        plan_table(plans).to_dict("records"),
        [path_table([p]).to_dict("records") for p in plans],
        strict=True,
    ):
        structures[plan.structure] = {
            "verdict": plan.verdict,
            "verdict_text": VERDICT_TEXT[plan.verdict],
            "team": [
                {"pod": pod or None, "role": role, "reps": count}
                for (pod, role), count in plan.final.team.items()
            ],
            "plan": {k: v for k, v in row.items() if k not in ("structure", "team")},
            "probability_target_reached": plan.probability,
            "wins_per_quarter_by_replication": list(plan.final.wins_per_quarter),
            f"{plan.kpi}_per_quarter_by_replication": list(plan.final.per_quarter[plan.kpi]),
            "path": path,
        }
    return json_safe(
        {
            "salesim_version": __version__,
            "scenario_file": scenario_file,
            "seed": scenario.seed,
            "replications": scenario.replications,
            "target_kpi": plans[0].kpi if plans else None,
            "target_per_quarter": plans[0].target if plans else None,
            "target_source": goal_of(plans[0]).source if plans else None,
            "budget_per_year": plans[0].budget_per_year if plans else None,
            "objective": plans[0].objective if plans else None,
            "criterion": plans[0].criterion if plans else None,
            "quarter_days": QUARTER_DAYS,
            "min_gain_per_quarter": min_gain,
            "max_steps": max_steps,
            "max_replications": plans[0].max_replications if plans else None,
            "confidence": 0.95,
            "structures": structures,
            "scenario": scenario.model_dump(mode="json"),
        }
    )


PLAN_FILES = ("plan.csv", "path.csv", "plan.json", "plan.png")
"""What ``write_plan`` writes into the plan folder."""


def write_plan(
    plans: list[StructurePlan],
    out_dir: Any,
    scenario: Scenario,
    scenario_file: str | None = None,
    min_gain: float | None = None,
    max_steps: int = 40,
    plots: bool = True,
) -> None:
    """Write plan.csv, path.csv, plan.json and plan.png into ``out_dir``, all or nothing.

    salesim's previous files in ``out_dir`` (a path, or a folder claimed with
    ``sim.files.outdir.OutputFolder.claim``) are replaced only once every file is
    written, so Ctrl-C leaves the old plan, or none.
    """
    import json

    from sim.files.csvsafe import write_csv
    from sim.files.outdir import output_folder

    document = plan_document(plans, scenario, scenario_file, min_gain, max_steps)
    with output_folder(out_dir) as folder, folder.writing() as tmp:
        write_csv(plan_table(plans), tmp / "plan.csv")
        write_csv(path_table(plans), tmp / "path.csv")
        (tmp / "plan.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        if plots:
            from sim.reports.plan_figure import plot_plan
            from sim.reports.saving import save_figures

            save_figures(
                {
                    "plan": plot_plan(
                        path_table(plans),
                        plans[0].target,
                        {plan.structure for plan in plans if plan.verdict == "reached"},
                        kpi=plans[0].kpi,
                        probabilities={plan.structure: plan.probability for plan in plans},
                    )
                },
                tmp,
            )


def terminal_text(plans: list[StructurePlan], scenario: Scenario) -> str:
    """The plan as printed: the search path per structure, then one table for all."""
    if not plans:
        return ""
    goal, criterion = goal_of(plans[0]), plans[0].criterion
    rule = f"lower 95 % CI bound of mean {goal.label}" if criterion == "ci_low" else "mean"
    budget = plans[0].budget_per_year
    lines = [
        f"{scenario.name}: {_objective_text(plans[0].objective)} for "
        f"{goal.amount(goal.per_quarter)} {goal.label} "
        f"({rule} >= target"
        + ("" if budget is None else f", cost at most {budget:,.0f} a year")
        + f"), {scenario.replications} replications"
        + _more_replications_text(plans)
        + f", seed {scenario.seed}",
        "",
    ]
    width = max(len(step.change) for plan in plans for step in plan.steps)
    for plan in plans:
        lines.append(f"{plan.structure}: {_verdict_line(plan)}")
        for step in plan.steps:
            mark = "start" if step.phase == "start" else ("ok  " if step.accepted else "undo")
            lines.append(
                f"  {step.number:>3} {mark:5} {step.change or '-':<{width}} "
                f"{step.evaluation.headcount:>4} reps  "
                f"{_value_text(goal, *step.evaluation.interval(goal.kpi)):<22} "
                f"{step.evaluation.replications:>3} runs  {step.reason}"
            )
        lines.append("")
    lines.append(
        f"plan (cost and profit over the {scenario.horizon_days:g}-day horizon, with book: "
        "profit plus the value of the book built, mean over "
        f"replications; P reach: probability that the expected {goal.label} reaches the target):"
    )
    lines.append(_summary(plans, goal).to_string(justify="left"))
    return "\n".join(lines)


def _objective_text(objective: str) -> str:
    """What the plan looked for, in words."""
    if objective == "cost":
        return "the cheapest team"
    return f"the team with the most {KPIS[objective].in_sentence} (from the cheapest)"


def _more_replications_text(plans: list[StructurePlan]) -> str:
    """Where decisions took more replications than the scenario's, say so."""
    most = max(plan.replications for plan in plans)
    if most <= min(step.evaluation.replications for p in plans for step in p.steps[:1]):
        return ""
    return f" (up to {most} where a decision needed them)"


def _verdict_line(plan: StructurePlan) -> str:
    trim = (
        "; no single rep can be removed"
        if plan.minimal
        else ("; --max-steps ended the trim early" if plan.verdict != "max_steps" else "")
    )
    text = VERDICT_TEXT[plan.verdict]
    if plan.verdict == "over_budget":
        text += (
            f" ({plan.final.cost_per_year:,.0f} a year against {plan.budget_per_year:,.0f}; "
            "the team shown is the cheapest found)"
        )
    return text + trim


def _summary(plans: list[StructurePlan], goal: Target) -> pd.DataFrame:
    table = plan_table(plans)
    column = f"{goal.kpi}_per_quarter"
    shown = pd.DataFrame(
        {
            "verdict": table["verdict"],
            "reps": table["headcount"],
            "runs": table["replications"],
            f"{goal.kpi}/quarter (95% CI)": [
                _value_text(goal, m, lo, hi)
                for m, lo, hi in zip(
                    table[column],
                    table[f"{column}_ci_low"],
                    table[f"{column}_ci_high"],
                    strict=True,
                )
            ],
            "P reach": table["probability_target_reached"].map(
                lambda p: "-" if p != p else f"{p:.0%}"
            ),
            "cost/year": table["cost_per_year"].map(lambda v: f"{v:,.0f}"),
            "cost": table["cost"].map(lambda v: f"{v:,.0f}"),
            "profit": table["profit"].map(lambda v: f"{v:,.0f}"),
            "with book": table["profit_with_book"].map(lambda v: f"{v:,.0f}"),
            "team": table["team"].str.ljust(int(table["team"].str.len().max())),
        }
    )
    shown.index = table["structure"]
    shown.index.name = None
    return shown


def _value_text(goal: Target, mean: float, low: float, high: float) -> str:
    if math.isnan(low):
        return goal.amount(mean)
    return f"{goal.amount(mean)} ({goal.amount(low)}-{goal.amount(high)})"
