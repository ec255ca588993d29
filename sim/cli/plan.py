"""``python -m sim plan``: the cheapest team per structure for a target, from the command line.

The options are read and checked here (each bad one is one line, exit 2,
before anything runs); the search is ``sim.plan.search`` and the files
``sim.plan.output``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from sim.cli.examples import command_help
from sim.cli.workers import (
    Backend,
    add_worker_arguments,
    local_workers,
    opened_runs,
    worker_count,
)
from sim.config import budget
from sim.config.scenario import STRUCTURES, ScenarioError

REPLICATIONS_GROWTH = 4
"""By default a decision may take up to this many times the scenario's replications."""


def add_parser(commands: argparse._SubParsersAction, scenario_arguments, out_arguments) -> None:
    """The ``plan`` command and its options."""
    plan = commands.add_parser(
        "plan",
        help="capacity plan: the cheapest team per structure for a target of wins, "
        "bookings or revenue",
        **command_help("plan"),
    )
    plan.set_defaults(handler=cmd_plan)
    scenario_arguments(plan)
    # Numbers are checked by the command, not argparse, so a bad one is one line, exit 2.
    plan.add_argument(
        "--wins-per-quarter",
        metavar="N",
        help="target wins per quarter (91.25 days of the measured window)",
    )
    for kpi in ("bookings", "revenue"):
        plan.add_argument(
            f"--{kpi}-per-quarter",
            metavar="X",
            help=f"target {kpi} per quarter (the horizon's {kpi} per 91.25 days); "
            "give exactly one target",
        )
    plan.add_argument(
        "--budget-per-year",
        metavar="X",
        help="most the team may cost a year (the cost KPI per 365 days); above it: over budget",
    )
    plan.add_argument(
        "--structures",
        help=f"comma-separated structures to plan ({', '.join(STRUCTURES)}); "
        "default: all in the file",
    )
    plan.add_argument(
        "--max-steps", default="40", metavar="K", help="most teams tried per structure (40)"
    )
    plan.add_argument(
        "--by-quarter",
        action="store_true",
        help="a hiring plan by quarter: whom to hire when so that each quarter of the horizon "
        "reaches the target, growing at --target-growth-per-year (wins or bookings)",
    )
    plan.add_argument(
        "--target-growth-per-year",
        metavar="G",
        help="with --by-quarter: how fast the target grows, 0.4 = 40 %% a year (default 0)",
    )
    plan.add_argument(
        "--objective",
        default="cost",
        help="cost (default: the cheapest team that reaches the target), or profit / "
        "profit_with_book (from there, add reps while one raises it significantly)",
    )
    plan.add_argument(
        "--max-replications",
        metavar="N",
        help="most replications a decision may take: one the scenario's replications leave "
        "open gets twice as many, up to N (default 4x --replications; "
        "--max-replications equal to --replications turns it off)",
    )
    plan.add_argument(
        "--criterion",
        default="ci_low",
        help="what must reach the target: ci_low (lower 95%% CI bound, default) or mean",
    )
    plan.add_argument(
        "--min-gain",
        metavar="WINS",
        help="least rise in wins per quarter for an added rep to count (default 1%% of target)",
    )
    out_arguments(plan, "plan folder (default results/<name>/plan/)")
    plan.add_argument("--no-plots", action="store_true", help="skip plan.png")
    add_worker_arguments(plan)
    budget.add_yes_argument(plan)


def _number(text: str | None, option: str, label: str, kind: type = float) -> float | None:
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ScenarioError([f"{label}: {option}: expected {noun}, got {text!r}"]) from None


def _plan_target(args: argparse.Namespace, label: str):
    """The one target the options give (``sim.plan.goal.Target``), or one line saying why not."""
    from sim.plan.goal import TARGET_FLAGS, Target

    given = {
        kpi: getattr(args, f"{kpi}_per_quarter")
        for kpi in TARGET_FLAGS
        if getattr(args, f"{kpi}_per_quarter") is not None
    }
    if len(given) != 1:
        flags = " or ".join(TARGET_FLAGS.values())
        found = "none" if not given else ", ".join(TARGET_FLAGS[k] for k in given)
        raise ScenarioError([f"{label}: give exactly one target, {flags}; got {found}"])
    kpi, text = next(iter(given.items()))
    return Target(kpi, _number(text, TARGET_FLAGS[kpi], label))


def cmd_plan(args: argparse.Namespace) -> int:
    """Search each structure's cheapest team for the target per quarter; write the plan."""
    from sim.cli.main import claim_output, load_scenario, selected_structures
    from sim.plan.goal import check_settings
    from sim.plan.output import PLAN_FILES

    label = args.file.name
    workers = worker_count(args)
    target = _plan_target(args, label)
    budget_per_year = _number(args.budget_per_year, "--budget-per-year", label)
    max_steps = _number(args.max_steps, "--max-steps", label, int)
    min_gain = _number(args.min_gain, "--min-gain", label)
    max_replications = _number(args.max_replications, "--max-replications", label, int)
    if args.replications is not None and args.replications < 1:
        raise ScenarioError(
            [f"{label}: --replications: must be at least 1, got {args.replications}"]
        )
    scenario = load_scenario(args)
    names = selected_structures(scenario, args.structures, label)
    problems = check_settings(
        scenario, target, args.criterion, max_steps, label, budget_per_year, args.objective
    )
    if min_gain is not None and not min_gain >= 0:
        problems.append(f"{label}: --min-gain: must be 0 or more, got {min_gain:g}")
    if max_replications is None:
        max_replications = REPLICATIONS_GROWTH * scenario.replications
    elif max_replications < scenario.replications:
        problems.append(
            f"{label}: --max-replications: must be at least --replications "
            f"({scenario.replications}), got {max_replications}"
        )
    growth = _number(args.target_growth_per_year, "--target-growth-per-year", label)
    problems += _by_quarter_problems(args, scenario, target, growth, budget_per_year, label)
    if problems:
        raise ScenarioError(problems)
    # Each structure tries at most max_steps teams after its starting one, one at a time:
    # a round is one team's replications. At most, every team runs max_replications.
    per_round = scenario.replications
    local = local_workers(args, workers, per_round)
    rounds = math.ceil((max_steps + 1) * max_replications / scenario.replications)
    estimate = budget.estimate_runs(scenario, names, rounds=rounds, workers=local)
    budget.check(estimate, label, args.yes)
    out_dir = args.out or Path("results") / scenario.name / "plan"
    if args.by_quarter:
        from sim.plan.phased_output import HIRING_FILES

        with (
            opened_runs(args, workers, per_round) as backend,
            claim_output(out_dir, args, planned=HIRING_FILES) as folder,
        ):
            settings = (target, growth or 0.0, max_steps, min_gain)
            return _hiring_plan_into(folder, scenario, names, settings, args, backend)
    with (
        opened_runs(args, workers, per_round) as backend,
        claim_output(out_dir, args, planned=PLAN_FILES) as folder,
    ):
        settings = (target, max_steps, min_gain, budget_per_year, max_replications)
        return _plan_into(folder, scenario, names, settings, args, backend)


