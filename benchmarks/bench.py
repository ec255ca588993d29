"""``make bench``: how fast salesim is, measured against what an engineer would use instead.

Like timing a delivery van against a bicycle courier on the same streets at
the same hour: every figure is measured in the same run as its baselines, and
the ratios are what count, because a shared machine's absolute speed changes
from minute to minute.

Usage (from the repository root)::

    python -m benchmarks.bench              # the full bench, several minutes
    python -m benchmarks.bench --quick      # tiny sizes, seconds (what the smoke test runs)
    python -m benchmarks.bench --repeats 5 --engine-leads 500000

Figures (printed as a table and written to ``results/bench/bench.json`` with
machine info, package versions and min/median/max over ``--repeats``):

1. Engine: a three-stage tandem network with pass probabilities (4/3/2
   servers, 75 % utilisation each, exponential times) through salesim's
   Conveyor with every sales effect off (``as_markovian_network``), a minimal
   hand-written SimPy model, Ciw, and a floor (a plain-Python FCFS recursion
   with a heap of server-free times). salesim, SimPy and the floor run on the
   very same pre-drawn lead stream, so their waits must agree lead by lead;
   Ciw draws its own and must agree in distribution. All four are checked
   against Erlang C on the first stage's mean wait.
2. Full model: leads per second of every structure of every shipped scenario
   (``scenarios/*.toml``) with every effect on; and the 4x Conveyor of figure
   3 with every effect on and off (``without_sales_effects``), alternating:
   the ratio full model / engine (target 0.5 or more); and, at 2x, each
   group of effects off alone (``EFFECT_GROUPS``) against the full model,
   in pairs: the share of the full model's time each group costs.
3. Scaling: a Conveyor run (``scenarios/conveyor.toml``, arrivals and
   headcounts, operations team included, scaled together so utilisation
   stays put) at 1x, 4x and 16x the leads and once at 1,000,000 leads, each
   in a fresh subprocess: wall time, peak RSS (``VmHWM``: drawing the stream,
   the run, its tables and writing ``leads.parquet``), and bytes per lead of
   ``leads.parquet``. Targets: the million-lead peak under 1 GiB, the
   marginal peak between the two largest sizes at most 600 bytes per lead.
4. Parallel: a small sweep (``benchmarks/sweep_speed.toml``) on 1 and 2 local
   workers, reusing ``benchmarks/sweep_speed.py``; and ``compare``'s
   simulation (both passes, workers started inside the timing) on the
   baseline market over ten years, runs of a second or more, on 1 and 2 local
   workers: replications per second and the ratio.
5. Profile: cProfile of one engine-network Conveyor run, top entries by
   internal time, in ``results/bench/profile.txt``.

Time unit of the models: days. Nothing here is a test: a slow machine gives
slow numbers, never a failure.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import heapq
import io
import json
import math
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
STAGE_NAMES = ("prospecting", "qualification", "closing")

# ---------------------------------------------------------------------------
# The engine network: 3 stages in tandem, 4/3/2 servers, 75 % utilisation each
# ---------------------------------------------------------------------------

ENGINE_HORIZON_DAYS = 365.0
ENGINE_PASS_PROBS = (0.6, 0.5, 0.4)
ENGINE_SERVERS = (4, 3, 2)
ENGINE_UTILISATION = 0.75
ENGINE_SEED = 7


@dataclass(frozen=True)
class Network:
    """A tandem funnel: Poisson arrivals, per-stage servers, effort and pass probability.

    Attributes:
        arrivals_per_day: Poisson arrival rate at stage 1.
        pass_probs: probability a lead served at a stage moves on.
        servers: servers (reps) per stage.
        mean_effort_days: mean exponential service time per stage.
        horizon_days: leads arrive on [0, horizon).
    """

    arrivals_per_day: float
    pass_probs: tuple[float, ...]
    servers: tuple[int, ...]
    mean_effort_days: tuple[float, ...]
    horizon_days: float

    @classmethod
    def for_leads(cls, leads: int) -> Network:
        """The benchmark network sized for about ``leads`` leads over the horizon."""
        rate = leads / ENGINE_HORIZON_DAYS
        visits, reach = [], 1.0
        for p in ENGINE_PASS_PROBS:
            visits.append(reach)
            reach *= p
        # Utilisation rho = rate * visit * effort / servers, the same at every stage.
        efforts = tuple(
            ENGINE_UTILISATION * c / (rate * v) for c, v in zip(ENGINE_SERVERS, visits, strict=True)
        )
        return cls(rate, ENGINE_PASS_PROBS, ENGINE_SERVERS, efforts, ENGINE_HORIZON_DAYS)

    def scenario_dict(self) -> dict[str, Any]:
        """The salesim scenario of this network (before ``as_markovian_network``)."""
        stages = {
            stage: {"pass_prob": p, "mean_effort_days": e}
            for stage, p, e in zip(STAGE_NAMES, self.pass_probs, self.mean_effort_days, strict=True)
        }
        lead_gen, qualifiers, closers = self.servers
        return {
            "name": "bench_engine",
            "seed": ENGINE_SEED,
            "replications": 1,
            "horizon_days": self.horizon_days,
            "leads": {"arrivals_per_day": self.arrivals_per_day, "mean_deal_value": 10_000.0},
            "stages": stages,
            # Won deals still become accounts; a yearly review without effort keeps
            # their processes to one pending timeout each (as the theory tests do).
            "accounts": {"review_interval_days": 365.0},
            "structures": {
                "conveyor": {
                    "lead_gen": lead_gen,
                    "qualifiers": qualifiers,
                    "closers": closers,
                    "account_managers": 1,
                    "assignment": "pooled",
                }
            },
        }


@dataclass(frozen=True)
class EngineRun:
    """What one engine did: wall time, leads arrived, stage-1 waits of the measured leads."""

    seconds: float
    leads: int
    arrival_day: np.ndarray
    stage_waits: tuple[np.ndarray, ...]


def salesim_scenario(network: Network):
    """The validated salesim scenario of the network, every sales effect off."""
    from sim.config.scenario import Scenario, as_markovian_network

    return as_markovian_network(Scenario.from_dict(network.scenario_dict(), "bench_engine"))


def draw_stream(scenario, replication: int):
    """A fresh lead stream (nothing cached) and the replication's seed streams."""
    from sim.model.leads import generate_leads
    from sim.model.seeding import replication_streams

    streams = replication_streams(scenario.seed, replication)
    return generate_leads(scenario, np.random.default_rng(streams.leads)), streams


