"""The sensitivity command's files and words: the table, the runs, the tornado page.

``results/<scenario>/sensitivity/`` receives ``sensitivity.csv`` (one row per
objective and assumption: leaders at the ends, the value where the leader
changes), ``points.parquet`` (every run's KPIs at every value tried),
``sensitivity.json`` (the settings: assumptions, ranges, replications,
tolerance, seed), ``tornado_<objective>.png`` and ``index.html``. The
sentences are what the terminal prints.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.analysis.sensitivity import objective_sentence
from sim.sensitivity.run import SensitivityResult
from sim.version import __version__

OUTPUT_FILES = ("sensitivity.csv", "points.parquet", "sensitivity.json", "index.html")
"""What the command writes besides the PNGs and ``runs/``."""


def sentences(result: SensitivityResult) -> dict[str, str]:
    """One sentence per objective: ``Pods lead on profit unless ...``."""
    plan = result.plan
    assumptions = {a.name: a for a in plan.assumptions}
    return {o: objective_sentence(result.table, o, assumptions) for o in plan.objectives}


def intro(result: SensitivityResult) -> str:
    """What was run, in one paragraph."""
    plan = result.plan
    scenario = plan.scenario
    return (
        f"{len(plan.assumptions)} assumptions of {scenario.name}, each moved alone over its "
        f"range while every other number stays the scenario's; {scenario.replications} "
        f"replications of {scenario.horizon_days:g} days per structure and value, the same "
        f"leads and luck at every value (common random numbers, seed {scenario.seed}). The "
        f"leader is the structure with the best mean; where it changes, the value is found by "
        f"bisection to within {100 * plan.tolerance:g} % of the range "
        f"({result.rounds} rounds of runs)."
    )


def notes(result: SensitivityResult) -> list[str]:
    """The caveats: assumptions left out, and what one-at-a-time means."""
    plan = result.plan
    lines = [
        "One at a time: two assumptions that are each harmless alone may together change the "
        "leader; a sweep (python -m sim sweep) varies several at once.",
        "With few replications the leader at a value is itself uncertain: a margin near 0 in "
        "the table is a tie, not a verdict. --replications raises the precision.",
    ]
    if plan.left_out:
        names = ", ".join(a.name for a in plan.left_out)
        lines.append(f"Left out (the scenario has no such field, or it is switched off): {names}.")
    return lines


def settings_document(result: SensitivityResult, scenario_file: str) -> dict:
    """``sensitivity.json``: what was varied over which range, and how."""
    plan = result.plan
    return {
        "salesim_version": __version__,
        "scenario": plan.scenario.name,
        "scenario_file": scenario_file,
        "seed": plan.scenario.seed,
        "replications": plan.scenario.replications,
        "tolerance": plan.tolerance,
        "structures": list(plan.structures),
        "objectives": list(plan.objectives),
        "rounds": result.rounds,
        "assumptions": [
            {
                "name": a.name,
                "label": a.label,
                "paths": list(a.paths),
                "scale": a.scale,
                "low": a.low,
                "high": a.high,
                "scenario_value": plan.bases[a.name],
            }
            for a in plan.assumptions
        ],
        "left_out": [a.name for a in plan.left_out],
        "sentences": sentences(result),
    }


def write_outputs(result: SensitivityResult, directory: Path, scenario_file: str) -> None:
    """Write the table, the runs, the settings, the tornado charts and ``index.html``."""
    from sim.files.csvsafe import write_csv
    from sim.files.tables import write_parquet
    from sim.reports.saving import save_figures
    from sim.reports.sensitivity_page import render_html, sensitivity_figures

    plan = result.plan
    document = settings_document(result, scenario_file)
    write_csv(result.table, directory / "sensitivity.csv")
    write_parquet(result.points, directory / "points.parquet", document)
    (directory / "sensitivity.json").write_text(json.dumps(document, indent=2) + "\n")
    assumptions = {a.name: a for a in plan.assumptions}
    figures = sensitivity_figures(
        result.table, plan.objectives, assumptions, plan.scenario.horizon_days
    )
    images = {path.stem: path.read_bytes() for path in save_figures(figures, directory)}
    page = render_html(
        intro(result),
        sentences(result),
        result.table,
        assumptions,
        images,
        notes(result),
        f"{plan.scenario.name}: which assumptions decide the verdict",
    )
    (directory / "index.html").write_text(page, encoding="utf-8")


def terminal_text(result: SensitivityResult, directory: Path) -> str:
    """What the terminal prints: the sentences, then where the page is."""
    lines = ["Which assumptions decide the verdict:"]
    lines += [f"  {sentence}" for sentence in sentences(result).values()]
    lines += ["", f"report: {directory / 'index.html'}"]
    return "\n".join(lines)
