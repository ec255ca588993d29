"""The ``export-crm``, ``calibrate`` and ``backtest`` commands (parsing and printing only).

Exit codes as in ``sim.cli.main``: 2 with one line per problem for bad input (a
missing column, unusable rows, a bad mapping). Nothing else is written then,
except the list of unusable rows (``<scenario>_unusable_rows.csv`` beside the
scenario for ``calibrate``, ``unusable_rows.csv`` in the back-test directory),
which is also written when ``--skip-bad-rows`` goes on without them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.cli.examples import command_help
from sim.cli.main import add_out_arguments, claim_output
from sim.cli.workers import add_worker_arguments, local_workers, opened_runs, worker_count
from sim.config.budget import add_yes_argument
from sim.config.scenario import STRUCTURES, ScenarioError
from sim.files.outdir import check_output_file, output_folder, read_manifest, write_file_atomic

UNUSABLE_FILE = "unusable_rows.csv"
BACKTEST_FILES = ("backtest.csv", "outside.csv", "report.txt", "backtest.png")
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

    backtest = commands.add_parser(
        "backtest",
        help="simulate a calibrated scenario and compare it with the export's history",
        **command_help("backtest"),
    )
    backtest.set_defaults(handler=cmd_backtest)
    backtest.add_argument("scenario", type=Path, help="the calibrated scenario (TOML)")
    backtest.add_argument("export", type=Path, help="the CRM export (CSV)")
    backtest.add_argument("--mapping", type=Path, help="TOML file renaming columns and stages")
    add_out_arguments(backtest, "folder (default results/<name>/backtest/)")
    backtest.add_argument("--replications", type=int, default=20, help="replications (20)")
    backtest.add_argument("--structure", help="structure to simulate (default: the first)")
    backtest.add_argument("--no-plots", action="store_true", help="skip backtest.png")
    backtest.add_argument(
        "--skip-bad-rows", action="store_true", help="use the usable rows; others are listed"
    )
    add_worker_arguments(backtest)
    add_yes_argument(backtest)


SHOWN_PROBLEMS = 20
"""Unusable rows printed on the terminal; all of them go to the unusable-rows file."""


def _read(export: Path, mapping_file: Path | None, skip_bad_rows: bool, unusable: Unusable):
    """Read the export; list its unusable rows on stderr and through ``unusable``.

    Without ``skip_bad_rows`` any unusable row stops the command (exit code 2);
    the unusable rows are written either way (and a stale list removed when
    every row is usable).
    """
    from sim.crm.mapping import read_mapping
    from sim.crm.read import ExportError, read_export

    try:
        history = read_export(export, read_mapping(mapping_file))
    except ExportError as exc:
        if exc.unusable:
            unusable_file = unusable(exc.unusable)
            raise ExportError(
                [*exc.problems, f"{export.name}: all {len(exc.unusable)} listed in {unusable_file}"]
            ) from None
        raise
    unusable_file = unusable(history.problems)
    if not history.problems:
        return history
    lines = history.problem_lines(SHOWN_PROBLEMS)
    where = f"{export.name}: all {len(history.problems)} listed in {unusable_file}"
    if not skip_bad_rows:
        raise ScenarioError(
            [
                *lines,
                where,
                f"{export.name}: fix these rows, or use --skip-bad-rows to go on without them",
            ]
        )
    for line in (*lines, where):
        print(line, file=sys.stderr)
    return history


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
    from sim.crm.calibrate import calibrate
    from sim.crm.scenario_file import scenario_toml

    out = args.out or Path("scenarios") / f"{args.export.stem}.toml"
    unusable = out.with_name(f"{out.stem}_unusable_rows.csv")
    check_output_file(out, "--out", args.overwrite, _calibrated_by_salesim)
    check_output_file(unusable, "--out", args.overwrite, _unusable_list_by_salesim)
    history = _read(
        args.export, args.mapping, args.skip_bad_rows, lambda rows: _list_beside(rows, unusable)
    )
    name = args.name or out.stem
    cal = calibrate(history, args.structure, args.cold_after_days)
    text = scenario_toml(cal, name, args.export.name, unusable_file=unusable.name)
    import tomllib

    Scenario.from_dict(tomllib.loads(text), out.name)  # what simulate will accept
    write_file_atomic(out, text.encode("utf-8"))
    print(f"{args.export.name}: {len(history.leads):,} leads over {history.as_of_day:.0f} days")
    print(f"  arrivals per day {cal.arrivals_per_day.value:.3g} ({cal.arrivals_per_day.comment()})")
    for stage, p in cal.pass_prob.items():
        print(f"  {stage} pass_prob {p.value:.3f} ({p.comment()})")
    for role, count in cal.headcount.items():
        print(f"  {role} {count.value:g}")
    print(f"scenario -> {out}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """Simulate the scenario over the export's period; bands, plots, where history is outside."""
    from sim.config.budget import check, estimate_runs
    from sim.config.scenario import Scenario
    from sim.crm.backtest import backtest_scenario

    workers = worker_count(args)
    if args.replications < 2:
        raise ScenarioError([f"--replications: at least 2 for a band, got {args.replications}"])
    scenario = Scenario.from_file(args.scenario)
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
        history = _read(
            args.export, args.mapping, args.skip_bad_rows, lambda rows: _list_in(rows, folder)
        )
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
