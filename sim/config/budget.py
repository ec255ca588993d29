"""How big a run will be, before it starts: leads, samples, memory and time.

Like a removal firm's quote from a walk through the house: before anything is
packed, the scenario alone says how many leads will arrive, how many times
each is simulated (structures x replications, twice for ``compare``), how
many work-in-progress samples are taken, and so roughly how much memory and
time the command needs. A scenario of 10,000 leads a day for ten years (36
million leads per replication) is then refused in a second, with the estimate
and the way to go ahead anyway (``--yes``), instead of dying of MemoryError an
hour later. Pure Python: nothing here imports SimPy or runs a model.

The costs per simulated lead were measured with the real code, end to end
(``benchmarks/budget_constants.py``; 2 cores, Python 3.11, 2026-11): the
``simulate`` command (draw, run, build the tables, summarise, write) on
``scenarios/baseline.toml`` with every effect on (people, account reviews with
effort, referrals, fulfilment, competition, decay), arrivals and headcounts
scaled 2x, 8x and 32x (7,000 to 116,000 leads per run) for All-In and
Conveyor, Conveyor with 4 replications, all four structures with 2, and
``compare`` (both passes) on All-In and Conveyor, each in a fresh interpreter,
peak RSS from ``VmHWM``. A straight line through the nine points gives
178 MB + 771 bytes per lead-run; the worst point costs 1,104 bytes per
lead-run above that fixed part (2026-12-01, commit ``cce6e8c``, after the lead
stream's luck became a recipe drawn a block at a time; 190 MB + 1,355 bytes and
1,640 at worst before). Every lead-run a command holds (all of them for
``simulate`` and ``compare``: their tables are summarised at the end) costs
the same, whether it comes from a big run or from many replications; the
bench's million-lead Conveyor run (``docs/performance.md``: 662 MiB peak,
535 bytes per extra lead) costs less per lead, so the line is on the safe
side for large runs.
Samples were measured alone (a 10-year Conveyor run sampled every day and
every 0.05 days: 340-350 bytes and 8-10 microseconds per extra sample row). Time
fitted 8.6 s + 0.33 ms per lead-run, the slowest point 0.89 ms: timings on a
shared machine vary by a factor of two, so the estimate is rough.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.config.potential import organic_leads
from sim.config.scenario import LEVELS, STAGE_ROLES, STAGES, Scenario, ScenarioError

MiB = 2**20
GiB = 2**30

FIXED_BYTES = 256 * MiB
"""The interpreter with numpy, pandas, pyarrow, SimPy and, for reports, matplotlib
loaded, before any lead (measured: 190 MB fitted; a small ``compare``, which
draws its report, 250 MB)."""

BYTES_PER_LEAD_RUN = 1_400
"""Peak memory per simulated lead-run held until the results are written:
1,104 bytes measured at worst, plus a margin for plots and the allocator."""

BYTES_PER_SAMPLE_ROW = 400
"""Peak memory per work-in-progress sample row (one team at one sample time): 340 measured."""

SECONDS_PER_LEAD_RUN = 0.0005
"""Wall time per simulated lead-run (2,000 a second): between the fitted 0.33 ms and
the slowest point's 0.89 ms on a busy 2-core machine."""

SECONDS_PER_SAMPLE_ROW = 1e-5
"""Wall time per sample row (10 microseconds measured)."""

FIXED_SECONDS = 10.0
"""Start-up, summary and writing of a command (8.6 s fitted)."""

TIME_LIMIT_SECONDS = 3600.0
"""Longest estimated run accepted without ``--yes``: an hour."""

DISK_BYTES_PER_LEAD_RUN = 200
"""Output on disk per lead-run kept (leads.parquet: 107 bytes per row measured on
``scenarios/allin.toml``, one replication; doubled for the other tables and a margin)."""

DISK_BYTES_PER_SAMPLE_ROW = 100
"""Output on disk per sample row kept (samples.parquet: 68 bytes per row measured)."""

DISK_FIXED_BYTES = 16 * MiB
"""Figures, CSV summaries and the report (a compare folder holds about 2 MiB of them)."""

MAX_ESTIMATE = 1e30
"""Estimates are capped here, so that an exploding referral cascade still prints."""


@dataclass(frozen=True)
class Estimate:
    """The expected size of a command's work.

    Attributes:
        leads_per_replication: leads of the largest replication (organic leads
            plus the referral leads they can bring).
        lead_runs: leads times runs, summed over everything the command simulates.
        sample_rows: work-in-progress sample rows, summed likewise.
        peak_bytes: peak memory of the command.
        seconds: wall time of the command.
        disk_bytes: what its output folder needs on disk.
    """

    leads_per_replication: float
    lead_runs: float
    sample_rows: float
    peak_bytes: float
    seconds: float
    disk_bytes: float = DISK_FIXED_BYTES


