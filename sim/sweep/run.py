"""Parameter sweeps: one base scenario, a grid of changes, every structure, every replication.

A sweep answers "when does one structure overtake another?". A sales leader
asks: "our conveyor loses some leads at every handoff; up to what drop rate
does it still beat a team of generalists?" A sweep takes the base scenario,
sets the handoff drop probability to 0, 0.05, ..., 0.3, runs every structure
on every value with several replications, and draws one line per structure
against the drop probability; where two lines cross, the leader changes.

This module is the entry point: ``load_sweep`` (re-exported), ``run_sweep``,
``write_outputs`` and the ``python -m sim sweep`` command. The jobs behind it
live in their own modules:

    sweep_spec      the sweep file, validation, the grid and its runs
    sweep_backends  one run, and running many: this process, a pool, or Dask
    sweep_store     the resumable run store (``sweep.json``, ``runs/``)
    sweep_summary   sweep table, summary with CIs, crossovers, winners
    sweep_report    figures and ``report.html``
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.kpis import kpi_spec
from sim.config.budget import Estimate, check, estimate_sweep
from sim.config.scenario import ScenarioError
from sim.files.csvsafe import csv_bytes
from sim.files.outdir import FolderLock
from sim.sweep.backends import SweepSetupError, default_workers, open_backend, scheduler_problem
from sim.sweep.best_point import best_points
from sim.sweep.spec import RunTask, Sweep, load_sweep
from sim.sweep.store import RunStore, write_atomic
from sim.sweep.summary import (
    claims_along,
    crossovers,
    findings,
    paired_table,
    summarise_sweep,
    sweep_table,
)

__all__ = ["Sweep", "SweepRun", "cmd_sweep", "load_sweep", "run_sweep", "write_outputs"]

EXIT_FAILED_RUNS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


# ---------------------------------------------------------------------------
# Running a sweep and writing its outputs
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SweepRun:
    """What one invocation did: runs in total, found stored, done now, failed."""

    total: int
    reused: int
    done: int
    failures: tuple[tuple[RunTask, BaseException], ...]
    wall_seconds: float
    run_seconds: float

    @property
    def complete(self) -> bool:
        """True when every run of the sweep is stored."""
        return self.reused + self.done == self.total


def run_sweep(
    sweep: Sweep,
    out_dir: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    fresh: bool = False,
    on_run_stored: Callable[[RunTask], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    connect_seconds: float | None = None,
) -> SweepRun:
    """Do every run of the sweep not yet stored in ``out_dir``, storing each at once.

    Args:
        sweep: the validated sweep.
        out_dir: the sweep directory (``sweep.json`` and ``runs/``).
        workers: local processes (1: this process); with ``scheduler="local"``,
            Dask worker processes.
        scheduler: None, ``"local"`` or a Dask scheduler address.
        fresh: delete stored runs first instead of resuming.
        on_run_stored: called after each run is stored (progress; a test may
            raise here to interrupt the sweep).
        on_start: called with (runs in total, runs already stored) before running.
        connect_seconds: how long a Dask scheduler has to answer (default
            ``sweep_backends.CONNECT_SECONDS``).

    Returns:
        Counts, failures and timings; the tables are written by ``write_outputs``.

    Raises:
        ScenarioError: ``out_dir`` holds something else (nothing is written).
        SweepSetupError: the runs cannot start: no Dask scheduler answered at
            ``scheduler``, Dask is missing (nothing is written).
    """
    store = RunStore(out_dir, sweep)
    store.check(fresh)
    total = sweep.run_count
    failures = []
    done = 0
    run_seconds = 0.0
    started = time.perf_counter()
    # Dask is reached before the first write: a wrong --scheduler leaves no directory behind.
    with (
        contextlib.closing(open_backend(workers, scheduler, connect_seconds)) as runs,
        store.prepared(fresh),
    ):
        stored = store.stored()
        runs.submit([task for task in sweep.tasks() if task.key not in stored])
        if on_start is not None:
            on_start(total, len(stored))
        for task, result in runs:
            if isinstance(result, BaseException):
                failures.append((task, result))
                continue
            store.write(task, result)
            done += 1
            run_seconds += float(result["wall_seconds"].iloc[0])
            if on_run_stored is not None:
                on_run_stored(task)
    return SweepRun(
        total=total,
        reused=len(stored),
        done=done,
        failures=tuple(failures),
        wall_seconds=time.perf_counter() - started,
        run_seconds=run_seconds,
    )


def write_outputs(
    sweep: Sweep,
    out_dir: Path,
    plots: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Assemble the stored runs into the sweep's tables, plots and report.

    Every file is written to a temporary name and renamed into place.

    Returns:
        The sweep table, the summary and the crossovers.
    """
    step = on_step or (lambda _: None)
    out_dir = Path(out_dir)
    with FolderLock(out_dir):
        return _write_outputs(sweep, out_dir, plots, step)


