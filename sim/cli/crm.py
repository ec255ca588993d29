"""The ``export-crm``, ``calibrate`` and ``backtest`` commands (parsing and printing only).

Exit codes as in ``sim.cli.main``: 2 with one line per problem for bad input (a
missing column, unusable rows, a bad mapping). Nothing else is written then,
except the list of unusable rows (``<scenario>_unusable_rows.csv`` beside the
scenario for ``calibrate``, ``unusable_rows.csv`` in the back-test directory),
which is also written when ``--skip-bad-rows`` goes on without them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.cli.examples import command_help
from sim.cli.main import add_out_arguments, claim_output
from sim.cli.workers import add_worker_arguments, local_workers, opened_runs, worker_count
from sim.config.budget import add_yes_argument
from sim.config.scenario import STRUCTURES, ScenarioError
from sim.crm.capacity import DEFAULT_UTILISATION
from sim.files.outdir import check_output_file, output_folder, read_manifest, write_file_atomic

UNUSABLE_FILE = "unusable_rows.csv"
BACKTEST_FILES = ("backtest.csv", "outside.csv", "report.txt", "backtest.html", "backtest.png")
CALIBRATED_HEADER = "# Calibrated from "
"""How a scenario file that ``calibrate`` wrote begins (so a re-run may replace it)."""

Unusable = Callable[[Sequence[Any]], Path]
"""Writes the list of unusable rows (or removes a stale one) and says where it is."""


def _calibrated_by_salesim(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first.startswith(CALIBRATED_HEADER) and "python -m sim calibrate" in first


def _unusable_list_by_salesim(path: Path) -> bool:
    from sim.crm.problems import UNUSABLE_COLUMNS

    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().strip() == ",".join(UNUSABLE_COLUMNS)
    except (OSError, UnicodeDecodeError):
        return False


def _in_manifest(path: Path) -> bool:
    manifest = read_manifest(path.parent)
    return manifest is not None and path.name in manifest["files"]


def _list_beside(rows: Sequence[Any], path: Path) -> Path:
    """The unusable rows beside a calibrated scenario (a stale list goes when there are none)."""
    from sim.crm.problems import write_unusable_rows

    if rows:
        write_unusable_rows(rows, path)
    elif path.exists() and _unusable_list_by_salesim(path):
        path.unlink()
    return path


def _list_in(rows: Sequence[Any], folder) -> Path:
    """The unusable rows in a claimed back-test folder, beside its previous results."""
    from sim.crm.problems import write_unusable_rows

    if rows:
        with folder.writing(stale=lambda _: False) as tmp:
            write_unusable_rows(rows, tmp / UNUSABLE_FILE)
    return folder.path / UNUSABLE_FILE


def write_csv_output(table, out: Path, overwrite: bool) -> None:
    """A CSV into a salesim folder (added to its manifest) or a file of the user's choice."""
    from sim.files.csvsafe import write_csv

    if read_manifest(out.parent) is None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(table, out)
        return
    with output_folder(
        out.parent, overwrite=overwrite, replaces=lambda rel: rel.as_posix() == out.name
    ) as folder:
        with folder.writing(stale=lambda _: False) as tmp:
            write_csv(table, tmp / out.name)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the three commands on the ``salesim`` parser."""
    export = commands.add_parser(
        "export-crm",
        help="write a simulated run's leads as a CRM export (CSV)",
        **command_help("export-crm"),
    )
    export.set_defaults(handler=cmd_export_crm)
    export.add_argument("directory", type=Path, help="a results directory (simulate --out)")
    export.add_argument("--out", type=Path, help="CSV file (default DIR/crm_<shape>.csv)")
    export.add_argument(
        "--overwrite", action="store_true", help="replace a file salesim did not write"
    )
    export.add_argument(
        "--shape",
        choices=("leads", "history"),
        default="leads",
        help="one row per lead (default) or one row per stage or owner change",
    )
    export.add_argument("--structure", help="which structure's leads (default: the first)")
    export.add_argument("--replication", type=int, default=0, help="which replication (0)")
    export.add_argument("--origin", default="2024-01-01", help="calendar date of day 0")

    calibrate = commands.add_parser(
        "calibrate",
        help="estimate a scenario from a CRM export and write it (commented TOML)",
        **command_help("calibrate"),
    )
    calibrate.set_defaults(handler=cmd_calibrate)
    calibrate.add_argument("export", type=Path, help="the CRM export (CSV)")
    calibrate.add_argument(
        "--structure", required=True, choices=STRUCTURES, help="how the team is organised"
    )
    calibrate.add_argument("--mapping", type=Path, help="TOML file renaming columns and stages")
    calibrate.add_argument("--out", type=Path, help="scenario file (default scenarios/<name>.toml)")
    calibrate.add_argument(
        "--overwrite", action="store_true", help="replace a scenario file salesim did not write"
    )
    calibrate.add_argument("--name", help="scenario name (default: the output file's stem)")
    calibrate.add_argument(
        "--cold-after-days",
        type=float,
        default=60.0,
        help="an open lead without activity this long counts as went cold (60)",
    )
    calibrate.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="calibrate from the usable rows; unusable ones are still listed",
    )
    calibrate.add_argument(
        "--all-structures",
        action="store_true",
        help="also write the other structures, each with the calibrated team's people, so "
        "that compare answers 'what if we reorganised?' on this market",
    )
    calibrate.add_argument(
        "--trend",
        action="store_true",
        help="write the arrivals' trend (growth_per_year) so that a longer horizon "
        "forecasts forward with it",
    )
    calibrate.add_argument(
        "--utilisation",
        type=float,
        default=DEFAULT_UTILISATION,
        help="share of their time the owners spent on the leads, for sizing the team and "
        f"its effort from throughput when the export does not say ({DEFAULT_UTILISATION})",
    )
    add_bad_rows_limit(calibrate)
    add_worker_arguments(calibrate)

    backtest = commands.add_parser(
        "backtest",
        help="simulate a calibrated scenario and compare it with the export's history",
        **command_help("backtest"),
    )
    backtest.set_defaults(handler=cmd_backtest)
    backtest.add_argument("scenario", type=Path, help="the calibrated scenario (TOML)")
    backtest.add_argument(
        "export",
        type=Path,
        nargs="?",
        help="the CRM export (CSV); default: the one the scenario was calibrated from",
    )
    backtest.add_argument(
        "--mapping",
        type=Path,
        help="TOML file renaming columns and stages (default: the scenario's, if calibrated)",
    )
    add_out_arguments(backtest, "folder (default results/<name>/backtest/)")
    backtest.add_argument("--replications", type=int, default=20, help="replications (20)")
    backtest.add_argument("--structure", help="structure to simulate (default: the first)")
    backtest.add_argument("--no-plots", action="store_true", help="skip backtest.png")
    backtest.add_argument(
        "--skip-bad-rows", action="store_true", help="use the usable rows; others are listed"
    )
    add_bad_rows_limit(backtest)
    add_worker_arguments(backtest)
    add_yes_argument(backtest)


SHOWN_PROBLEMS = 20
"""Unusable rows printed on the terminal; all of them go to the unusable-rows file."""


def add_bad_rows_limit(parser: argparse.ArgumentParser) -> None:
    """The ``--bad-rows-limit`` option of the commands that read an export."""
    from sim.crm.problems import MAX_BAD_ROWS_PERCENT

    parser.add_argument(
        "--bad-rows-limit",
        type=float,
        default=MAX_BAD_ROWS_PERCENT,
        metavar="PERCENT",
        help=f"--skip-bad-rows stops when more rows than this are bad ({MAX_BAD_ROWS_PERCENT:g})",
    )


def _read(export: Path, args: argparse.Namespace, unusable: Unusable):
    """Read the export; say how it was read; list its bad rows on stderr and through ``unusable``.

    Without ``--skip-bad-rows`` any bad row stops the command (exit code 2),
    and so does more than ``--bad-rows-limit`` percent of bad rows with it; the
    unusable rows are written either way (and a stale list removed when every
    row is usable).
    """
    from sim.crm.mapping import read_mapping
    from sim.crm.read import ExportError, read_export

    limit = args.bad_rows_limit
    if not 0 <= limit <= 100:
        raise ScenarioError([f"--bad-rows-limit: a percentage from 0 to 100, got {limit:g}"])
    try:
        history = read_export(export, read_mapping(args.mapping))
    except ExportError as exc:
        if exc.unusable:
            unusable_file = unusable(exc.unusable)
            raise ExportError(
                [*exc.problems, f"{export.name}: all {len(exc.unusable)} listed in {unusable_file}"]
            ) from None
        raise
    unusable_file = unusable(history.problems)
    if not history.errors:
        _say(history.notes)
        return history
    lines = history.problem_lines(SHOWN_PROBLEMS)
    where = f"{export.name}: all {len(history.problems)} listed in {unusable_file}"
    if not args.skip_bad_rows:
        raise ScenarioError(
            [
                *lines,
                where,
                f"{export.name}: fix these rows, or use --skip-bad-rows to go on without them",
            ]
        )
    too_many = history.too_many_bad_rows(limit)
    if too_many:
        raise ScenarioError([f"{too_many} All listed in {unusable_file}"])
    _say([*history.notes, *lines, where])
    return history


def _say(lines: Sequence[str]) -> None:
    """How the export was read and what was left out, on stderr (stdout holds the results)."""
    for line in lines:
        print(line, file=sys.stderr)


def cmd_export_crm(args: argparse.Namespace) -> int:
    """Write one structure and replication of a results directory as a CRM export."""
    from sim.crm.write import export_crm
    from sim.results.folder import read_results

    out = args.out or args.directory / f"crm_{args.shape}.csv"
    if read_manifest(out.parent) is None:
        check_output_file(out, "--out", args.overwrite, _in_manifest)
    result = read_results(args.directory, tables=("leads",))
    structure = args.structure or result.structures[0]
    if structure not in result.structures:
        raise ScenarioError(
            [f"{args.directory}: --structure: {structure!r} not in {', '.join(result.structures)}"]
        )
    leads = result.leads
    part = leads[(leads["structure"] == structure) & (leads["replication"] == args.replication)]
    if part.empty:
        raise ScenarioError([f"{args.directory}: --replication: no replication {args.replication}"])
    table = export_crm(part, args.shape, args.origin)
    write_csv_output(table, out, args.overwrite)
    print(f"{len(table):,} rows ({len(part):,} leads, {structure}, replication "
          f"{args.replication}) -> {out}")  # fmt: skip
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Estimate and write the scenario; print the main estimates."""
    from sim.config.scenario import Scenario
    from sim.crm.calibrate import calibrate, effort_measured
    from sim.crm.checks import calibration_lines, calibration_problems
    from sim.crm.scenario_file import scenario_toml

    workers = worker_count(args)
    if not 0.05 <= args.utilisation <= 0.95:
        raise ScenarioError([f"--utilisation: between 0.05 and 0.95, got {args.utilisation:g}"])
    out = args.out or Path("scenarios") / f"{args.export.stem}.toml"
    unusable = out.with_name(f"{out.stem}_unusable_rows.csv")
    check_output_file(out, "--out", args.overwrite, _calibrated_by_salesim)
    check_output_file(unusable, "--out", args.overwrite, _unusable_list_by_salesim)
    history = _read(args.export, args, lambda rows: _list_beside(rows, unusable))
    name = args.name or out.stem
    cal = calibrate(history, args.structure, args.cold_after_days, args.utilisation)
    if not effort_measured(history.measured):  # rep's and customer's time not apart: fit
        from sim.crm.cycle_fit import FIT_REPLICATIONS, fit_cycle
        from sim.crm.scenario_file import calibrated_scenario

        with opened_runs(args, workers, FIT_REPLICATIONS) as backend:
            cal = fit_cycle(cal, calibrated_scenario(cal), backend.runs) or cal
    problems = calibration_problems(cal, args.export.name)
    if problems:
        raise ScenarioError([*problems, f"{args.export.name}: nothing written"])
    text = scenario_toml(
        cal,
        name,
        args.export.name,
        unusable_file=unusable.name,
        made_from=_made_from(args, out),
        structures=_structures_to_write(cal, args.all_structures),
    )
    import tomllib

    Scenario.from_dict(tomllib.loads(text), out.name)  # what simulate will accept
    write_file_atomic(out, text.encode("utf-8"))
    for line in calibration_lines(cal):
        print(line)
    print(f"scenario -> {out}")
    return 0


