"""Measure the constants of ``sim.config.budget``: memory and time per simulated lead.

Like weighing a few parcels to price the whole delivery: a handful of runs of
known size, each in a fresh interpreter, give peak resident memory and wall
time, and a straight line through them gives the cost per lead. ``sim.config.budget``
multiplies those costs by the size of a planned run to refuse one that would
not fit the machine.

Usage (from the repository root; a few minutes on two cores)::

    python -m benchmarks.budget_constants            # every measurement, then the fits
    python -m benchmarks.budget_constants --quick    # small sizes: checks the script runs;
                                                     # fixed costs dominate its fits
    python -m benchmarks.budget_constants --samples  # sample-row costs only

What is measured, each in a fresh ``python`` process (peak RSS from
``VmHWM``, which starts afresh at ``exec``; wall time):

1. The whole ``simulate`` command (draw the leads, run, build the tables,
   summarise, write parquet and CSV, no plots) and ``compare`` (both passes)
   on ``scenarios/baseline.toml``, where every effect is on (people with
   performance spread, account reviews with effort, referrals, fulfilment,
   competition, decay and patience, seasonality, lead quality), arrivals and
   headcounts scaled together so utilisation stays put (``PLAN``): All-In and
   Conveyor alone at 2x, 8x and 32x (7,000 to 116,000 leads per run),
   Conveyor at 8x with 4 replications, all four structures at 8x with 2, and
   ``compare`` on All-In and Conveyor at 8x with 2. A straight line of peak
   RSS on lead-runs gives the fixed cost and the cost per lead-run; the same
   for time. Printed: the fits, and the worst point's cost above the fixed part.
2. ``--samples``: one 10-year Conveyor run of baseline at 0.5 leads a day,
   sampled every day and every 0.05 days: the extra memory and time per
   work-in-progress sample row.

Nothing here is a test; numbers from a shared machine vary by tens of percent.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
HEADCOUNTS = {
    "allin": ("generalists",),
    "conveyor": ("lead_gen", "qualifiers", "closers", "account_managers"),
}


def overrides_for(structures: tuple[str, ...], factor: float, replications: int) -> list[str]:
    """``--set`` arguments scaling baseline's arrivals and the teams by ``factor``."""
    from sim.config.scenario import Scenario

    base = Scenario.from_file(BASELINE)
    sets = [
        f"leads.arrivals_per_day={base.leads.arrivals_per_day * factor!r}",
        f"replications={replications}",
    ]
    for structure in structures:
        team = getattr(base.structures, structure)
        for field in HEADCOUNTS.get(structure, ()):
            count = max(1, round(getattr(team, field) * factor))
            sets.append(f"structures.{structure}.{field}={count}")
    return sets


def measure_here(command: str, structures: str, factor: float, replications: int) -> dict:
    """In this fresh process: one command; its peak RSS, wall time and lead-runs."""
    import pyarrow.parquet as pq

    from sim.cli.main import main

    def peak() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    names = tuple(structures.split(","))
    before = peak()
    with tempfile.TemporaryDirectory() as tmp:
        args = [command, str(BASELINE), "--out", tmp, "--structures", structures]
        args += ["--no-plots"] if command == "simulate" else []
        for item in overrides_for(names, factor, replications):
            args += ["--set", item]
        started = time.perf_counter()
        code = main(args)
        seconds = time.perf_counter() - started
        lead_runs = pq.ParquetFile(Path(tmp) / "leads.parquet").metadata.num_rows
    passes = 2 if command == "compare" else 1  # compare's independent pass is not in leads.parquet
    return {
        "command": command,
        "structures": structures,
        "factor": factor,
        "replications": replications,
        "exit": code,
        "lead_runs": lead_runs * passes,
        "seconds": seconds,
        "rss_before_bytes": before,
        "peak_rss_bytes": peak(),
    }


def measure(command: str, structures: str, factor: float, replications: int) -> dict:
    """``measure_here`` in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.budget_constants", "--here", command, structures,
         str(factor), str(replications)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Slope and intercept of a least-squares line."""
    slope, intercept = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    return float(slope), float(intercept)