def _plan_into(folder, scenario, names, settings, args, backend: Backend) -> int:
    from sim.plan.output import terminal_text, write_plan
    from sim.plan.search import plan_structure

    target, max_steps, min_gain, budget_per_year, max_replications = settings
    print(
        f"salesim: plan {scenario.name}: {', '.join(names)} for "
        f"{target.amount(target.per_quarter)} {target.label} "
        f"({args.criterion}), {scenario.replications} replications per team, seed {scenario.seed}, "
        f"{backend.where}",
        file=sys.stderr,
    )
    started = time.monotonic()
    plans = []
    for name in names:

        def show(step, name=name) -> None:
            mean, low, high = step.evaluation.interval(target.kpi)
            ci = "" if low != low else f" ({target.amount(low)}-{target.amount(high)})"
            change = step.change or "start"
            kept = "" if step.phase == "start" else (" kept" if step.accepted else " undone")
            print(
                f"  {name} step {step.number}: {change}{kept}: {step.evaluation.headcount} reps, "
                f"{target.amount(mean)}{ci} {target.kpi}/quarter "
                f"({time.monotonic() - started:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

        plans.append(
            plan_structure(
                scenario,
                name,
                target,
                args.criterion,
                max_steps,
                min_gain,
                on_step=show,
                runs=backend.runs,
                budget_per_year=budget_per_year,
                max_replications=max_replications,
                objective=args.objective,
            )
        )
    write_plan(
        plans,
        folder,
        scenario,
        scenario_file=str(args.file),
        min_gain=min_gain,
        max_steps=max_steps,
        plots=not args.no_plots,
    )
    print(terminal_text(plans, scenario))
    print(f"\nplan in {folder.path}/")
    return 0


def _by_quarter_problems(args, scenario, target, growth, budget_per_year, label) -> list[str]:
    """One line per option that a hiring plan by quarter cannot take (empty if none)."""
    from sim.plan.phased import PHASED_KPIS, quarters_in

    if not args.by_quarter:
        return [] if growth is None else [f"{label}: --target-growth-per-year: needs --by-quarter"]
    problems = []
    if target.kpi not in PHASED_KPIS:
        problems.append(f"{label}: {target.flag}: --by-quarter plans wins or bookings per quarter")
    if growth is not None and not (math.isfinite(growth) and growth > -1):
        problems.append(f"{label}: --target-growth-per-year: must be above -1, got {growth:g}")
    if budget_per_year is not None or args.objective != "cost":
        problems.append(f"{label}: --by-quarter: takes no --budget-per-year or --objective")
    if quarters_in(scenario) < 1:
        problems.append(
            f"{label}: horizon_days: --by-quarter needs a horizon of a quarter (91.25 days) or "
            f"more, got {scenario.horizon_days:g}"
        )
    return problems


def _hiring_plan_into(folder, scenario, names, settings, args, backend: Backend) -> int:
    from sim.plan.phased import plan_hiring
    from sim.plan.phased_output import terminal_text, write_hiring_plan

    target, growth, max_steps, min_gain = settings
    print(
        f"salesim: hiring plan by quarter {scenario.name}: {', '.join(names)}, "
        f"{target.amount(target.per_quarter)} {target.label} growing {growth:.0%} a year "
        f"({args.criterion}), {scenario.replications} replications per plan, {backend.where}",
        file=sys.stderr,
    )
    started = time.monotonic()

    def show(step, name) -> None:
        print(
            f"  {name} step {step.number}: {step.change or 'today'}: "
            f"{'kept' if step.accepted else 'undone'} ({time.monotonic() - started:.1f} s)",
            file=sys.stderr,
            flush=True,
        )

    plans = [
        plan_hiring(
            scenario,
            name,
            target,
            growth,
            args.criterion,
            max_steps,
            min_gain,
            on_step=lambda step, name=name: show(step, name),
            runs=backend.runs,
        )  # fmt: skip
        for name in names
    ]
    write_hiring_plan(
        plans,
        folder,
        scenario,
        {
            "scenario_file": str(args.file),
            "target_kpi": target.kpi,
            "target_first_quarter": target.per_quarter,
            "target_growth_per_year": growth,
            "criterion": args.criterion,
            "max_steps": max_steps,
            "min_gain": min_gain,
        },
    )
    print(terminal_text(plans, scenario, target))
    print(f"hiring plan in {folder.path}/")
    return 0
