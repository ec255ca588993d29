"""A hiring plan by quarter as files and as printed: quarters, hires, and the TOML to paste.

``write_hiring_plan`` writes, all at once or not at all: ``quarters.csv``
(per structure and quarter: the target, the value with its 95 % CI, whether
it is reached, the reps hired for it), ``hires.csv`` (every hire kept: role,
pod, the day its requisition opens, or today), ``path.csv`` (every plan
tried), ``hiring_plan.toml`` (the hires as ``structures.<name>.hires`` and
today's grown team, to paste into the scenario) and ``hiring_plan.json``
(all of it, with the settings, the seed and the salesim version).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import tomlkit

from sim.config.scenario import Scenario
from sim.plan.goal import QUARTER_DAYS, Target
from sim.plan.phased import HiringPlan, hire_text
from sim.plan.team import HEADCOUNT_FIELDS, team_of, team_text
from sim.version import __version__

HIRING_FILES = ("quarters.csv", "hires.csv", "path.csv", "hiring_plan.toml", "hiring_plan.json")
"""What ``write_hiring_plan`` writes into the plan folder."""

VERDICTS = {
    "reached": "every quarter reaches its target",
    "not_reachable": "NOT REACHABLE by hiring in quarter {quarters}: no added rep raises it "
    "enough (lead volume, pass rates, the pipeline filling and losses are the limit); "
    "the other quarters reach their targets",
    "max_steps": "UNDECIDED: --max-steps used up; quarter {quarters} still miss their target",
}


def quarters_table(plans: list[HiringPlan]) -> pd.DataFrame:
    """One row per structure and quarter: target, value and CI, reached, reps hired for it."""
    rows = []
    for plan in plans:
        for quarter, target in enumerate(plan.targets):
            mean, low, high = plan.final.interval(quarter)
            planned = low if plan.criterion == "ci_low" else mean
            hires = [h for h in plan.final.hires if h.quarter == quarter]
            rows.append(
                {
                    "structure": plan.structure,
                    "quarter": quarter + 1,
                    "start_day": quarter * QUARTER_DAYS,
                    "target": target,
                    f"{plan.kpi}": mean,
                    f"{plan.kpi}_ci_low": low,
                    f"{plan.kpi}_ci_high": high,
                    "reached": bool(not math.isnan(planned) and planned >= target),
                    "reps_hired_for_it": len(hires),
                }
            )
    return pd.DataFrame(rows)


def hires_table(plans: list[HiringPlan]) -> pd.DataFrame:
    """Every hire kept: structure, pod, role, requisition day (empty: today's team), quarter."""
    rows = [
        {
            "structure": plan.structure,
            "pod": hire.unit[0],
            "role": hire.unit[1],
            "requisition_day": hire.day,
            "for_quarter": hire.quarter + 1,
        }
        for plan in plans
        for hire in plan.final.hires
    ]
    columns = ["structure", "pod", "role", "requisition_day", "for_quarter"]
    return pd.DataFrame(rows, columns=columns)


def path_table(plans: list[HiringPlan]) -> pd.DataFrame:
    """Every plan tried, in order."""
    rows = []
    for plan in plans:
        for step in plan.steps:
            rows.append(
                {
                    "structure": plan.structure,
                    "step": step.number,
                    "for_quarter": step.quarter + 1 if step.quarter >= 0 else None,
                    "change": step.change,
                    "accepted": step.accepted,
                    "reason": step.reason,
                    "gain": step.gain,
                    "gain_ci_low": step.gain_ci_low,
                    "gain_ci_high": step.gain_ci_high,
                    "cost": float(step.evaluation.cost.mean()),
                }
            )
    return pd.DataFrame(rows)


def hiring_toml(plans: list[HiringPlan], scenario: Scenario) -> str:
    """The plans as scenario TOML: today's team and the dated hires, per structure."""
    document = tomlkit.document()
    document.add(
        tomlkit.comment(f"salesim {__version__}: hiring plan by quarter for {scenario.name}")
    )
    structures = tomlkit.table(is_super_table=True)
    for plan in plans:
        block = tomlkit.table()
        today = team_of(scenario, plan.structure)
        for hire in plan.final.hires:
            if hire.day is None:
                today[hire.unit] += 1
        if plan.structure == "pods":
            # A pod's block carries its segments too: name today's team, not the whole block.
            block.add(tomlkit.comment(f"today's team: {team_text(today)}"))
        else:
            for (_, role), count in today.items():
                block[HEADCOUNT_FIELDS[role]] = count
        hires = tomlkit.array()
        for hire in plan.final.hires:
            if hire.day is not None:
                entry = tomlkit.inline_table()
                entry.update({"role": hire.unit[1], "day": hire.day})
                if hire.unit[0]:
                    entry["pod"] = hire.unit[0]
                hires.append(entry)
        block["hires"] = hires.multiline(True)
        structures[plan.structure] = block
    document["structures"] = structures
    return tomlkit.dumps(document)


def terminal_text(plans: list[HiringPlan], scenario: Scenario, target: Target) -> str:
    """The hiring plans as printed: the path per structure, then each quarter."""
    lines = [
        f"{scenario.name}: hires by quarter for {target.amount(target.per_quarter)} {target.label}"
        f" growing to {target.amount(plans[0].targets[-1])} in quarter {len(plans[0].targets)} "
        f"({plans[0].criterion}), {scenario.replications} replications, seed {scenario.seed}",
        "",
    ]
    for plan in plans:
        quarters = ", ".join(str(q + 1) for q in plan.missed)
        lines.append(f"{plan.structure}: {VERDICTS[plan.verdict].format(quarters=quarters)}")
        for step in plan.steps[1:]:
            mark = "ok  " if step.accepted else "undo"
            lines.append(f"  {step.number:>3} {mark} {step.change:<34} {step.reason}")
        for row in quarters_table([plan]).itertuples():
            low, high = getattr(row, f"{plan.kpi}_ci_low"), getattr(row, f"{plan.kpi}_ci_high")
            lines.append(
                f"  quarter {row.quarter}: target {target.amount(row.target)}, "
                f"{target.amount(getattr(row, plan.kpi))} ({target.amount(low)}-"
                f"{target.amount(high)}) {'reached' if row.reached else 'MISSED'}, "
                f"{row.reps_hired_for_it} rep(s) hired for it"
            )
        hires = ", ".join(hire_text(h) for h in plan.final.hires) or "none"
        lines += [f"  hires: {hires}", ""]
    return "\n".join(lines)


def write_hiring_plan(
    plans: list[HiringPlan], out_dir: Any, scenario: Scenario, settings: dict[str, Any]
) -> None:
    """Write the hiring plan's files into ``out_dir``, all or nothing (``HIRING_FILES``)."""
    from sim.files.csvsafe import write_csv
    from sim.files.outdir import output_folder
    from sim.files.tables import json_safe

    document = json_safe(
        {
            "salesim_version": __version__,
            "seed": scenario.seed,
            "replications": scenario.replications,
            "quarter_days": QUARTER_DAYS,
            **settings,
            "structures": {
                plan.structure: {
                    "verdict": plan.verdict,
                    "missed_quarters": [q + 1 for q in plan.missed],
                    "quarters": quarters_table([plan]).to_dict("records"),
                    "hires": hires_table([plan]).to_dict("records"),
                    "path": path_table([plan]).to_dict("records"),
                }
                for plan in plans
            },
            "scenario": scenario.model_dump(mode="json"),
        }
    )
    with output_folder(out_dir) as folder, folder.writing() as tmp:
        write_csv(quarters_table(plans), tmp / "quarters.csv")
        write_csv(hires_table(plans), tmp / "hires.csv")
        write_csv(path_table(plans), tmp / "path.csv")
        (tmp / "hiring_plan.toml").write_text(hiring_toml(plans, scenario))
        (tmp / "hiring_plan.json").write_text(
            json.dumps(document, indent=2, allow_nan=False) + "\n"
        )