def measure_samples_here(interval: float) -> dict:
    """In this fresh process: one run of baseline's Conveyor, sampled every ``interval`` days."""
    from sim.config.scenario import Scenario
    from sim.model.leads import generate_leads
    from sim.model.seeding import replication_streams
    from sim.model.structures import run_structure

    sets = [f"sample_interval_days={interval}", "horizon_days=3650", "leads.arrivals_per_day=0.5"]
    scenario = Scenario.from_file(BASELINE, sets)
    streams = replication_streams(scenario.seed, 0)
    started = time.perf_counter()
    leads = generate_leads(scenario, np.random.default_rng(streams.leads))
    tables = run_structure("conveyor", leads, scenario, streams)
    seconds = time.perf_counter() - started
    status = Path("/proc/self/status").read_text().splitlines()
    peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    return {"interval": interval, "rows": len(tables.samples), "seconds": seconds, "peak": peak}


def measure_samples() -> dict:
    """Extra bytes and seconds per sample row, between two sampling intervals."""
    points = []
    for interval in (1.0, 0.05):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.budget_constants", "--samples-here", str(interval)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        points.append(json.loads(out.stdout.strip().splitlines()[-1]))
    rows = points[1]["rows"] - points[0]["rows"]
    return {
        "points": points,
        "bytes_per_sample_row": (points[1]["peak"] - points[0]["peak"]) / rows,
        "seconds_per_sample_row": (points[1]["seconds"] - points[0]["seconds"]) / rows,
    }


PLAN = (
    # (command, structures, arrival factor, replications)
    ("simulate", "allin", 2.0, 1),
    ("simulate", "allin", 8.0, 1),
    ("simulate", "allin", 32.0, 1),
    ("simulate", "conveyor", 2.0, 1),
    ("simulate", "conveyor", 8.0, 1),
    ("simulate", "conveyor", 32.0, 1),
    ("simulate", "conveyor", 8.0, 4),
    ("simulate", "allin,two_party,conveyor,pods", 8.0, 2),
    ("compare", "allin,conveyor", 8.0, 2),
)
QUICK = (
    ("simulate", "conveyor", 0.5, 1),
    ("simulate", "conveyor", 1.0, 1),
    ("simulate", "conveyor", 1.0, 2),
    ("compare", "allin,conveyor", 0.5, 2),
)


def main(argv: list[str] | None = None) -> None:
    """Run every measurement and print the fitted constants."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--here", nargs=4, metavar=("COMMAND", "STRUCTURES", "FACTOR", "REPS"))
    parser.add_argument("--samples", action="store_true", help="only the sample-row costs")
    parser.add_argument("--samples-here", type=float, metavar="INTERVAL")
    args = parser.parse_args(argv)
    if args.samples_here is not None:
        print(json.dumps(measure_samples_here(args.samples_here)))
        return
    if args.samples:
        print(json.dumps(measure_samples(), indent=2))
        return
    if args.here:
        command, structures, factor, reps = args.here
        print(json.dumps(measure_here(command, structures, float(factor), int(reps))))
        return
    points = []
    for command, structures, factor, reps in QUICK if args.quick else PLAN:
        point = measure(command, structures, factor, reps)
        print(json.dumps(point), flush=True)
        points.append(point)
    runs = [p["lead_runs"] for p in points]
    per_lead, fixed = fit(runs, [p["peak_rss_bytes"] for p in points])
    per_lead_seconds, fixed_seconds = fit(runs, [p["seconds"] for p in points])
    worst = max((p["peak_rss_bytes"] - fixed) / p["lead_runs"] for p in points)
    slowest = max((p["seconds"] - fixed_seconds) / p["lead_runs"] for p in points)
    fits = {
        "peak_rss_fit_bytes_per_lead_run": per_lead,
        "peak_rss_fit_fixed_bytes": fixed,
        "peak_rss_worst_bytes_per_lead_run_above_fixed": worst,
        "seconds_fit_per_lead_run": per_lead_seconds,
        "seconds_fit_fixed": fixed_seconds,
        "seconds_worst_per_lead_run_above_fixed": slowest,
    }
    print(json.dumps(fits, indent=2))


if __name__ == "__main__":
    main()