def run_salesim(scenario, stream, streams) -> EngineRun:
    """Run salesim's Conveyor on the stream: ``run_structure`` up to its lead table."""
    from sim.model.structures import run_structure

    started = time.perf_counter()
    tables = run_structure("conveyor", stream, scenario, streams)
    seconds = time.perf_counter() - started
    df = tables.leads
    waits = tuple(
        (df[f"{stage}_start_day"] - df[f"{stage}_queue_day"]).to_numpy() for stage in STAGE_NAMES
    )
    return EngineRun(seconds, len(df), df["arrival_day"].to_numpy(), waits)


def stream_inputs(stream, network: Network) -> tuple[list, list, list]:
    """Arrival days, per-lead service days and pass uniforms as Python lists."""
    stream = stream.whole()  # the luck drawn in full: the floor and SimPy read it as lists
    efforts = stream.effort_units * np.asarray(network.mean_effort_days)[None, :]
    return stream.arrival_day.tolist(), efforts.tolist(), stream.pass_u.tolist()


def run_simpy_minimal(stream, network: Network) -> EngineRun:
    """A minimal hand-written SimPy model of the network, on salesim's lead stream.

    What a simulation engineer writes in twenty lines: one ``Resource`` per
    stage, one process per lead, the stage waits recorded in lists.
    """
    import simpy

    started = time.perf_counter()
    arrivals, services, pass_u = stream_inputs(stream, network)
    env = simpy.Environment()
    stations = [simpy.Resource(env, capacity=c) for c in network.servers]
    waits = [[math.nan] * len(arrivals) for _ in stations]
    pass_probs = network.pass_probs

    def lead(i: int):
        for s, station in enumerate(stations):
            queued = env.now
            with station.request() as request:
                yield request
                waits[s][i] = env.now - queued
                yield env.timeout(services[i][s])
            if pass_u[i][s] >= pass_probs[s]:
                return

    def source():
        for i, arrival in enumerate(arrivals):
            yield env.timeout(arrival - env.now)
            env.process(lead(i))

    env.process(source())
    env.run(until=network.horizon_days)
    seconds = time.perf_counter() - started
    return EngineRun(
        seconds, len(arrivals), stream.arrival_day, tuple(np.asarray(w) for w in waits)
    )


def run_floor(stream, network: Network) -> EngineRun:
    """The floor: each stage as a FCFS multi-server recursion over a heap of free times.

    A lead starts at max(its arrival at the stage, the earliest moment a
    server is free); no event list, no processes. Leads reach a stage in the
    order they finished the previous one (a stable sort), exactly the FCFS
    order SimPy's queues keep.
    """
    started = time.perf_counter()
    arrivals, services, pass_u = stream_inputs(stream, network)
    n = len(arrivals)
    horizon = network.horizon_days
    waits = [[math.nan] * n for _ in network.servers]
    # (arrival day at the stage, lead) for the leads that reach the stage
    queue = list(zip(arrivals, range(n), strict=True))
    for s, servers in enumerate(network.servers):
        free = [0.0] * servers
        wait_s = waits[s]
        p = network.pass_probs[s]
        moving_on = []
        for day, i in queue:
            start = max(day, free[0])
            if start >= horizon:  # salesim and SimPy stop at the horizon
                continue
            end = start + services[i][s]
            heapq.heapreplace(free, end)
            wait_s[i] = start - day
            if pass_u[i][s] < p and end < horizon:
                moving_on.append((end, i))
        moving_on.sort(key=lambda item: item[0])
        queue = moving_on
    seconds = time.perf_counter() - started
    return EngineRun(seconds, n, stream.arrival_day, tuple(np.asarray(w) for w in waits))


def run_ciw(network: Network, seed: int) -> EngineRun:
    """Ciw on the same network with its own random numbers (``ciw.seed``)."""
    import ciw

    started = time.perf_counter()
    routing = [[0.0] * len(network.servers) for _ in network.servers]
    for s in range(len(network.servers) - 1):
        routing[s][s + 1] = float(network.pass_probs[s])
    ciw_network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=network.arrivals_per_day)]
        + [None] * (len(network.servers) - 1),
        service_distributions=[
            ciw.dists.Exponential(rate=1.0 / e) for e in network.mean_effort_days
        ],
        routing=routing,
        number_of_servers=list(network.servers),
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(ciw_network)
    simulation.simulate_until_max_time(network.horizon_days)
    records = simulation.get_all_records()
    seconds = time.perf_counter() - started
    first = [r for r in records if r.node == 1]
    arrival = np.array([r.arrival_date for r in first])
    order = np.argsort(arrival, kind="stable")
    stage1 = np.array([r.waiting_time for r in first])[order]
    # Arrivals at stage 1 that have not started service by the horizon have no record;
    # count every lead that arrived, like the other engines do.
    arrived = len({r.id_number for r in first}) + len(simulation.nodes[1].all_individuals)
    return EngineRun(seconds, arrived, arrival[order], (stage1,))


def measured_wait(run: EngineRun, network: Network) -> np.ndarray:
    """Stage-1 waits of leads arriving after a 2 % warm-up and before the last 2 %."""
    low, high = 0.02 * network.horizon_days, 0.98 * network.horizon_days
    keep = (run.arrival_day >= low) & (run.arrival_day < high) & ~np.isnan(run.stage_waits[0])
    return run.stage_waits[0][keep]


def batch_interval(values: np.ndarray, batches: int = 20) -> tuple[float, float]:
    """Mean and 99.9 % half-width from batch means (waits of successive leads correlate)."""
    from scipy import stats

    if len(values) < batches * 10:
        return float(values.mean()) if len(values) else math.nan, math.inf
    means = np.array([chunk.mean() for chunk in np.array_split(values, batches)])
    half = stats.t.ppf(0.9995, batches - 1) * means.std(ddof=1) / math.sqrt(batches)
    return float(means.mean()), float(half)


def erlang_c_wait(network: Network) -> float:
    """Erlang C mean wait at stage 1 (the textbook formula of tests/validation/theory.py)."""
    from tests.validation.theory import MMc

    return MMc(network.arrivals_per_day, 1.0 / network.mean_effort_days[0], network.servers[0]).wq


ENGINES = ("salesim", "simpy_minimal", "ciw", "floor")


