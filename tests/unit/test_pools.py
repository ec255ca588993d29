"""``Pool``, ``PriorityPool`` and ``Grant`` against ``simpy.Resource`` and ``PriorityResource``.

The lean pools of ``sim.model.pools`` replaced SimPy's resources; their docstrings
promise the same order. Here the same workloads (arrival times, priorities,
service times, patience, interruptions, the hot path's ``take``) run through
both, and every job's grant day (so its wait), outcome and end day, and the
order of grants, must be identical.

Where the order is defined, and where it is not (``Pool``'s docstring):

- Times drawn from continuous distributions never tie: there the order of
  every grant is defined and must agree exactly (random workloads below).
- Several requests at one instant (batch arrivals) are defined too: they
  queue by (priority, request day), then in the order they were made.
- With a first-come-first-served ``Pool``, ties between releases, requests and
  zero service times do not change who is served when (checked with
  integer-time workloads), only the order of processing at that instant.
- Within one instant, the order in which granted jobs *resume* is not
  compared: a ``take`` starts in the same step, a grant after the other
  events of that instant (``Pool.take``).
- Not defined: a release and a request of a *better* priority at the same
  instant (SimPy hands the freed server over when its ``Release`` event is
  processed, so a request made in between can take it; a ``PriorityPool``
  hands it to the head of its queue at once: see the last test), and a
  patience timeout at the same instant as a grant (which fires first depends
  on the order of events at that instant). Random workloads avoid both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import simpy
from hypothesis import given
from hypothesis import strategies as st

from sim.model.pools import FirstOf, Pool, PriorityPool


@dataclass(frozen=True)
class Job:
    """One customer of a pool: when it asks, how urgently, for how long, how patiently.

    ``fast`` jobs claim a server the way the model's hot path does (``take``,
    else a grant outside a ``with`` block, then ``release``); SimPy gets a
    plain request for them.
    """

    arrival: float
    service: float
    priority: int = 0
    patience: float | None = None
    interrupt_at: float | None = None  # absolute day at which another process interrupts it
    fast: bool = False


def simulate_pool(implementation: str, kind: str, capacity: int, jobs: list[Job]):
    """Run the jobs through one pool; returns (per-job outcome, order of service starts).

    A job's outcome is ``(grant day or None, how it ended, end day)``.
    ``implementation`` is ``"ours"`` (``Pool`` / ``PriorityPool``) or
    ``"simpy"`` (``simpy.Resource`` / ``simpy.PriorityResource``); ``kind`` is
    ``"fifo"`` or ``"priority"``.
    """
    env = simpy.Environment()
    if implementation == "ours":
        pool = Pool(env, capacity) if kind == "fifo" else PriorityPool(env, capacity)
    else:
        pool = (simpy.Resource if kind == "fifo" else simpy.PriorityResource)(env, capacity)
    outcome: dict[int, tuple] = {}
    started: list[int] = []

    def request(job: Job):
        if kind == "fifo":
            return pool.request()
        if implementation == "ours":
            return pool.request(job.priority)
        return pool.request(priority=job.priority)

    def fast_job(j: int, job: Job):
        # sim.model.journey.lead_journey's hot path: a free server at once, else queue for one.
        if not pool.take():
            yield pool.request(job.priority) if kind == "priority" else pool.request()
        started.append(j)
        granted = env.now
        yield env.timeout(job.service)
        pool.release()
        outcome[j] = (granted, "served", env.now)

    def job_process(j: int, job: Job):
        granted = None
        try:
            with request(job) as grant:
                if job.patience is None:
                    yield grant
                else:
                    yield grant | env.timeout(job.patience)
                    if not grant.triggered:
                        outcome[j] = (None, "abandoned", env.now)
                        return
                granted = env.now
                started.append(j)
                yield env.timeout(job.service)
            outcome[j] = (granted, "served", env.now)
        except simpy.Interrupt:
            outcome[j] = (granted, "interrupted", env.now)

    def interrupter(process, day: float):
        yield env.timeout(day - env.now)
        if process.is_alive:
            process.interrupt()

    def source():
        for j, job in enumerate(jobs):
            if job.arrival > env.now:
                yield env.timeout(job.arrival - env.now)
            use_fast = job.fast and implementation == "ours"
            process = env.process(fast_job(j, job) if use_fast else job_process(j, job))
            if job.interrupt_at is not None:
                env.process(interrupter(process, job.interrupt_at))

    env.process(source())
    env.run()
    if implementation == "ours":  # every server back, nobody left queueing
        assert (pool.free, len(pool.queue)) == (capacity, 0)
    else:
        assert (pool.count, len(pool.queue)) == (0, 0)
    return [outcome[j] for j in range(len(jobs))], started


def random_jobs(
    rng: np.random.Generator,
    n: int,
    capacity: int,
    *,
    priorities: int = 1,
    patience_share: float = 0.0,
    interrupt_share: float = 0.0,
    fast_share: float = 0.0,
    batch: bool = False,
) -> list[Job]:
    """Jobs with continuous times (so no two events tie), at a load that builds queues.

    With ``batch``, arrivals fall on whole days (several at once) and only
    the service times are continuous.
    """
    mean_service = 1.0
    gaps = rng.exponential(mean_service / (capacity * rng.uniform(0.8, 1.4)), n)
    arrivals = np.cumsum(gaps)
    if batch:
        arrivals = np.floor(arrivals / 2.0) * 2.0  # about 2 x capacity jobs per even day
    jobs = []
    for k in range(n):
        patient = rng.uniform() >= patience_share
        interrupted = rng.uniform() < interrupt_share
        fast = patient and not interrupted and rng.uniform() < fast_share
        jobs.append(
            Job(
                arrival=float(arrivals[k]),
                service=float(rng.exponential(mean_service)),
                priority=int(rng.integers(priorities)),
                patience=None if patient else float(rng.exponential(2.0)),
                interrupt_at=float(arrivals[k] + rng.exponential(2.0)) if interrupted else None,
                fast=fast,
            )
        )
    return jobs


def grant_order(outcome: list[tuple], started: list[int]) -> list[tuple[float, frozenset[int]]]:
    """The jobs granted at each instant, instants in order.

    Within one instant the order in which granted jobs resume is not
    compared: a ``take`` starts in the same step, a grant after the other
    events of the instant. With continuous times each instant has one grant.
    """
    order: list[tuple[float, set[int]]] = []
    for j in started:
        day = outcome[j][0]
        if order and order[-1][0] == day:
            order[-1][1].add(j)
        else:
            order.append((day, {j}))
    return [(day, frozenset(jobs)) for day, jobs in order]


def assert_same_as_simpy(kind: str, capacity: int, jobs: list[Job]) -> None:
    ours = simulate_pool("ours", kind, capacity, jobs)
    theirs = simulate_pool("simpy", kind, capacity, jobs)
    assert grant_order(*ours) == grant_order(*theirs), "jobs granted in another order"
    assert ours[0] == theirs[0], "another grant day (wait), outcome or end day"


WORKLOADS = {
    "plain": {},
    "patience_and_interrupts": {"patience_share": 0.4, "interrupt_share": 0.2},
    "fast_path": {"fast_share": 0.6},
    "everything": {"patience_share": 0.3, "interrupt_share": 0.15, "fast_share": 0.4},
}


@pytest.mark.parametrize("workload", list(WORKLOADS))
@pytest.mark.parametrize("capacity", [1, 3])
@pytest.mark.parametrize("kind", ["fifo", "priority"])
def test_random_workloads_match_simpy(kind, capacity, workload):
    for seed in range(12):
        rng = np.random.default_rng([seed, capacity, len(workload)])
        jobs = random_jobs(
            rng, 80, capacity, priorities=3 if kind == "priority" else 1, **WORKLOADS[workload]
        )
        assert_same_as_simpy(kind, capacity, jobs)


@pytest.mark.parametrize("capacity", [1, 2])
def test_batch_arrivals_queue_by_priority_then_request_order(capacity):
    for seed in range(12):
        rng = np.random.default_rng([seed, capacity, 99])
        jobs = random_jobs(
            rng, 80, capacity, priorities=3, batch=True, patience_share=0.2, fast_share=0.3
        )
        assert_same_as_simpy("priority", capacity, jobs)
        assert_same_as_simpy("fifo", capacity, jobs)


def test_random_workloads_really_queue_and_abandon():
    """The workloads above are not trivial: jobs wait, jump ahead, give up, get interrupted."""
    rng = np.random.default_rng([0, 3, len("everything")])
    jobs = random_jobs(rng, 80, 3, priorities=3, **WORKLOADS["everything"])
    outcome, started = simulate_pool("ours", "priority", 3, jobs)
    waits = [o[0] - job.arrival for o, job in zip(outcome, jobs, strict=True) if o[0] is not None]
    assert sum(w > 0 for w in waits) >= 10
    assert started != sorted(started)  # priorities overtook
    assert {"served", "abandoned", "interrupted"} <= {o[1] for o in outcome}
    assert any(job.fast for job in jobs)


@given(
    capacity=st.integers(1, 3),
    times=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), min_size=1, max_size=25),
)
def test_fifo_with_tied_integer_times_matches_simpy(capacity, times):
    """First come first served: ties (zero service, releases and requests at one instant) agree."""
    arrivals = np.cumsum([gap for gap, _ in times])
    jobs = [
        Job(arrival=float(a), service=float(s), fast=k % 2 == 1)
        for k, (a, (_, s)) in enumerate(zip(arrivals, times, strict=True))
    ]
    ours, _ = simulate_pool("ours", "fifo", capacity, jobs)
    theirs, _ = simulate_pool("simpy", "fifo", capacity, jobs)
    assert ours == theirs


def test_priority_order_with_fifo_among_equals_exact_log():
    # One server busy until day 2; then the queue is served by (priority, request day).
    jobs = [
        Job(arrival=0.0, service=2.0, priority=1),  # 0: served at once
        Job(arrival=0.5, service=1.0, priority=1),  # 1
        Job(arrival=1.0, service=1.0, priority=0),  # 2: better priority, overtakes 1
        Job(arrival=1.5, service=1.0, priority=1),  # 3: behind 1 (same priority, later)
        Job(arrival=1.6, service=1.0, priority=0),  # 4: behind 2, ahead of 1
    ]
    for implementation in ("ours", "simpy"):
        outcome, started = simulate_pool(implementation, "priority", 1, jobs)
        assert started == [0, 2, 4, 1, 3]
        assert [o[0] for o in outcome] == [0.0, 4.0, 2.0, 5.0, 3.0]


def test_take_fast_path_and_release_semantics():
    env = simpy.Environment()
    pool = Pool(env, 2)
    assert pool.take() and pool.take()
    assert not pool.take() and pool.free == 0  # no server left, nothing queued by take
    first, second = pool.request(), pool.request()
    assert not first.triggered and list(pool.queue) == [first, second]
    pool.release()  # the freed server goes straight to the head of the queue
    assert first.triggered and pool.free == 0 and list(pool.queue) == [second]
    pool.release()
    assert second.triggered and pool.free == 0
    pool.release()
    pool.release()
    assert pool.free == 2  # an empty queue: servers come back free
    assert pool.request().triggered  # granted at once while a server is free
    assert pool.free == 1


def test_a_withdrawn_request_leaves_the_queue_and_a_granted_one_frees_its_server():
    env = simpy.Environment()
    pool = PriorityPool(env, 1)
    assert pool.take()
    with pool.request(1) as waiting:
        assert list(pool.queue) == [waiting]
    assert not waiting.triggered and list(pool.queue) == []  # withdrawn, never granted
    pool.release()
    assert pool.free == 1
    with pool.request(0) as granted:
        assert granted.triggered and pool.free == 0
    assert pool.free == 1  # leaving the block released it, granted or just triggered


@pytest.mark.parametrize("implementation", ["ours", "simpy"])
def test_a_process_closed_at_the_end_of_a_run_keeps_its_server(implementation):
    """Like SimPy, a grant left by ``GeneratorExit`` is not released (no release at teardown)."""
    env = simpy.Environment()
    pool = Pool(env, 1) if implementation == "ours" else simpy.Resource(env, 1)

    def holder():
        with pool.request() as grant:
            yield grant
            yield env.timeout(10.0)

    generator = holder()
    env.process(generator)
    env.run(until=5.0)
    generator.close()  # what garbage collection does to a process unfinished at the end
    in_use = 1 - pool.free if implementation == "ours" else pool.count
    assert in_use == 1


def test_same_instant_release_and_better_request_differs_from_simpy_as_documented():
    """The one documented difference (``Pool``): a release and a better request at one instant.

    Job 0 holds the only server until day 1; job 1 (priority 1) waits. At day
    1, job 0 releases and, right after it at the same instant, job 2 asks
    with priority 0. SimPy hands the server over when its ``Release`` event
    is processed, after job 2 has asked: job 2 gets it. A ``PriorityPool``
    hands it to job 1 at the release.
    """
    jobs = [
        Job(arrival=0.0, service=1.0, priority=1),
        Job(arrival=0.5, service=1.0, priority=1),
        Job(arrival=1.0, service=1.0, priority=0),
    ]
    ours, _ = simulate_pool("ours", "priority", 1, jobs)
    theirs, _ = simulate_pool("simpy", "priority", 1, jobs)
    assert [o[0] for o in ours] == [0.0, 1.0, 2.0]
    assert [o[0] for o in theirs] == [0.0, 2.0, 1.0]


def resume_order(first_of: bool, nested: bool, processed_first: bool) -> list[tuple[float, str]]:
    """Who resumes when: waiters on "the first of two timeouts" among bystanders, all tied.

    Every timeout ends at a whole day, so the waiters, the bystanders that
    start at the same instants and the events they wait on all tie: only the
    event order decides who resumes first.
    """
    env = simpy.Environment()
    order: list[tuple[float, str]] = []

    def either(a: simpy.Event, b: simpy.Event) -> simpy.Event:
        return FirstOf(env, a, b) if first_of else a | b

    def waiter(name: str, first: float, second: float):
        a, b = env.timeout(first), env.timeout(second)
        if processed_first:
            yield env.timeout(first)  # ``a`` is processed before the wait is built
        wait = either(a, b)
        if nested:
            wait = either(wait, env.timeout(second + 1))
        yield wait
        order.append((env.now, f"{name} after {'a' if a.processed else 'b'}"))

    def bystander(name: str, day: float):
        yield env.timeout(day)
        order.append((env.now, name))

    for k, (first, second) in enumerate([(1, 2), (2, 1), (1, 1), (2, 2), (0, 3)]):
        env.process(bystander(f"bystander {k}", first))
        env.process(waiter(f"waiter {k}", first, second))
        env.process(bystander(f"late bystander {k}", min(first, second)))
    env.run()
    return order


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("processed_first", [False, True])
def test_first_of_resumes_where_a_simpy_condition_would(nested, processed_first):
    ours = resume_order(first_of=True, nested=nested, processed_first=processed_first)
    simpys = resume_order(first_of=False, nested=nested, processed_first=processed_first)
    assert len(ours) == 15
    assert ours == simpys
