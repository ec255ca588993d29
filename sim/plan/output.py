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

from sim.config.scenario import Scenario
from sim.plan.search import (
    HEADCOUNT_FIELDS,
    QUARTER_DAYS,
    StructurePlan,
    role_totals,
    team_text,
)
from sim.version import __version__


def plan_table(plans: list[StructurePlan]) -> pd.DataFrame:
    """One row per structure: verdict, reps per role, headcount, wins per quarter, cost, profit."""
    rows = []
    for plan in plans:
        final = plan.final
        mean, low, high = final.wins
        totals = role_totals(final.team)
        row: dict[str, Any] = {
            "structure": plan.structure,
            "verdict": plan.verdict,
            "target_wins_per_quarter": plan.target,
            "criterion": plan.criterion,
        }
        row.update({role: totals.get(role) for role in HEADCOUNT_FIELDS})
        row.update(
            {
                "headcount": final.headcount,
                "team": team_text(final.team),
                "wins_per_quarter": mean,
                "wins_per_quarter_ci_low": low,
                "wins_per_quarter_ci_high": high,
                **final.kpis,
                "minimal": plan.minimal,
                "simulations": plan.simulations,
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
            mean, low, high = step.evaluation.wins
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
                    "wins_per_quarter": mean,
                    "wins_per_quarter_ci_low": low,
                    "wins_per_quarter_ci_high": high,
                    "gain": step.gain,
                    "gain_ci_low": step.gain_ci_low,
                    "gain_ci_high": step.gain_ci_high,
                    "cost": step.evaluation.kpis["cost"],
                    "profit": step.evaluation.kpis["profit"],
                }
            )
            rows.append(row)
    table = pd.DataFrame(rows)
    for role in HEADCOUNT_FIELDS:
        table[role] = table[role].astype("Int64")
    return table


VERDICT_TEXT: dict[str, str] = {
    "reached": "reached",
    "not_reachable": "NOT REACHABLE: more reps add less than --min-gain wins per quarter each, "
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
            "wins_per_quarter_by_replication": list(plan.final.wins_per_quarter),
            "path": path,
        }
    return json_safe(
        {
            "salesim_version": __version__,
            "scenario_file": scenario_file,
            "seed": scenario.seed,
            "replications": scenario.replications,
            "target_wins_per_quarter": plans[0].target if plans else None,
            "criterion": plans[0].criterion if plans else None,
            "quarter_days": QUARTER_DAYS,
            "min_gain_wins_per_quarter": min_gain,
            "max_steps": max_steps,
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
                    )
                },
                tmp,
            )


def terminal_text(plans: list[StructurePlan], scenario: Scenario) -> str:
    """The plan as printed: the search path per structure, then one table for all."""
    if not plans:
        return ""
    target, criterion = plans[0].target, plans[0].criterion
    rule = (
        "lower 95 % CI bound of mean wins per quarter"
        if criterion == "ci_low"
        else "mean wins per quarter"
    )
    lines = [
        f"{scenario.name}: target {target:g} wins per quarter ({rule} >= target), "
        f"{scenario.replications} replications, seed {scenario.seed}",
        "",
    ]
    width = max(len(step.change) for plan in plans for step in plan.steps)
    for plan in plans:
        trim = (
            "; no single rep can be removed"
            if plan.minimal
            else ("; --max-steps ended the trim early" if plan.verdict != "max_steps" else "")
        )
        lines.append(f"{plan.structure}: {VERDICT_TEXT[plan.verdict]}{trim}")
        for step in plan.steps:
            mean, low, high = step.evaluation.wins
            mark = "start" if step.phase == "start" else ("ok  " if step.accepted else "undo")
            lines.append(
                f"  {step.number:>3} {mark:5} {step.change or '-':<{width}} "
                f"{step.evaluation.headcount:>4} reps  {_wins_text(mean, low, high):<22} "
                f"{step.reason}"
            )
        lines.append("")
    table = plan_table(plans)
    shown = pd.DataFrame(
        {
            "verdict": table["verdict"],
            "reps": table["headcount"],
            "wins/quarter (95% CI)": [
                _wins_text(m, lo, hi)
                for m, lo, hi in zip(
                    table["wins_per_quarter"],
                    table["wins_per_quarter_ci_low"],
                    table["wins_per_quarter_ci_high"],
                    strict=True,
                )
            ],
            "cost": table["cost"].map(lambda v: f"{v:,.0f}"),
            "profit": table["profit"].map(lambda v: f"{v:,.0f}"),
            "team": table["team"].str.ljust(int(table["team"].str.len().max())),
        }
    )
    shown.index = table["structure"]
    shown.index.name = None
    lines.append(
        f"plan (cost and profit over the {scenario.horizon_days:g}-day horizon, mean over "
        "replications):"
    )
    lines.append(shown.to_string(justify="left"))
    return "\n".join(lines)


def _wins_text(mean: float, low: float, high: float) -> str:
    if math.isnan(low):
        return f"{mean:.1f}"
    return f"{mean:.1f} ({low:.1f}-{high:.1f})"