def _write_outputs(
    sweep: Sweep, out_dir: Path, plots: bool, step: Callable[[str], None]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from sim.files.tables import write_parquet
    from sim.version import __version__

    store = RunStore(out_dir, sweep)
    step("assembling the sweep table")
    table = sweep_table(sweep, store.read_all())
    provenance = {
        "salesim_version": __version__,
        "sweep": sweep.name,
        "digest": sweep.digest,
        "seed": sweep.seed,
        "replications": sweep.replications,
        "structures": list(sweep.structures),
        "grid": [{"name": a.name, "labels": list(a.labels)} for a in sweep.axes],
        "base_scenario": sweep.base.model_dump(mode="json"),
    }
    write_atomic(out_dir / "sweep.parquet", lambda tmp: write_parquet(table, tmp, provenance))
    summary = summarise_sweep(table, sweep)
    pairs = paired_table(table, sweep)
    crossing = crossovers(summary, sweep, pairs)
    write_atomic(out_dir / "sweep_summary.csv", csv_bytes(summary))
    write_atomic(out_dir / "crossovers.csv", csv_bytes(crossing))
    claims = claims_along(table, sweep)
    write_atomic(out_dir / "claims.csv", csv_bytes(claims))
    best = best_points(table, sweep)
    write_atomic(out_dir / "best_points.csv", csv_bytes(best))
    if plots:
        step("drawing plots and report.html")
        from sim.sweep import page as sweep_page

        sweep_page.write_report(sweep, summary, crossing, out_dir, claims, pairs, best)
    return table, summary, crossing


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


def cmd_sweep(args: Any, progress: Any) -> int:
    """``python -m sim sweep``: validate, run (resuming), write tables, plots and report.

    Args:
        args: the parsed command line.
        progress: counts the runs (``sim.cli.progress.Progress``: ``start(total,
            done)``, ``step()``, ``close()``).
    """
    problem = None if args.scheduler is None else scheduler_problem(args.scheduler)
    if problem is not None:
        raise ScenarioError([problem])
    sweep = load_sweep(args.file)
    out_dir = args.out or Path("results") / "sweeps" / sweep.name
    workers = args.workers or default_workers()
    if args.scheduler in (None, "local"):  # a remote cluster's memory is not ours to read
        check(sweep_estimate(sweep, workers, out_dir, args.fresh), args.file.name, args.yes)
    where = f"Dask {args.scheduler}" if args.scheduler else f"{workers} local worker(s)"
    print(
        f"salesim sweep {sweep.name}: {len(sweep.points)} grid points x "
        f"{len(sweep.structures)} structures x {sweep.replications} replications, "
        f"seed {sweep.seed}, on {where}",
        file=sys.stderr,
    )
    try:
        try:
            result = run_sweep(
                sweep,
                out_dir,
                workers=workers,
                scheduler=args.scheduler,
                fresh=args.fresh,
                on_run_stored=lambda task: progress.step(),
                on_start=progress.start,
            )
        finally:
            progress.close()
    except SweepSetupError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        stored = len(list((out_dir / "runs").glob("*.parquet")))
        print(
            f"interrupted: {stored} runs stored in {out_dir}/runs/; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if result.done:
        print(
            f"{result.done} runs in {result.wall_seconds:.1f} s "
            f"({result.done / result.wall_seconds:.2f} runs/s; "
            f"{result.run_seconds / result.done:.2f} s per run inside the workers)",
            file=sys.stderr,
        )
    if result.failures:
        for task, error in result.failures[:20]:
            print(
                f"run failed: point {task.point} {task.structure} replication "
                f"{task.replication}: {type(error).__name__}: {error}",
                file=sys.stderr,
            )
        print(
            f"{len(result.failures)} of {result.total} runs failed; the others are stored in "
            f"{out_dir}/runs/, so running the same command again retries only the failed ones",
            file=sys.stderr,
        )
        return EXIT_FAILED_RUNS
    try:
        table, summary, crossing = write_outputs(
            sweep,
            out_dir,
            plots=not args.no_plots,
            on_step=lambda what: print(f"  {what}", file=sys.stderr),
        )
    except KeyboardInterrupt:
        print(
            f"interrupted while writing the tables; every run is stored in {out_dir}/runs/: "
            "run the same command again to write them",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print("What the sweep found:")
    pairs = paired_table(table, sweep)
    print("\n".join(f"  {line}" for line in findings(summary, crossing, sweep, pairs)))
    print()
    print(headline(summary, sweep))
    clear = crossing[crossing["clear"]] if len(crossing) else crossing
    if len(clear):
        print("\nclear crossovers (the 95 % CIs separate on both sides):")
        print(clear.drop(columns=["clear"]).to_string(index=False))
    print(f"\nresults in {out_dir}/")
    return 0


def sweep_estimate(sweep: Sweep, workers: int, out_dir: Path, fresh: bool) -> Estimate:
    """The sweep's size (``sim.config.budget``), counting only the runs not stored yet."""
    stored = 0 if fresh else len(list((Path(out_dir) / "runs").glob("*.parquet")))
    left = max(0.0, 1.0 - stored / sweep.run_count)
    scenarios = [point.scenario for point in sweep.points]
    return estimate_sweep(scenarios, sweep.structures, sweep.replications, workers, left)


def headline(summary: pd.DataFrame, sweep: Sweep) -> str:
    """The first key KPI per grid point and structure, as text for the terminal."""
    kpi = sweep.kpis[0]
    picked = summary[summary["kpi"] == kpi]
    names = [axis.name for axis in sweep.axes]
    table = picked.pivot_table(
        index=names, columns="structure", values="mean", observed=True, sort=False
    )
    table.columns = [str(c) for c in table.columns]
    title = kpi_spec(kpi).column_title
    return f"{kpi}: {title}, mean over {sweep.replications} replications:\n{table.to_string()}"