def _best_win_probability(scenario: Scenario, factor: float) -> float:
    """Win probability with every stage at its best level and expertise (each capped at 1)."""
    levels = scenario.people.levels
    boost = max(levels.get(level).pass_prob_factor for level in LEVELS) * factor
    if scenario.structures.pods is not None:
        boost *= scenario.structures.pods.segment_expertise_factor
    return math.prod(min(1.0, scenario.stages.get(s).pass_prob * boost) for s in STAGES)


def referral_factor(scenario: Scenario) -> float:
    """Upper bound of all leads over organic leads, with referrals (1 without).

    A won account becomes an advocate at its ``reviews_to_advocate``-th review at
    the earliest, then brings referrals at ``per_advocate_per_year``; a referral
    that wins refers in turn. With ``lam`` that rate per day, ``t`` the horizon
    less the wait to advocacy and ``w`` a win probability, a lead and its
    descendants number at most ``exp(lam w t)``, so one organic lead brings at
    most ``1 + w_organic lam t exp(w_referral lam t)`` leads.
    """
    cfg = scenario.referrals
    if not cfg.enabled or cfg.per_advocate_per_year == 0:
        return 1.0
    rate = cfg.per_advocate_per_year / 365.0
    span = scenario.horizon_days - cfg.reviews_to_advocate * scenario.accounts.review_interval_days
    if span <= 0:
        return 1.0
    organic = _best_win_probability(scenario, 1.0)
    referred = _best_win_probability(scenario, cfg.pass_prob_factor)
    exponent = referred * rate * span
    cascade = math.exp(exponent) if exponent < 600 else math.inf
    return min(MAX_ESTIMATE, 1.0 + organic * rate * span * cascade)


def leads_per_replication(scenario: Scenario) -> float:
    """Expected leads of one replication, referral leads included (an upper bound for them)."""
    return min(MAX_ESTIMATE, organic_leads(scenario) * referral_factor(scenario))


def teams(scenario: Scenario, structure: str) -> int:
    """Teams a structure's work-in-progress monitor samples (one row each per sample)."""
    per_org = len(set(STAGE_ROLES[structure]))
    pods = scenario.structures.pods
    return per_org * len(pods.pods) if structure == "pods" and pods is not None else per_org


def sample_rows(scenario: Scenario, structure: str) -> float:
    """Sample rows of one run (at most one sample time too many).

    Every team is sampled at day 0 and then every ``sample_interval_days``
    before the horizon; added-up float times may give one more sample.
    """
    times = math.floor(scenario.horizon_days / scenario.sample_interval_days) + 1
    return float(times * teams(scenario, structure))


def _cost(lead_runs: float, rows: float) -> tuple[float, float]:
    """(bytes, seconds) of simulating ``lead_runs`` lead-runs with ``rows`` sample rows."""
    memory = BYTES_PER_LEAD_RUN * lead_runs + BYTES_PER_SAMPLE_ROW * rows
    return memory, SECONDS_PER_LEAD_RUN * lead_runs + SECONDS_PER_SAMPLE_ROW * rows


def estimate_runs(
    scenario: Scenario,
    structures: Sequence[str],
    passes: int = 1,
    rounds: int = 1,
    workers: int = 1,
) -> Estimate:
    """Estimate a command that runs the structures over every replication.

    Args:
        scenario: the validated scenario (its horizon, replications, lead stream).
        structures: the structures run.
        passes: 2 for ``compare``, which runs every structure again on lead
            streams of its own (common and independent random numbers).
        rounds: ``plan``: the most teams tried per structure. Each is
            simulated over every replication and reduced to a few numbers
            before the next, so memory holds one round of one structure.
        workers: local worker processes. Each holds one run (one structure in
            one replication) until it is sent back, beside the tables the
            command collects; the time is shared among them.

    Returns:
        The estimate.
    """
    leads = leads_per_replication(scenario)
    reps = scenario.replications
    rows = [reps * sample_rows(scenario, name) for name in structures]
    total_runs = leads * reps * len(structures) * passes * rounds
    total_rows = sum(rows) * passes * rounds
    if rounds > 1:
        held_runs, held_rows = leads * reps, max(rows)
    else:
        held_runs, held_rows = total_runs, total_rows
    memory, _ = _cost(held_runs, held_rows)
    if workers > 1:
        one_run, _ = _cost(leads, max(rows) / reps)
        memory += workers * (FIXED_BYTES + one_run)
    _, seconds = _cost(total_runs, total_rows)
    seconds /= max(1, workers)
    # Only simulate and compare keep every lead-run on disk; plan keeps a few rows per team.
    kept_runs, kept_rows = (total_runs, total_rows) if rounds == 1 else (0.0, 0.0)
    disk = DISK_FIXED_BYTES + DISK_BYTES_PER_LEAD_RUN * kept_runs
    disk += DISK_BYTES_PER_SAMPLE_ROW * kept_rows
    return Estimate(
        leads,
        total_runs,
        total_rows,
        FIXED_BYTES + memory,
        FIXED_SECONDS + seconds,
        min(disk, MAX_ESTIMATE),
    )


