"""Command line: ``python -m sim simulate|validate`` (also the ``salesim`` script).

Argument parsing and printing only; the work is done by the modules it calls.
Exit codes: 0 success, 1 a run lost its worker process at every attempt
(killed, e.g. out of memory; nothing written), 2 bad input (one line per
problem on stderr, nothing written), 130 interrupted (nothing written).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from sim.analysis.kpis import objective_problems
from sim.cli.examples import WORKFLOW, command_help
from sim.cli.selecting import (
    add_selection_arguments,
    select,
    selecting,
    selection_problems,
)
from sim.cli.workers import (
    Backend,
    add_worker_arguments,
    local_workers,
    opened_runs,
    worker_count,
)
from sim.config import budget
from sim.config.overrides import Override
from sim.config.scenario import STRUCTURES, Scenario, ScenarioError, without_sales_effects
from sim.files.outdir import OutputFolder
from sim.parallel import WorkerLost

RESULT_FILES = ("leads.parquet", "reps.parquet", "samples.parquet", "kpis.csv", "summary.json")
"""Outputs of simulate and compare that a folder must not hold unless salesim wrote them."""

EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # as a process the reader's end of the pipe killed (128 + SIGPIPE)
OVERWRITE_HELP = (
    "write into a folder salesim does not own, or over results edited since; only salesim's "
    "own files are replaced, nothing else in the folder is touched"
)


def add_out_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--out`` and ``--overwrite`` for a command that writes ``what``."""
    parser.add_argument("--out", type=Path, help=what)
    parser.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)