def _structures_to_write(cal, all_structures: bool) -> tuple[str, ...]:
    """The team's own structure first, then (asked for) the others; Pods when they can differ."""
    from sim.crm.team import POD_ROLES, pod_count

    if not all_structures:
        return (cal.structure,)
    pods_differ = cal.structure == "pods" or pod_count(cal) >= 2
    if not pods_differ:
        print(
            "  Pods left out: one pod is the Conveyor, and two need two segments and at least "
            f"{2 * POD_ROLES} people (lead gen, qualifier, closer, account manager each)"
        )
    return (
        cal.structure,
        *(s for s in STRUCTURES if s != cal.structure and (s != "pods" or pods_differ)),
    )


def _relative_to(path: Path, folder: Path) -> str:
    """``path`` as the scenario file will find it: relative to its folder where possible."""
    try:
        return os.path.relpath(path.resolve(), folder.resolve())
    except ValueError:  # another drive on Windows
        return str(path.resolve())


def _made_from(args: argparse.Namespace, out: Path):
    """The ``[calibration]`` a calibrated scenario remembers."""
    from sim.config.source import CalibrationSource

    return CalibrationSource(
        export=_relative_to(args.export, out.parent),
        mapping=_relative_to(args.mapping, out.parent) if args.mapping else None,
        structure=args.structure,
        skip_bad_rows=args.skip_bad_rows,
        cold_after_days=args.cold_after_days,
        utilisation=args.utilisation,
        trend=args.trend,
    )