def estimate_sweep(
    points: Sequence[Scenario],
    structures: Sequence[str],
    replications: int,
    workers: int,
    runs_left: float = 1.0,
) -> Estimate:
    """Estimate a sweep: every point x structure x replication, ``workers`` at a time.

    Each worker process holds one run (one structure, one replication of one
    point) until it is stored; the sweep's own process only collects a row of
    results per run.

    Args:
        points: every grid point's scenario.
        structures: the structures run at every point.
        replications: replications per point and structure.
        workers: runs at the same time (worker processes, at least 1).
        runs_left: the share of runs still to do (a resumed sweep has stored some).

    Returns:
        The estimate.
    """
    workers = max(1, workers)
    biggest = max(points, key=leads_per_replication)
    leads = leads_per_replication(biggest)
    runs = sum(leads_per_replication(p) for p in points) * len(structures) * replications
    rows = sum(sample_rows(p, s) for p in points for s in structures) * replications
    one_run = max(
        _cost(leads_per_replication(p), sample_rows(p, s))[0] for p in points for s in structures
    )
    _, seconds = _cost(runs * runs_left, rows * runs_left)
    peak = FIXED_BYTES + workers * (FIXED_BYTES + one_run) if workers > 1 else FIXED_BYTES + one_run
    return Estimate(leads, runs, rows, peak, FIXED_SECONDS + seconds / workers)


def available_memory_bytes() -> int | None:
    """Memory this machine can give a new process now, or None if it cannot tell.

    Linux: ``MemAvailable`` in ``/proc/meminfo`` (free memory plus caches the
    kernel can drop). Elsewhere the free physical pages (``os.sysconf``), which
    understates what caches could give back.
    """
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def problems(
    estimate: Estimate,
    label: str,
    available_bytes: int | None = None,
    time_limit_seconds: float = TIME_LIMIT_SECONDS,
) -> list[str]:
    """One line per limit the estimate exceeds (memory, time); empty when it fits.

    Args:
        estimate: what the command would need.
        label: the file the lines name.
        available_bytes: memory available (None: not checked).
        time_limit_seconds: the longest acceptable run.
    """
    size = (
        f"about {_count(estimate.leads_per_replication)} leads per replication, "
        f"{_count(estimate.lead_runs)} lead-runs and {_count(estimate.sample_rows)} "
        "sample rows in all"
    )
    hint = (
        "make it smaller (fewer replications, structures or arrivals, a shorter horizon, "
        "a longer sample_interval_days) or add --yes to run it anyway"
    )
    lines = []
    if available_bytes is not None and estimate.peak_bytes > available_bytes:
        lines.append(
            f"{label}: too big for this machine: {size}, needing about "
            f"{_bytes(estimate.peak_bytes)} of memory ({BYTES_PER_LEAD_RUN:,} bytes per lead-run "
            f"held) with {_bytes(available_bytes)} available; " + hint
        )
    if estimate.seconds > time_limit_seconds:
        lines.append(
            f"{label}: too long: {size}, roughly {_duration(estimate.seconds)} at about "
            f"{1 / SECONDS_PER_LEAD_RUN:,.0f} lead-runs a second (the limit without --yes is "
            f"{_duration(time_limit_seconds)}); " + hint
        )
    return lines


def check(estimate: Estimate, label: str, go_ahead: bool) -> None:
    """Refuse a command whose estimate exceeds the memory available or the time limit.

    Args:
        estimate: what the command would need.
        label: the file the error lines name.
        go_ahead: ``--yes`` was given: never refuse.

    Raises:
        ScenarioError: one line per limit exceeded.
    """
    if go_ahead:
        return
    lines = problems(estimate, label, available_memory_bytes(), TIME_LIMIT_SECONDS)
    if lines:
        raise ScenarioError(lines)


def add_yes_argument(parser) -> None:
    """The ``--yes`` flag of every command that simulates."""
    parser.add_argument(
        "--yes",
        action="store_true",
        help="run even if the estimated memory exceeds what is available or the run "
        "would take more than an hour",
    )


def _count(value: float) -> str:
    return f"{value:,.0f}" if value < 1e15 else f"{value:.1e}"


def _bytes(value: float) -> str:
    if value >= 1e6 * GiB:
        return f"{value / GiB:.1e} GiB"
    return f"{value / GiB:,.1f} GiB" if value >= GiB else f"{value / MiB:,.0f} MiB"


def _duration(seconds: float) -> str:
    if seconds >= 3600 * 1e6:
        return f"{seconds / 3600:.1e} hours"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:,.0f} hours"
    return f"{seconds / 60:.0f} minutes"