def _scenario_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="scenario TOML file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="dotted.key=value",
        help="override a scenario field, e.g. --set structures.conveyor.closers=5 (repeatable)",
    )
    parser.add_argument("--seed", type=int, help="root seed (overrides the file)")
    parser.add_argument("--replications", type=int, help="replications (overrides the file)")
    parser.add_argument(
        "--no-sales-effects",
        action="store_true",
        help="switch every sales effect off: a plain queueing network",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``salesim`` command."""
    parser = argparse.ArgumentParser(
        prog="salesim",
        description="Simulate B2B sales org structures on the same lead stream.\n"
        "(python -m sim and salesim are the same command.)",
        epilog=WORKFLOW,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    simulate = commands.add_parser(
        "simulate", help="run a scenario and write results", **command_help("simulate")
    )
    simulate.set_defaults(handler=cmd_simulate)
    _scenario_arguments(simulate)
    add_out_arguments(simulate, "results folder (default results/<name>/)")
    simulate.add_argument(
        "--no-plots", action="store_true", help="skip the PNG plots and report.html"
    )
    simulate.add_argument(
        "--structures",
        help=f"comma-separated subset to run ({', '.join(STRUCTURES)}); default: all in the file",
    )
    add_worker_arguments(simulate)
    budget.add_yes_argument(simulate)
    validate = commands.add_parser(
        "validate",
        help="check a scenario, print it resolved (TOML, every default filled in)",
        **command_help("validate"),
    )
    validate.set_defaults(handler=cmd_validate)
    _scenario_arguments(validate)
    validate.add_argument(
        "--json", action="store_true", help="print the resolved scenario as JSON instead of TOML"
    )
    fields = commands.add_parser(
        "fields", help="print the scenario field reference (Markdown)", **command_help("fields")
    )
    fields.set_defaults(handler=cmd_fields)
    # --- compare and report commands (issue 4) go here ---
    compare = commands.add_parser(
        "compare",
        help="run structures on the same leads; paired statistics and report.html",
        **command_help("compare"),
    )
    compare.set_defaults(handler=cmd_compare)
    _scenario_arguments(compare)
    add_out_arguments(compare, "results folder (default results/<name>/)")
    compare.add_argument(
        "--structures",
        help=f"comma-separated structures to compare ({', '.join(STRUCTURES)}); "
        "default: all in the file",
    )
    compare.add_argument(
        "--reference", help="structure the others are compared with (default: the first)"
    )
    compare.add_argument(
        "--no-independent",
        action="store_true",
        help="skip the second run on independent lead streams (no variance-reduction table)",
    )
    add_selection_arguments(compare)
    add_worker_arguments(compare)
    budget.add_yes_argument(compare)
    report = commands.add_parser(
        "report",
        help="rebuild report.html and compare.csv from saved results, no simulation",
        **command_help("report"),
    )
    report.set_defaults(handler=cmd_report)
    report.add_argument("directory", type=Path, help="a results directory (simulate or compare)")
    report.add_argument(
        "--reference", help="structure the others are compared with (default: as saved)"
    )
    report.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    # --- sweep command (issue 5) goes here ---
    sweep = commands.add_parser(
        "sweep",
        help="run a parameter sweep: grid points x structures x replications",
        **command_help("sweep"),
    )
    sweep.set_defaults(handler=cmd_sweep)
    sweep.add_argument("file", type=Path, help="sweep TOML file (see scenarios/sweeps/)")
    sweep.add_argument("--out", type=Path, help="sweep directory (default results/sweeps/<name>/)")
    add_worker_arguments(sweep)
    again = sweep.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        dest="fresh",
        action="store_false",
        help="keep the runs already stored in the directory (default)",
    )
    again.add_argument(
        "--fresh", dest="fresh", action="store_true", help="delete stored runs and start over"
    )
    sweep.add_argument("--no-plots", action="store_true", help="skip the plots and report.html")
    sweep.set_defaults(fresh=False)
    budget.add_yes_argument(sweep)
    from sim.cli import sensitivity

    sensitivity.add_parser(commands, _scenario_arguments, add_out_arguments)
    from sim.cli import plan

    plan.add_parser(commands, _scenario_arguments, add_out_arguments)
    from sim.cli.crm import add_commands  # export-crm, calibrate, backtest (issue 8)

    add_commands(commands)
    return parser


def load_scenario(args: argparse.Namespace) -> Scenario:
    """The scenario named on the command line, with every override applied."""
    overrides: list[str | Override] = list(args.overrides)
    # Shown as typed, so that a bad number is blamed on the flag, not on the file.
    if args.seed is not None:
        overrides.append(Override("seed", args.seed, f"--seed {args.seed}"))
    if args.replications is not None:
        overrides.append(
            Override("replications", args.replications, f"--replications {args.replications}")
        )
    scenario = Scenario.from_file(args.file, overrides)
    if problems := objective_problems(scenario.decision.objectives):
        raise ScenarioError([f"{args.file}: {problem}" for problem in problems])
    if args.no_sales_effects:
        scenario = without_sales_effects(scenario)
    return scenario


def _changes(args: argparse.Namespace) -> list[str]:
    """The command-line options that changed the scenario, as typed (for a header line)."""
    changes = [part for item in args.overrides for part in ("--set", item)]
    if args.seed is not None:
        changes += ["--seed", str(args.seed)]
    if args.replications is not None:
        changes += ["--replications", str(args.replications)]
    return changes + ["--no-sales-effects"] * args.no_sales_effects


def selected_structures(scenario: Scenario, text: str | None, label: str) -> tuple[str, ...]:
    """The structures ``--structures`` names (all the scenario's without it), checked."""
    if not text:
        return scenario.structures.names
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    problems = [
        f"{label}: --structures: {name!r} is not configured in the scenario "
        f"(configured: {', '.join(scenario.structures.names)})"
        for name in names
        if name not in scenario.structures.names
    ]
    if problems or not names:
        raise ScenarioError(problems or [f"{label}: --structures: name at least one structure"])
    return names


def _note_run(progress: Any) -> Callable[[int, str], None]:
    """The runner's ``on_run_done``: a step of ``progress`` named by replication, structure."""
    return lambda replication, structure: progress.step(f"rep {replication} {structure}")


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run the scenario, write results, print the headline table."""
    workers = worker_count(args)
    scenario = load_scenario(args)
    names = selected_structures(scenario, args.structures, args.file.name)
    total = scenario.replications * len(names)
    local = local_workers(args, workers, total)
    estimate = budget.estimate_runs(scenario, names, workers=local)
    budget.check(estimate, args.file.name, args.yes)
    out_dir = args.out or Path("results") / scenario.name
    with (
        opened_runs(args, workers, total) as backend,
        claim_output(
            out_dir, args, planned=RESULT_FILES, needs_bytes=int(estimate.disk_bytes)
        ) as folder,
    ):
        return _simulate_into(folder, scenario, names, args, backend)


def _simulate_into(folder: OutputFolder, scenario: Scenario, names, args, backend: Backend) -> int:
    from sim import api
    from sim.cli.progress import Progress

    total = scenario.replications * len(names)
    print(
        f"salesim: {scenario.name}: {', '.join(names)} x {scenario.replications} replications, "
        f"{scenario.horizon_days:g} days, seed {scenario.seed}, {backend.where}",
        file=sys.stderr,
    )
    progress = Progress(total)
    started = time.perf_counter()
    try:
        run = api.run(
            scenario, structures=names, on_run_done=_note_run(progress), runs=backend.runs
        )
    finally:
        progress.close()
    elapsed = time.perf_counter() - started
    leads = len(run.leads)
    print(
        f"simulated {leads:,} lead-runs in {elapsed:.1f} s ({leads / elapsed:,.0f} leads/s)",
        file=sys.stderr,
    )

    def add_report(directory: Path) -> None:
        # The comparison report, for one structure or several: its figures include the
        # run's six, so they are drawn once, here.
        from sim.results.compare import write_report, write_settings

        print("  drawing the report", file=sys.stderr)
        write_settings(directory, names, names[0])
        write_report(directory, run.compare(names[0]), str(args.file), folder.path)

    run.write(
        folder,
        scenario_file=str(args.file),
        plots=False,
        on_step=lambda what: print(f"  {what}", file=sys.stderr),
        extra=None if args.no_plots else add_report,
    )
    print(f"\n{scenario.name}: mean ± 95% CI half-width over {scenario.replications} replications")
    print(run.headline().to_string())
    print(f"\nresults in {folder.path}/")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check the scenario and print it with every default filled in (TOML, or JSON)."""
    from sim.config.writing import to_toml

    scenario = load_scenario(args)
    if args.json:
        print(json.dumps(scenario.model_dump(mode="json"), indent=2))
    else:
        command = shlex.join(["python", "-m", "sim", "validate", str(args.file), *_changes(args)])
        header = f"{scenario.name}, resolved by: {command}".replace("\n", " ")
        print(to_toml(scenario, header), end="")
    print(f"{args.file}: ok ({', '.join(scenario.structures.names)})", file=sys.stderr)
    return 0


def fields_markdown() -> str:
    """The scenario field reference as a Markdown table (docs/reference/fields.md)."""
    from sim.config.scenario import field_reference

    lines = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for path, kind, default, text in field_reference():
        cells = (f"`{path}`", kind, f"`{default}`" if default else "", text)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def cmd_fields(args: argparse.Namespace) -> int:
    """Print the field reference."""
    print(fields_markdown())
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a parameter sweep (``sim.sweep.run``: imported here, it needs pandas and SimPy)."""
    from sim.cli.progress import Progress
    from sim.sweep.run import cmd_sweep as run

    args.workers = worker_count(args)
    return run(args, Progress())


def cmd_compare(args: argparse.Namespace) -> int:
    """Run the structures on the same leads (and once on independent ones), write the report."""
    workers = worker_count(args)
    scenario = load_scenario(args)
    label = args.file.name
    names = selected_structures(scenario, args.structures, label)
    problems = []
    if len(set(names)) != len(names):
        problems.append(f"{label}: --structures: name each structure once, got {','.join(names)}")
    reference = args.reference or names[0]
    if reference not in names:
        problems.append(
            f"{label}: --reference: {reference!r} is not among the compared structures "
            f"({', '.join(names)})"
        )
    problems += selection_problems(scenario, args, label)
    if problems:
        raise ScenarioError(problems)
    passes = 1 if args.no_independent else 2
    most = args.max_replications if selecting(args) else scenario.replications
    per_round = most * len(names)
    estimate = budget.estimate_runs(
        scenario.model_copy(update={"replications": most}),
        names,
        passes,
        workers=local_workers(args, workers, per_round),
    )
    budget.check(estimate, label, args.yes)
    out_dir = args.out or Path("results") / scenario.name
    with (
        opened_runs(args, workers, per_round) as backend,
        claim_output(
            out_dir, args, planned=RESULT_FILES, needs_bytes=int(estimate.disk_bytes)
        ) as folder,
    ):
        return _compare_into(folder, scenario, names, reference, args, backend)


def _compare_into(
    folder: OutputFolder, scenario: Scenario, names, reference: str, args, backend: Backend
) -> int:
    from sim.analysis.comparison import build_comparison
    from sim.cli.progress import Progress
    from sim.results.compare import (
        terminal_text,
        write_independent,
        write_report,
        write_selection,
        write_settings,
    )

    passes = 1 if args.no_independent else 2
    print(
        f"salesim: {scenario.name}: {', '.join(names)} x {scenario.replications} replications, "
        f"{scenario.horizon_days:g} days, seed {scenario.seed}, {backend.where}"
        + ("" if args.no_independent else "; then once more on independent lead streams"),
        file=sys.stderr,
    )
    progress = Progress(scenario.replications * len(names) * passes)
    try:
        run, independent, selection = _compare_runs(scenario, names, args, progress, backend.runs)
    finally:
        progress.close()
    comparison = build_comparison(run.result, reference, independent, selection)

    def add_report(directory: Path) -> None:
        if selection is not None:
            write_selection(directory, selection)
        if independent is not None:
            write_independent(directory, independent, reference)
        else:
            write_settings(directory, names, reference)
        print("  drawing the report", file=sys.stderr)
        write_report(directory, comparison, str(args.file), folder.path)

    run.write(
        folder,
        scenario_file=str(args.file),
        plots=False,
        on_step=lambda what: print(f"  {what}", file=sys.stderr),
        extra=add_report,
    )
    print(terminal_text(comparison, folder.path))
    return 0


def _compare_runs(scenario: Scenario, names, args, progress, runs):
    """The passes of compare: (run on common random numbers, on independent streams, selection).

    Without a selection procedure both passes go to the workers at once
    (``simulate_both``): one round, one tail. With one, the first pass adds
    replications until it can decide; the second then runs as many.
    """
    from sim import api
    from sim.model.runner import simulate_both, simulate_independent

    on_run_done = _note_run(progress)
    if not selecting(args):
        if args.no_independent:
            return (
                api.run(scenario, structures=names, on_run_done=on_run_done, runs=runs),
                None,
                None,
            )
        common, independent = simulate_both(scenario, names, on_run_done=on_run_done, runs=runs)
        return api.Run(common), independent, None
    # At most this many runs: the procedure stops when it can decide.
    progress.start(args.max_replications * len(names))
    run, selection = select(scenario, names, args, on_run_done, runs)
    if args.no_independent:
        return run, None, selection
    progress.start(run.scenario.replications * len(names))
    independent = simulate_independent(run.scenario, names, on_run_done=on_run_done, runs=runs)
    return run, independent, selection


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild compare.csv, the figures and report.html from a saved results directory."""
    from sim.analysis.comparison import build_comparison
    from sim.results.compare import (
        REPORT_FILES,
        read_comparison,
        read_selection,
        terminal_text,
        write_report,
    )
    from sim.results.folder import ResultsError

    directory = args.directory
    result, independent, reference, scenario_file = read_comparison(directory, args.reference)
    selection = read_selection(directory)

    def regenerated(relative: PurePosixPath) -> bool:
        top = len(relative.parts) == 1
        return top and (relative.name in REPORT_FILES or relative.suffix == ".png")

    with claim_output(directory, args, option="folder", replaces=regenerated) as folder:
        try:
            comparison = build_comparison(result, reference, independent, selection)
        except KeyError as exc:
            raise ResultsError(
                [
                    f"{directory}: the saved tables lack column {exc}: written by another "
                    "salesim version; run compare again"
                ]
            ) from None
        with folder.writing(stale=regenerated) as tmp:
            write_report(tmp, comparison, scenario_file, directory)
    print(terminal_text(comparison, directory))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ScenarioError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except WorkerLost as exc:
        print(f"run failed: {exc}; nothing was written", file=sys.stderr)
        return EXIT_RUN_FAILED
    except BrokenPipeError:
        # The reader went away (``salesim fields | head``): stop quietly, and point
        # stdout at nothing so that the interpreter's last flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        print(os_error_line(exc), file=sys.stderr)
        return EXIT_BAD_INPUT


def os_error_line(exc: OSError) -> str:
    """One line for a file-system error: the file, then the reason (disk full, no permission)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = exc.filename if exc.filename is not None else "salesim"
    return f"{where}: {reason}"


def claim_output(
    path: Path, args: argparse.Namespace, option: str = "--out", **claim: Any
) -> OutputFolder:
    """Claim the output folder before any work (``sim.files.outdir``); one line, exit 2, if not."""
    return OutputFolder.claim(
        path, option=option, overwrite=getattr(args, "overwrite", False), **claim
    )