def _remembered(args: argparse.Namespace, scenario) -> None:
    """Fill the back-test's export, mapping and options from the scenario's ``[calibration]``."""
    source = scenario.calibration
    if args.export is None:
        if source is None:
            raise ScenarioError(
                [
                    f"{args.scenario.name}: no export given, and the scenario does not say which "
                    "export it was calibrated from (only calibrate writes [calibration])"
                ]
            )
        args.export = args.scenario.parent / source.export
    if source is None:
        return
    if args.mapping is None and source.mapping is not None:
        args.mapping = args.scenario.parent / source.mapping
    args.skip_bad_rows = args.skip_bad_rows or source.skip_bad_rows
    args.structure = args.structure or source.structure


def cmd_backtest(args: argparse.Namespace) -> int:
    """Simulate the scenario over the export's period; bands, plots, where history is outside."""
    from sim.config.budget import check, estimate_runs
    from sim.config.scenario import Scenario
    from sim.crm.backtest import backtest_scenario

    workers = worker_count(args)
    if args.replications < 2:
        raise ScenarioError([f"--replications: at least 2 for a band, got {args.replications}"])
    scenario = Scenario.from_file(args.scenario)
    _remembered(args, scenario)
    structure = args.structure or scenario.structures.names[0]
    if structure not in scenario.structures.names:
        raise ScenarioError(
            [f"{args.scenario.name}: --structure: {structure!r} is not configured in the scenario"]
        )
    out = args.out or Path("results") / scenario.name / "backtest"
    local = local_workers(args, workers, args.replications)
    with (
        opened_runs(args, workers, args.replications) as backend,
        claim_output(out, args, planned=BACKTEST_FILES) as folder,
    ):
        history = _read(args.export, args, lambda rows: _list_in(rows, folder))
        run = backtest_scenario(scenario, history, args.replications)
        check(estimate_runs(run, (structure,), workers=local), args.scenario.name, args.yes)
        return _backtest_into(folder, scenario, structure, history, args, backend.runs)


def _backtest_into(folder, scenario, structure: str, history, args, runs=None) -> int:
    from sim.crm.backtest import run_backtest, write_backtest

    print(
        f"salesim: backtest {scenario.name} ({structure}) against {args.export.name}: "
        f"{args.replications} replications over {history.as_of_day:.0f} days",
        file=sys.stderr,
    )
    result = run_backtest(scenario, history, structure, args.replications, runs)
    write_backtest(result, folder, plots=not args.no_plots)
    for line in result.report_lines():
        print(line)
    print(f"\nback-test in {folder.path}/")
    return 0