def bench_engine(leads: int, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Figure 1: the four engines on the same network, ratios per repeat."""
    network = Network.for_leads(leads)
    scenario = salesim_scenario(network)
    try:
        import ciw  # noqa: F401

        engines = ENGINES
    except ImportError:
        log("ciw is not installed (pip install -e '.[bench]'): Ciw left out")
        engines = tuple(e for e in ENGINES if e != "ciw")
    seconds: dict[str, list[float]] = {e: [] for e in engines}
    rates: dict[str, list[float]] = {e: [] for e in engines}
    ratios: dict[str, list[float]] = {f"salesim_vs_{e}": [] for e in engines if e != "salesim"}
    draw_seconds: list[float] = []
    last: dict[str, EngineRun] = {}
    lead_by_lead = 0.0
    for repeat in range(repeats):
        started = time.perf_counter()
        stream, streams = draw_stream(scenario, repeat)
        draw_seconds.append(time.perf_counter() - started)
        runners: dict[str, Callable[[], EngineRun]] = {
            "salesim": lambda stream=stream, streams=streams: run_salesim(
                scenario, stream, streams
            ),
            "simpy_minimal": lambda stream=stream: run_simpy_minimal(stream, network),
            "ciw": lambda repeat=repeat: run_ciw(network, ENGINE_SEED + repeat),
            "floor": lambda stream=stream: run_floor(stream, network),
        }
        # Rotate the order so no engine always runs first (cold caches) or last.
        order = engines[repeat % len(engines) :] + engines[: repeat % len(engines)]
        for name in order:
            run = runners[name]()
            last[name] = run
            seconds[name].append(run.seconds)
            rates[name].append(run.leads / run.seconds)
            log(
                f"  engine repeat {repeat + 1}/{repeats}: "
                f"{name} {run.leads / run.seconds:,.0f} leads/s"
            )
        for key in ratios:
            other = key.removeprefix("salesim_vs_")
            ratios[key].append(rates["salesim"][-1] / rates[other][-1])
        # Same stream, same FCFS discipline: per-lead waits must match at every stage.
        for name in ("simpy_minimal", "floor"):
            for mine, theirs in zip(
                last["salesim"].stage_waits, last[name].stage_waits, strict=False
            ):
                both = ~np.isnan(mine) & ~np.isnan(theirs)
                if both.any():
                    lead_by_lead = max(lead_by_lead, float(np.abs(mine[both] - theirs[both]).max()))
    theory = erlang_c_wait(network)
    waits = {}
    for name in engines:
        mean, half = batch_interval(measured_wait(last[name], network))
        waits[name] = {
            "mean_days": mean,
            "ci999_half_width_days": half,
            "relative_error": mean / theory - 1.0,
            "contains_erlang_c": abs(mean - theory) <= half,
        }
    return {
        "network": {
            "arrivals_per_day": network.arrivals_per_day,
            "pass_probs": list(network.pass_probs),
            "servers": list(network.servers),
            "mean_effort_days": list(network.mean_effort_days),
            "utilisation": ENGINE_UTILISATION,
            "horizon_days": network.horizon_days,
        },
        "leads": last["salesim"].leads,
        "engines": list(engines),
        "seconds": {e: spread(v) for e, v in seconds.items()},
        "leads_per_second": {e: spread(v) for e, v in rates.items()},
        "ratios": {k: spread(v) for k, v in ratios.items()},
        "salesim_lead_stream_seconds": spread(draw_seconds),
        "erlang_c_stage1_wait_days": theory,
        "stage1_wait": waits,
        "max_lead_by_lead_wait_difference_days": lead_by_lead,
    }


# ---------------------------------------------------------------------------
# Figure 2: the full model, every shipped scenario and structure
# ---------------------------------------------------------------------------


def bench_full_model(
    repeats: int, overrides: Sequence[str], log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Leads per second of ``run_structure`` for each structure of each shipped scenario."""
    from sim.config.scenario import Scenario
    from sim.model.structures import run_structure

    rows = []
    for path in sorted(SCENARIOS.glob("*.toml")):
        scenario = Scenario.from_file(path, overrides)
        for structure in scenario.structures.names:
            times, leads = [], 0
            for repeat in range(repeats):
                stream, streams = draw_stream(scenario, repeat % scenario.replications)
                started = time.perf_counter()
                run_structure(structure, stream, scenario, streams)
                times.append(time.perf_counter() - started)
                leads = len(stream)
            rates = [leads / t for t in times]
            log(f"  {path.stem}/{structure}: {statistics.median(rates):,.0f} leads/s")
            rows.append(
                {
                    "scenario": path.stem,
                    "structure": structure,
                    "leads": leads,
                    "seconds": spread(times),
                    "leads_per_second": spread(rates),
                }
            )
    return rows


def bench_effects_cost(leads: int, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """The full model against the engine alone: a scaled Conveyor with every effect on, then off.

    Both run on the same lead stream (``without_sales_effects`` changes no
    draw), alternating, so each ratio compares runs made a moment apart.
    """
    from sim.config.variants import without_sales_effects

    full = scaled_conveyor(leads)
    rates, n_leads = paired_rates(full, without_sales_effects(full), repeats)
    for repeat in range(repeats):
        log(
            f"  effects repeat {repeat + 1}/{repeats}: full {rates[0][repeat]:,.0f}, "
            f"engine {rates[1][repeat]:,.0f} leads/s"
        )
    return {
        "scenario": "scenarios/conveyor.toml scaled (as in figure 3), every effect on vs off",
        "leads": n_leads,
        "leads_per_second": {"full": spread(rates[0]), "engine": spread(rates[1])},
        "full_over_engine": spread([f / e for f, e in zip(*rates, strict=True)]),
    }


def bench_effect_groups(leads: int, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """What each group of sales effects costs: the full model, then that group off alone.

    Each group's runs alternate with runs of the full model, a pair at a
    time, so each share compares runs made a moment apart. Switching a group
    off changes what happens to the leads as well as the work per lead (with
    people effects off every rep is ramped and nobody leaves, so more leads
    pass), so a share is what the group costs in this market, not a price per
    event.
    """
    full = scaled_conveyor(leads)
    groups: dict[str, Any] = {}
    n_leads = 0
    for group, what in EFFECT_GROUPS.items():
        (on, off), n_leads = paired_rates(full, one_group_off(full, group), repeats)
        # Rates are leads / t: 1 - t_off / t_full = 1 - rate_full / rate_off.
        shares = [1 - f / o for f, o in zip(on, off, strict=True)]
        groups[group] = {
            "what": what,
            "leads_per_second": spread(off),
            "full_leads_per_second": spread(on),
            "share_of_full_time": spread(shares),
        }
        log(f"  {group} off: saves {100 * statistics.median(shares):.1f} % of the full time")
    return {
        "scenario": "scenarios/conveyor.toml scaled (as in figure 3), one group of effects off",
        "leads": n_leads,
        "groups": groups,
    }


def paired_rates(first, second, repeats: int) -> tuple[tuple[list[float], list[float]], int]:
    """Leads per second of two variants of a Conveyor, run in pairs whose order alternates."""
    from sim.model.structures import run_structure

    stream, streams = draw_stream(first, 0)
    rates: tuple[list[float], list[float]] = ([], [])
    for repeat in range(repeats):
        for which in (0, 1) if repeat % 2 == 0 else (1, 0):
            started = time.perf_counter()
            run_structure("conveyor", stream, (first, second)[which], streams)
            rates[which].append(len(stream) / (time.perf_counter() - started))
    return rates, len(stream)


EFFECT_GROUPS = {
    "calendar": "reps work around the clock: no nights, weekends or leave",
    "calendar_machinery": "calendar on, 7 days of 24 hours, no leave: its look-ups, not its queues",
    "people": "levels, ramp-up, turnover, skill and learning off",
    "decay": "no patience and no decay of waiting leads",
    "accounts": "account care off (reviews, churn, expansion) and with it referrals",
    "referrals": "referrals off",
    "fulfilment": "no operations team implementing new customers",
}
"""Groups of sales effects the bench switches off one at a time (figure 2c)."""


def one_group_off(scenario, group: str):
    """``scenario`` with one of ``EFFECT_GROUPS`` off, everything else as it was."""
    from sim.config.scenario import Scenario
    from sim.config.variants import without_people_effects

    if group == "people":
        return without_people_effects(scenario)
    data = scenario.model_dump(mode="json")
    if group == "calendar_machinery":
        data["calendar"].update(days_per_week=7, hours_per_day=24.0, start_hour=0.0)
        data["calendar"].update(holidays=[], leave_days_per_year=0)
    else:
        data[group] = {}  # a block's defaults: the effect off, as ``without_sales_effects``
        if group == "accounts":
            data["referrals"] = {}  # advocates are accounts: no accounts, no referrals
    return Scenario.from_dict(data, scenario.name)


# ---------------------------------------------------------------------------
# Figure 3: scaling and memory, one fresh subprocess per measurement
# ---------------------------------------------------------------------------

CONVEYOR_LEADS_PER_YEAR = 3650.0  # scenarios/conveyor.toml: 10 leads a day for 365 days


def scaled_conveyor(leads: int):
    """``scenarios/conveyor.toml`` with arrivals and every headcount times leads / 3,650."""
    from sim.config.scenario import Scenario

    base = Scenario.from_file(SCENARIOS / "conveyor.toml")
    factor = leads / (base.leads.arrivals_per_day * base.horizon_days)
    team = base.structures.conveyor
    overrides = [
        "replications=1",
        f"leads.arrivals_per_day={base.leads.arrivals_per_day * factor!r}",
    ]
    for field in ("lead_gen", "qualifiers", "closers", "account_managers"):
        overrides.append(
            f"structures.conveyor.{field}={max(1, round(getattr(team, field) * factor))}"
        )
    # The operations team that implements new customers is a headcount too: left at
    # its size, it would fall ever further behind and the run would hold a growing
    # queue of customers waiting to go live instead of live accounts.
    overrides.append(f"fulfilment.ops_staff={max(1, round(base.fulfilment.ops_staff * factor))}")
    return Scenario.from_file(SCENARIOS / "conveyor.toml", overrides)


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far.

    On Linux from ``VmHWM``, which starts afresh with the new program at
    ``exec``; ``ru_maxrss`` would still carry the peak of the parent that
    forked this process (the bench's own, after the engine figure).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class GcClock:
    """Time spent in Python's cyclic garbage collector while inside the ``with`` block."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full_collections = 0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.full_collections += info["generation"] == 2

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def measure_conveyor(leads: int) -> dict[str, Any]:
    """In this (fresh) process: one scaled Conveyor run, its peak RSS and parquet size."""
    from sim.files.tables import write_parquet
    from sim.model.structures import run_structure
    from sim.version import __version__

    scenario = scaled_conveyor(leads)
    before = peak_rss_bytes()
    gc_clock = GcClock()
    started = time.perf_counter()
    stream, streams = draw_stream(scenario, 0)
    with gc_clock:
        tables = run_structure("conveyor", stream, scenario, streams)
    seconds = time.perf_counter() - started
    after_run = peak_rss_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "leads.parquet"
        write_parquet(tables.leads, path, {"salesim_version": __version__, "seed": scenario.seed})
        parquet_bytes = path.stat().st_size
    return {
        "leads": len(stream),
        "seconds": seconds,
        "gc_seconds": gc_clock.seconds,
        "gc_full_collections": gc_clock.full_collections,
        "rss_before_bytes": before,
        "peak_rss_after_run_bytes": after_run,
        "peak_rss_after_parquet_bytes": peak_rss_bytes(),
        "parquet_bytes": parquet_bytes,
    }


def reset_peak_rss() -> None:
    """Start ``VmHWM`` afresh from the current RSS (Linux; elsewhere nothing happens)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def measure_in_subprocess(sizes: Sequence[int]) -> list[dict[str, Any]]:
    """``measure_conveyor`` for each size, one after the other, in a fresh interpreter.

    One size per interpreter keeps each peak RSS that run's alone; several
    sizes (``--quick``) save interpreter start-ups, the peak being reset
    between runs.
    """
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--measure-conveyor", *map(str, sizes)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in out.stdout.strip().splitlines()[-len(sizes) :]]


def scaling_point(factor: float, runs: list[dict[str, Any]]) -> dict:
    """One size of the scaling figure from its repeated measurements."""
    leads = runs[0]["leads"]
    peak = [r["peak_rss_after_parquet_bytes"] for r in runs]
    growth = [r["peak_rss_after_parquet_bytes"] - r["rss_before_bytes"] for r in runs]
    return {
        "factor": factor,
        "leads": leads,
        "seconds": spread([r["seconds"] for r in runs]),
        "leads_per_second": spread([leads / r["seconds"] for r in runs]),
        "gc_share_of_time": spread([r["gc_seconds"] / r["seconds"] for r in runs]),
        "gc_full_collections": spread([r["gc_full_collections"] for r in runs]),
        "rss_before_bytes": spread([r["rss_before_bytes"] for r in runs]),
        "peak_rss_after_run_bytes": spread([r["peak_rss_after_run_bytes"] for r in runs]),
        "peak_rss_bytes": spread(peak),
        "rss_growth_bytes_per_lead": spread([g / leads for g in growth]),
        "parquet_bytes": runs[0]["parquet_bytes"],
        "parquet_bytes_per_lead": runs[0]["parquet_bytes"] / leads,
    }


def bench_scaling(
    base_leads: int,
    factors: Sequence[int],
    repeats: int,
    million: bool,
    log: Callable[[str], None],
    one_process: bool = False,
) -> dict[str, Any]:
    """Figure 3: time and memory against leads, and log-log slopes (1 = linear).

    With ``million``, one more run of 1,000,000 leads (once: it takes minutes)
    checks the memory target directly instead of extrapolating. With
    ``one_process`` each repeat measures every size in one interpreter.
    """
    sizes = [base_leads * f for f in factors]
    runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    for repeat in range(repeats):
        batches = [sizes] if one_process else [[size] for size in sizes]
        for batch in batches:
            for size, run in zip(batch, measure_in_subprocess(batch), strict=True):
                runs[size].append(run)
                log(
                    f"  scaling {size // base_leads}x repeat {repeat + 1}/{repeats}: "
                    f"{run['leads']:,} leads in {run['seconds']:.1f} s, peak RSS "
                    f"{run['peak_rss_after_parquet_bytes'] / 2**20:,.0f} MiB"
                )
    points = [scaling_point(f, runs[size]) for f, size in zip(factors, sizes, strict=True)]
    if million:
        run = measure_in_subprocess([1_000_000])
        log(f"  1,000,000 leads: {run[0]['seconds']:.1f} s")
        points.append(scaling_point(1_000_000 / base_leads, run))
    return {
        "scenario": "scenarios/conveyor.toml, arrivals and headcounts scaled together",
        "points": points,
        **linearity(points),
    }


def linearity(points: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Is time, is memory linear in leads?

    Time: the slope of log time on log leads (1 = linear, above 1 = each lead
    gets dearer as runs grow). Memory: a straight line ``peak RSS = fixed +
    per_lead x leads`` through the points (the interpreter and libraries are a
    fixed cost), how far the worst point lies from it, and the marginal bytes
    per lead between consecutive sizes. Memory is at most linear when the
    marginal cost never rises; it falls while fixed costs (pandas, the pools of
    Python's allocator) are still being amortised, which bends the points
    below a straight line without any lead costing more.
    """
    leads = np.array([p["leads"] for p in points], dtype=float)
    seconds = np.array([p["seconds"]["median"] for p in points])
    peak = np.array([p["peak_rss_bytes"]["median"] for p in points], dtype=float)
    per_lead, fixed = np.polyfit(leads, peak, 1)
    deviation = np.abs(peak - (fixed + per_lead * leads)) / peak
    marginal = np.diff(peak) / np.diff(leads)
    return {
        "time_log_log_slope": float(np.polyfit(np.log(leads), np.log(seconds), 1)[0]),
        "memory_fit_bytes_per_lead": float(per_lead),
        "memory_fit_fixed_bytes": float(fixed),
        "memory_fit_max_relative_deviation": float(deviation.max()),
        "memory_marginal_bytes_per_lead": [float(m) for m in marginal],
        "memory_marginal_max_rise": float(max(marginal[1:] / marginal[:-1] - 1.0, default=0.0)),
    }


# ---------------------------------------------------------------------------
# Figure 4: a sweep on 1 and 2 local workers (benchmarks/sweep_speed.py)
# ---------------------------------------------------------------------------


def bench_parallel(sweep_file: Path, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Runs per second of one sweep on 1 and on 2 local workers, alternating."""
    from benchmarks.sweep_speed import timed_sweep

    rates: dict[int, list[float]] = {1: [], 2: []}
    inside: list[float] = []
    runs = 0
    for repeat in range(repeats):
        for workers in (1, 2) if repeat % 2 == 0 else (2, 1):
            runs, wall, run_seconds = timed_sweep(sweep_file, workers)
            rates[workers].append(runs / wall)
            if workers == 1:
                inside.append(run_seconds / runs)
            log(
                f"  sweep repeat {repeat + 1}/{repeats}, "
                f"{workers} worker(s): {runs / wall:.2f} runs/s"
            )
    return {
        "sweep": str(sweep_file.relative_to(ROOT)),
        "runs": runs,
        "seconds_per_run": spread(inside),
        "runs_per_second": {str(w): spread(v) for w, v in rates.items()},
        "speedup_2_workers": spread([b / a for a, b in zip(rates[1], rates[2], strict=True)]),
    }


COMPARE_SETTINGS = ("replications=3", "horizon_days=3650")
"""compare's bench: the baseline market over ten years (the longest horizon a scenario
takes), runs of 1.2 s on a fast phase of the host (2000 days gave runs of two seconds,
then under one once the model got faster; 3000 days runs of 0.97 s by 2026-12-01)."""

COMPARE_QUICK = ("replications=2", "horizon_days=160", "leads.arrivals_per_day=3")

COMPARE_STRUCTURES = ("conveyor", "pods")


def timed_compare(scenario, structures: Sequence[str], workers: int) -> tuple[int, float]:
    """Both of compare's passes on ``workers`` local processes: (runs, wall seconds).

    Timed as the command runs them, the pool's start included; the report is
    not drawn (it is the same serial work on any number of workers).
    """
    from sim.model.runner import replication_runs, simulate_both

    started = time.perf_counter()
    with replication_runs(workers) as runs:
        simulate_both(scenario, structures, runs=runs)
    return 2 * scenario.replications * len(structures), time.perf_counter() - started


def bench_compare(
    overrides: Sequence[str], repeats: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """Replications per second of compare's simulation on 1 and on 2 local workers, alternating."""
    from sim.config.scenario import Scenario

    scenario = Scenario.from_file(ROOT / "scenarios" / "baseline.toml", list(overrides))
    rates: dict[int, list[float]] = {1: [], 2: []}
    seconds_per_run: list[float] = []
    for repeat in range(repeats):
        for workers in (1, 2) if repeat % 2 == 0 else (2, 1):
            runs, wall = timed_compare(scenario, COMPARE_STRUCTURES, workers)
            # A replication of compare: every structure, in both passes.
            rates[workers].append(runs / len(COMPARE_STRUCTURES) / 2 / wall)
            if workers == 1:
                seconds_per_run.append(wall / runs)
            log(
                f"  compare repeat {repeat + 1}/{repeats}, {workers} worker(s): "
                f"{rates[workers][-1]:.2f} replications/s"
            )
    return {
        "scenario": "scenarios/baseline.toml",
        "overrides": list(overrides),
        "structures": list(COMPARE_STRUCTURES),
        "runs": runs,
        "seconds_per_run": spread(seconds_per_run),
        "replications_per_second": {str(w): spread(v) for w, v in rates.items()},
        "speedup_2_workers": spread([b / a for a, b in zip(rates[1], rates[2], strict=True)]),
    }


# ---------------------------------------------------------------------------
# Figure 5: profile of a Conveyor run
# ---------------------------------------------------------------------------


def profile_run(scenario, top: int = 25) -> tuple[str, dict[str, Any]]:
    """Profile one Conveyor run of ``scenario``: the pstats report and its top entries.

    Returns the text report (by own time, then cumulative) and, for the JSON,
    the top entries by own time and salesim's own functions by cumulative time.
    """
    from sim.model.structures import run_structure

    stream, streams = draw_stream(scenario, 0)
    profiler = cProfile.Profile()
    profiler.enable()
    run_structure("conveyor", stream, scenario, streams)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())

    def entry(key: tuple, value: tuple) -> dict[str, Any]:
        file, line, func = key
        where = file.replace(str(ROOT) + os.sep, "")
        if "site-packages" in where:
            where = where.split("site-packages" + os.sep)[-1]
        return {
            "function": f"{where}:{line}({func})",
            "calls": value[1],
            "tottime_s": value[2],
            "cumtime_s": value[3],
            "share_of_total": value[2] / total if total else math.nan,
        }

    by_own = sorted(raw.items(), key=lambda item: -item[1][2])[:top]
    ours = [item for item in raw.items() if str(ROOT / "sim") in item[0][0]]
    by_cumulative = sorted(ours, key=lambda item: -item[1][3])[:top]
    return text.getvalue(), {
        "leads": len(stream),
        "profiled_seconds": total,
        "top": [entry(k, v) for k, v in by_own],
        "sim_cumulative": [entry(k, v) for k, v in by_cumulative],
    }


def bench_profile(engine_leads: int, full_leads: int) -> tuple[str, dict[str, Any]]:
    """Figure 5: profiles of the engine network and of the full Conveyor, effects on."""
    engine_text, engine = profile_run(salesim_scenario(Network.for_leads(engine_leads)))
    full_text, full = profile_run(scaled_conveyor(full_leads))
    text = (
        f"# Engine network, every sales effect off, {engine['leads']:,} leads\n{engine_text}\n"
        f"# scenarios/conveyor.toml scaled, every effect on, {full['leads']:,} leads\n{full_text}"
    )
    return text, {"engine": engine, "full": full}


def trace_memory(leads: int, top: int = 15) -> None:
    """Print what is alive at the end of a scaled Conveyor run, by source line (tracemalloc).

    The snapshot is taken as ``simpy.Environment.run`` returns, before the
    lead table is built: the simulation's own per-lead state.
    """
    import linecache
    import tracemalloc

    import simpy

    from sim.model.structures import run_structure

    scenario = scaled_conveyor(leads)
    stream, streams = draw_stream(scenario, 0)
    snapshots = []
    original_run = simpy.Environment.run

    def run_and_snapshot(self, until=None):
        result = original_run(self, until)
        snapshots.append(tracemalloc.take_snapshot())
        return result

    simpy.Environment.run = run_and_snapshot  # type: ignore[method-assign]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    try:
        run_structure("conveyor", stream, scenario, streams)
    finally:
        simpy.Environment.run = original_run  # type: ignore[method-assign]
    _, peak = tracemalloc.get_traced_memory()
    n = len(stream)
    stats = snapshots[-1].compare_to(before, "lineno")
    live = sum(s.size_diff for s in stats)
    print(f"{n:,} leads; traced peak {peak / n:,.0f} B/lead (Python allocations only)")
    print(f"allocated during the run and alive when env.run returns: {live / n:,.0f} B/lead")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        where = frame.filename.replace(str(ROOT) + os.sep, "").split("site-packages/")[-1]
        code = linecache.getline(frame.filename, frame.lineno).strip()[:60]
        size = stat.size_diff / n
        print(f"{size:6,.0f} B/lead {stat.count_diff:>9,} blocks  {where}:{frame.lineno}")
        print(f"{'':>30}{code}")


# ---------------------------------------------------------------------------
# Machine, output, table
# ---------------------------------------------------------------------------


def spread(values: Sequence[float]) -> dict[str, Any]:
    """The min / median / max of repeated measurements, and the values themselves."""
    values = [float(v) for v in values]
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "values": values,
    }


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
    }


def package_versions() -> dict[str, str | None]:
    """Installed versions of salesim and what it and the baselines run on."""
    versions: dict[str, str | None] = {}
    for name in ("salesim", "simpy", "ciw", "numpy", "pandas", "pyarrow", "scipy", "pydantic"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


PEAK_RSS_TARGET_BYTES = 2**30
"""Issue 20: a 1,000,000-lead Conveyor run, every effect on, peaks under 1 GiB of RSS."""

MARGINAL_TARGET_BYTES_PER_LEAD = 600.0
"""Issue 20: each lead more costs at most 600 bytes of peak RSS."""


def target(value: Any, goal: str, met: bool | str) -> dict[str, Any]:
    """One target: the figure measured in this run, the goal, and whether it is met."""
    return {"value": value, "target": goal, "met": met}


def targets(doc: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets, judged on the medians of ratios measured in this run."""
    out: dict[str, Any] = {}
    engine = doc.get("engine")
    if engine:
        ratios = engine["ratios"]
        simpy_ratio = ratios["salesim_vs_simpy_minimal"]["median"]
        out["salesim / minimal SimPy"] = target(simpy_ratio, ">= 0.5", simpy_ratio >= 0.5)
        if "salesim_vs_ciw" in ratios:
            ciw = ratios["salesim_vs_ciw"]["median"]
            out["salesim / Ciw"] = target(ciw, ">= 2", ciw >= 2.0)
    for key, label in (("parallel", "sweep"), ("parallel_compare", "compare")):
        if doc.get(key):
            out[f"{label}: 2 workers / 1 worker (runs >= 1 s)"] = speedup_target(doc[key])
    effects = doc.get("effects")
    if effects:
        ratio = effects["full_over_engine"]["median"]
        out["full model / engine (effects off), leads/s"] = target(ratio, ">= 0.5", ratio >= 0.5)
    if doc.get("scaling"):
        out.update(memory_targets(doc["scaling"]))
    return out


def speedup_target(parallel: dict[str, Any]) -> dict[str, Any]:
    """2 workers against 1, judged only on runs of a second or more (issue 7's target).

    Shorter runs are dominated by the pool's start, not by the work it shares out.
    """
    long_runs = parallel["seconds_per_run"]["median"] >= 1.0
    ratio = parallel["speedup_2_workers"]["median"]
    return target(
        ratio, ">= 1.8", ratio >= 1.8 if long_runs else "not judged: runs shorter than 1 s"
    )


def memory_targets(scaling: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS of a 1,000,000-lead run and the marginal bytes per lead, each with its target.

    The peak is the 1,000,000-lead run's own when the bench ran it, else the
    largest size's growth per lead extrapolated to a million leads (said so).
    The marginal cost is the medians' slope between the two largest sizes:
    fixed costs (the interpreter, libraries, the allocators' pools, the
    parquet writer's row group) cancel out of it.
    """
    out: dict[str, Any] = {}
    largest = scaling["points"][-1]
    measured = largest["leads"] >= 990_000
    peak = largest["peak_rss_bytes"]["median"]
    if not measured:
        per_lead = largest["rss_growth_bytes_per_lead"]["median"]
        peak = largest["rss_before_bytes"]["median"] + per_lead * 1_000_000
    label = "1,000,000-lead Conveyor peak RSS, MiB" + ("" if measured else " (extrapolated)")
    out[label] = target(peak / 2**20, "< 1,024", peak < PEAK_RSS_TARGET_BYTES)
    marginal = scaling["memory_marginal_bytes_per_lead"][-1]
    sizes = f"{scaling['points'][-2]['leads']:,} to {largest['leads']:,} leads"
    out[f"marginal peak RSS per lead, {sizes}, bytes"] = target(
        marginal, "<= 600", marginal <= MARGINAL_TARGET_BYTES_PER_LEAD
    )
    # Memory must not grow faster than leads: the marginal cost never rises with size.
    rise = scaling["memory_marginal_max_rise"]
    out["marginal bytes per lead never up > 10 % between sizes"] = target(
        rise, "<= 0.10", rise <= 0.10
    )
    return out


def _mmm(s: dict[str, Any], fmt: str = ",.0f") -> str:
    """Median (min-max) of a repeated figure."""
    return f"{s['median']:{fmt}} ({s['min']:{fmt}}-{s['max']:{fmt}})"


def _print_engine(engine: dict[str, Any]) -> None:
    print(f"\n1. Engine: tandem 4/3/2 servers, rho 0.75, {engine['leads']:,} leads")
    print(f"   {'engine':<15}{'leads/s median (min-max)':<32}{'stage-1 wait vs Erlang C':<26}")
    for name in engine["engines"]:
        wait = engine["stage1_wait"][name]
        print(
            f"   {name:<15}{_mmm(engine['leads_per_second'][name]):<32}"
            f"{wait['relative_error']:+.2%} "
            f"(CI {'contains' if wait['contains_erlang_c'] else 'MISSES'})"
        )
    for key, value in engine["ratios"].items():
        print(f"   ratio {key}: {_mmm(value, '.2f')}")
    print(
        f"   Erlang C stage-1 wait {engine['erlang_c_stage1_wait_days']:.5f} days; "
        "salesim, SimPy and floor differ lead by lead by at most "
        f"{engine['max_lead_by_lead_wait_difference_days']:.2g} days"
    )


def _print_full(full: list[dict[str, Any]]) -> None:
    print("\n2. Full model, every effect on (leads/s of run_structure)")
    for row in full:
        print(
            f"   {row['scenario'] + '/' + row['structure']:<24}{row['leads']:>9,} leads  "
            f"{_mmm(row['leads_per_second'])}"
        )


def _print_effects(effects: dict[str, Any]) -> None:
    print(f"\n2b. Effects: {effects['scenario']}, {effects['leads']:,} leads")
    for name, rate in effects["leads_per_second"].items():
        print(f"   {name:<8}{_mmm(rate)} leads/s")
    print(f"   full / engine: {_mmm(effects['full_over_engine'], '.3f')}")


def _print_effect_groups(groups: dict[str, Any]) -> None:
    print(f"\n2c. One group of effects off: {groups['leads']:,} leads; share of full time saved")
    for group, entry in groups["groups"].items():
        share = {k: 100 * v for k, v in entry["share_of_full_time"].items() if k != "values"}
        print(f"   {group:<19}{_mmm(share, '.1f')} %   {entry['what']}")


def _print_scaling(scaling: dict[str, Any]) -> None:
    print(f"\n3. Scaling: {scaling['scenario']}")
    for p in scaling["points"]:
        print(
            f"   {p['factor']:>5.3g}x {p['leads']:>10,} leads  {_mmm(p['seconds'], '.2f')} s  "
            f"{_mmm(p['leads_per_second'])} leads/s  "
            f"peak RSS {p['peak_rss_bytes']['median'] / 2**20:,.0f} MiB  "
            f"RSS growth {p['rss_growth_bytes_per_lead']['median']:,.0f} B/lead  "
            f"parquet {p['parquet_bytes_per_lead']:,.0f} B/lead  "
            f"GC {p['gc_share_of_time']['median']:.0%} of the time"
        )
    print(
        f"   time: log-log slope {scaling['time_log_log_slope']:.2f} (1.00 = linear); "
        f"peak RSS = {scaling['memory_fit_fixed_bytes'] / 2**20:,.0f} MiB + "
        f"{scaling['memory_fit_bytes_per_lead']:,.0f} B/lead, worst point "
        f"{scaling['memory_fit_max_relative_deviation']:.1%} off the line; marginal "
        + ", ".join(f"{m:,.0f}" for m in scaling["memory_marginal_bytes_per_lead"])
        + " B/lead between sizes"
    )


def _print_parallel(parallel: dict[str, Any]) -> None:
    print(f"\n4. Parallel: {parallel['sweep']}, {parallel['runs']} runs")
    for workers, rate in parallel["runs_per_second"].items():
        print(f"   {workers} worker(s): {_mmm(rate, '.2f')} runs/s")
    print(f"   speed-up with 2 workers: {_mmm(parallel['speedup_2_workers'], '.2f')}")


def _print_parallel_compare(compare: dict[str, Any]) -> None:
    print(
        f"\n4b. Parallel compare: {compare['scenario']} {' '.join(compare['overrides'])}, "
        f"{', '.join(compare['structures'])}, {compare['runs']} runs of "
        f"{_mmm(compare['seconds_per_run'], '.2f')} s (both passes)"
    )
    for workers, rate in compare["replications_per_second"].items():
        print(f"   {workers} worker(s): {_mmm(rate, '.3f')} replications/s")
    print(f"   speed-up with 2 workers: {_mmm(compare['speedup_2_workers'], '.2f')}")


def _print_profiles(profiles: dict[str, Any]) -> None:
    for label, key in (("engine network", "engine"), ("full model", "full")):
        profile = profiles.get(key)
        if profile:
            print(
                f"\n5. Profile, Conveyor {label}, {profile['leads']:,} leads, "
                f"{profile['profiled_seconds']:.1f} s under cProfile (top by own time)"
            )
            for entry in profile["top"][:10]:
                print(
                    f"   {entry['share_of_total']:6.1%} {entry['tottime_s']:7.2f} s  "
                    f"{entry['function']}"
                )


def print_table(doc: dict[str, Any]) -> None:
    """The human-readable summary (medians, with min-max), part by part."""
    parts = (
        ("engine", _print_engine),
        ("full_model", _print_full),
        ("effects", _print_effects),
        ("effect_groups", _print_effect_groups),
        ("scaling", _print_scaling),
        ("parallel", _print_parallel),
        ("parallel_compare", _print_parallel_compare),
    )
    for key, show in parts:
        if doc.get(key):
            show(doc[key])
    _print_profiles(doc.get("profile", {}))
    if doc.get("targets"):
        print("\nTargets (medians of this run)")
        for key, entry in doc["targets"].items():
            value = entry["value"]
            # Three decimals: a median of 0.4995 shown as 0.50 next to "NOT MET" reads as an error.
            shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"
            met = {True: "met", False: "NOT MET"}.get(entry["met"], entry["met"])
            print(f"   {key}: {shown} (target {entry['target']}): {met}")
    print(f"\nload average {doc['load_average_before']} before, {doc['load_average_after']} after")


def write_document(doc: dict[str, Any], profile_text: str | None, out_dir: Path) -> None:
    """``bench.json`` (and ``profile.txt``) into ``out_dir``, all or nothing."""
    from sim.files.outdir import output_folder

    with output_folder(out_dir) as folder, folder.writing() as tmp:
        (tmp / "bench.json").write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
        if profile_text is not None:
            (tmp / "profile.txt").write_text(profile_text)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

PARTS = ("engine", "full", "scaling", "parallel", "profile")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The bench's options; ``--quick`` sets every size to tiny unless given."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--repeats", type=int, help="repeats per figure (default 3, quick 2)")
    parser.add_argument("--engine-leads", type=int, help="leads in the engine figure (200,000)")
    parser.add_argument(
        "--scaling-leads", type=int, help="leads at 1x in the scaling figure (15,625)"
    )
    parser.add_argument(
        "--no-million", action="store_true", help="skip the 1,000,000-lead memory run (minutes)"
    )
    parser.add_argument("--only", nargs="+", choices=PARTS, help="run only these figures")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench")
    parser.add_argument(
        "--trace-memory",
        type=int,
        metavar="LEADS",
        help="only print what a scaled Conveyor run of LEADS leads keeps alive, by source line",
    )
    parser.add_argument("--measure-conveyor", type=int, nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    args.repeats = args.repeats or (2 if quick else 3)
    args.engine_leads = args.engine_leads or (4_000 if quick else 200_000)
    args.scaling_leads = args.scaling_leads or (300 if quick else 15_625)
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the bench, print the table, write ``bench.json``; returns the document."""
    args = parse_args(argv)
    if args.measure_conveyor is not None:
        for leads in args.measure_conveyor:
            reset_peak_rss()
            print(json.dumps(measure_conveyor(leads)), flush=True)
        return {}
    if args.trace_memory is not None:
        trace_memory(args.trace_memory)
        return {}
    parts = set(args.only or PARTS)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    doc: dict[str, Any] = {
        "command": " ".join(
            ["python -m benchmarks.bench", *(argv if argv is not None else sys.argv[1:])]
        ),
        "quick": args.quick,
        "repeats": args.repeats,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(),
        "packages": package_versions(),
        "load_average_before": round(os.getloadavg()[0], 2),
    }
    started = time.perf_counter()
    if "engine" in parts:
        log(f"1. engine, {args.engine_leads:,} leads x {args.repeats}")
        doc["engine"] = bench_engine(args.engine_leads, args.repeats, log)
    if "full" in parts:
        log("2. full model, every shipped scenario")
        overrides = ["horizon_days=160", "leads.arrivals_per_day=3"] if args.quick else []
        doc["full_model"] = bench_full_model(args.repeats, overrides, log)
        log(f"2b. full model / engine, {4 * args.scaling_leads:,} leads")
        doc["effects"] = bench_effects_cost(4 * args.scaling_leads, args.repeats, log)
        log(f"2c. each group of effects off alone, {2 * args.scaling_leads:,} leads")
        doc["effect_groups"] = bench_effect_groups(2 * args.scaling_leads, args.repeats, log)
    if "scaling" in parts:
        log(f"3. scaling from {args.scaling_leads:,} leads")
        million = not args.quick and not args.no_million
        doc["scaling"] = bench_scaling(
            args.scaling_leads, (1, 4, 16), args.repeats, million, log, one_process=args.quick
        )
    if "parallel" in parts:
        sweep_file = (
            ROOT / "benchmarks" / ("sweep_quick.toml" if args.quick else "sweep_speed.toml")
        )
        log(f"4. parallel sweep {sweep_file.name}")
        doc["parallel"] = bench_parallel(sweep_file, args.repeats, log)
        log("4b. parallel compare")
        settings = COMPARE_QUICK if args.quick else COMPARE_SETTINGS
        doc["parallel_compare"] = bench_compare(settings, args.repeats, log)
    profile_text = None
    if "profile" in parts:
        log(f"5. profiles, {args.engine_leads:,} and {4 * args.scaling_leads:,} leads")
        profile_text, doc["profile"] = bench_profile(args.engine_leads, 4 * args.scaling_leads)
    doc["targets"] = targets(doc)
    doc["seconds"] = time.perf_counter() - started
    doc["load_average_after"] = round(os.getloadavg()[0], 2)
    write_document(doc, profile_text, args.out)
    print_table(doc)
    print(f"\nwrote {args.out / 'bench.json'} in {doc['seconds']:.0f} s")
    return doc


if __name__ == "__main__":
    main()
