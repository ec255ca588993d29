"""``python -m sim sensitivity FILE``: which uncalibrated assumptions decide the verdict.

Argument parsing and printing; the work is ``sim.sensitivity``'s. Every flag,
the sensitivity file and both ends of every range are checked before the
output folder is claimed: a bad one is one line, exit code 2, nothing written.
Runs are kept under ``<out>/runs/`` as they finish, so Ctrl-C (exit 130)
loses only the runs under way, and the same command again resumes.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import time
from pathlib import Path

from sim.cli.examples import command_help
from sim.cli.workers import add_worker_arguments, worker_count
from sim.config.scenario import ScenarioError

QUICK_REPLICATIONS = 2
QUICK_TOLERANCE = 0.125
"""``--quick``: two replications and three bisection steps, for a first look or a test."""


def add_parser(commands: argparse._SubParsersAction, scenario_arguments, out_arguments) -> None:
    """The ``sensitivity`` sub-command, beside the others of ``sim.cli.main``."""
    parser = commands.add_parser(
        "sensitivity",
        help="vary each uncalibrated assumption over its range: which ones change the leader",
        **command_help("sensitivity"),
    )
    parser.set_defaults(handler=cmd_sensitivity)
    scenario_arguments(parser)
    out_arguments(parser, "output folder (default results/<name>/sensitivity/)")
    parser.add_argument(
        "--assumptions",
        type=Path,
        metavar="FILE",
        help="a sensitivity TOML file: [sensitivity] with replications, tolerance and "
        "[[sensitivity.assumptions]] (ranges of the defaults, or new assumptions)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="vary only this assumption (repeatable); names as in docs/guide/sensitivity.md",
    )
    parser.add_argument(
        "--structures", help="comma-separated structures to compare (default: all in the file)"
    )
    parser.add_argument("--tolerance", help="bisection stops within this share of a range")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_REPLICATIONS} replications and a tolerance of {QUICK_TOLERANCE:g} "
        "unless given",
    )
    add_worker_arguments(parser)


def _settings(args: argparse.Namespace, label: str):
    """The sensitivity settings: the file's, then --quick, then --replications and --tolerance."""
    from sim.config.assumptions import read_settings

    settings = read_settings(args.assumptions)
    update = {}
    if args.quick:
        update = {"replications": QUICK_REPLICATIONS, "tolerance": QUICK_TOLERANCE}
    if args.replications is not None:
        if args.replications < 1:
            raise ScenarioError([f"{label}: --replications: must be at least 1"])
        update["replications"] = args.replications
    if args.tolerance is not None:
        try:
            tolerance = float(args.tolerance)
        except ValueError:
            tolerance = -1.0
        if not 0 < tolerance <= 0.5:
            raise ScenarioError(
                [
                    f"{label}: --tolerance: a share of the range above 0 and at most 0.5, got "
                    f"{args.tolerance!r}"
                ]  # fmt: skip
            )
        update["tolerance"] = tolerance
    return settings.model_copy(update=update)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Check everything, claim the folder, run the rounds, write the page, print the answer."""
    from sim.cli.main import claim_output, load_scenario, selected_structures
    from sim.sensitivity.run import make_plan

    workers = worker_count(args)
    label = args.file.name
    settings = _settings(args, label)
    replications, args.replications = args.replications, None  # the analysis sets its own
    scenario = load_scenario(args)
    args.replications = replications
    names = selected_structures(scenario, args.structures, label)
    settings_label = args.assumptions.name if args.assumptions else "sensitivity"
    plan = make_plan(
        scenario, settings, label, only=tuple(args.only), settings_label=settings_label
    )
    if len(names) < 2:
        raise ScenarioError([f"{label}: sensitivity needs at least two structures to compare"])
    plan = dataclasses.replace(plan, structures=names)
    out_dir = args.out or Path("results") / scenario.name / "sensitivity"
    with claim_output(out_dir, args) as folder:
        return _run_into(folder, plan, args, workers)


def _run_into(folder, plan, args, workers: int) -> int:
    from sim import parallel
    from sim.sensitivity.output import terminal_text, write_outputs
    from sim.sensitivity.run import Evaluator, RunCache, run_folder, run_sensitivity
    from sim.sweep.backends import run_one

    scenario = plan.scenario
    print(
        f"salesim sensitivity {scenario.name}: {len(plan.assumptions)} assumptions x "
        f"{', '.join(plan.structures)} x {scenario.replications} replications, seed "
        f"{scenario.seed}, tolerance {plan.tolerance:g} of each range",
        file=sys.stderr,
    )
    started = time.monotonic()
    done = [0]

    def on_round(needed: int, found: int) -> None:
        print(
            f"  round: {needed - found} runs to do, {found} done before "
            f"({time.monotonic() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )

    def on_run_done() -> None:
        done[0] += 1

    try:
        with (
            contextlib.closing(parallel.open_backend(run_one, workers, args.scheduler)) as runs,
            run_folder(folder.path, args.overwrite) as store,
        ):
            evaluator = Evaluator(plan, runs, RunCache(store), on_round, on_run_done)
            result = run_sensitivity(plan, evaluator)
    except parallel.BackendSetupError as exc:
        raise ScenarioError([str(exc)]) from None
    except KeyboardInterrupt:
        print(
            f"interrupted: {done[0]} runs of this session kept in {folder.path / 'runs'}/; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    print(f"  {done[0]} runs in {time.monotonic() - started:.1f} s; writing", file=sys.stderr)
    with folder.writing(stale=lambda relative: relative.parts[0] != "runs") as tmp:
        write_outputs(result, tmp, str(args.file))
    print(terminal_text(result, folder.path))
    parent = folder.path.parent
    if folder.path.name == "sensitivity" and (parent / "report.html").is_file():
        print(f"to link it from the compare report: python -m sim report {parent}")
    return 0
