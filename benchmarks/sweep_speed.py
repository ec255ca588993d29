"""Measure sweep throughput: 1 vs 2 local workers, and what Dask adds per run.

Usage: .venv/bin/python benchmarks/sweep_speed.py

1. ``sweep_speed.toml`` (24 runs of a second or more): runs per second with one
   worker (in this process) and with two (process pool), and their ratio.
2. ``sweep_overhead.toml`` (200 runs of a few milliseconds): per run, the wall
   time, the time inside ``run_one``, and the overhead (wall x workers - time
   inside runs) in this process, in a 2-process pool, and on a started, warm
   2-worker Dask LocalCluster.

Numbers depend on what else the machine is doing: the load average is printed.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sim.sweep.backends import run_one
from sim.sweep.run import load_sweep, run_sweep

HERE = Path(__file__).resolve().parent


def timed_sweep(path: Path, workers: int) -> tuple[int, float, float]:
    """Run a whole sweep into a temporary directory: (runs, wall s, s inside the runs)."""
    sweep = load_sweep(path)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = run_sweep(sweep, Path(tmp) / "out", workers=workers)
        return result.done, time.perf_counter() - started, result.run_seconds


def timed_dask(path: Path, workers: int) -> tuple[int, float, float]:
    """The same on a started, warm Dask LocalCluster (what DaskRuns does), storing nothing."""
    import logging

    from distributed import Client, LocalCluster, as_completed

    tasks = load_sweep(path).tasks()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        for future in as_completed(client.map(run_one, tasks[:workers], pure=False)):
            future.result()  # warm: every worker has imported the model
        started = time.perf_counter()
        inside = 0.0
        for future in as_completed(client.map(run_one, tasks, pure=False)):
            inside += float(future.result()["wall_seconds"].iloc[0])
        return len(tasks), time.perf_counter() - started, inside


def main() -> None:
    """Print the measurements."""
    print(f"load average before: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}")
    rates = {}
    for workers in (1, 2):
        runs, wall, _ = timed_sweep(HERE / "sweep_speed.toml", workers)
        rates[workers] = runs / wall
        print(f"~1 s runs, {workers} worker(s): {runs} runs in {wall:.1f} s", end=" ")
        print(f"= {rates[workers]:.2f} runs/s")
    print(f"speed-up with 2 workers: {rates[2] / rates[1]:.2f}x")
    # Overhead: worker time per run not spent inside run_one (wall x workers - time in runs).
    tiny = HERE / "sweep_overhead.toml"
    for label, workers, (runs, wall, inside) in (
        ("1 local worker", 1, timed_sweep(tiny, 1)),
        ("2 local workers", 2, timed_sweep(tiny, 2)),
        ("Dask LocalCluster, 2 workers (warm)", 2, timed_dask(tiny, 2)),
    ):
        print(
            f"tiny runs, {label}: {1000 * wall / runs:.1f} ms wall per run, "
            f"{1000 * inside / runs:.1f} ms inside a run, "
            f"{1000 * (wall * workers - inside) / runs:.1f} ms overhead per run"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
