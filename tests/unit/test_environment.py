"""The model's environment skips events only where nobody could tell.

``sim.model.environment.Environment`` lets a task take a free rep without its
grant, and a ``FirstOf`` fire without being scheduled, when nothing else
happens at that instant. The claim is that the order of everything else is
unchanged. Here: ``alone`` on hand-built instants, and whole runs (tied
times included, where the order of events at one instant decides who gets a
rep) against an environment that never skips, table for table.
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.config.scenario import Scenario
from sim.model import structures
from sim.model.environment import Environment
from sim.model.leads import generate_leads
from sim.model.pools import FirstOf, Grant, Pool
from sim.model.seeding import replication_streams
from sim.model.work import claim_rep
from tests.regression.variants import SCENARIOS, tied_times, whole_day_leads


class NeverAlone(Environment):
    """The environment before events were skipped: every grant and first-of is scheduled."""

    steps = 0

    def alone(self) -> bool:
        return False

    def step(self) -> None:
        type(self).steps += 1
        super().step()


class Counting(Environment):
    """The model's environment, counting the events it processes."""

    steps = 0

    def step(self) -> None:
        type(self).steps += 1
        super().step()


def test_alone_only_when_nothing_else_happens_at_the_instant():
    env = Environment()
    seen = []

    def waiter(name: str, delay: float):
        yield env.timeout(delay)
        seen.append((name, env.now, env.alone()))

    def sharer(name: str, shared):
        yield shared
        seen.append((name, env.now, env.alone()))

    env.process(waiter("a", 1.0))  # b's timeout is still due at day 1
    env.process(waiter("b", 1.0))  # a's end (a process event) is due at day 1
    env.process(waiter("c", 2.0))  # nothing else at day 2
    shared = env.timeout(3.0)
    env.process(sharer("d", shared))  # e waits on the same event after d
    env.process(sharer("e", shared))
    env.run()
    assert seen == [
        ("a", 1.0, False),
        ("b", 1.0, False),
        ("c", 2.0, True),
        ("d", 3.0, False),
        ("e", 3.0, False),
    ]


def scenario(tied: bool) -> Scenario:
    """Baseline over 120 days, every structure; with ``tied``, deterministic dyadic times."""
    sc = Scenario.from_file(
        SCENARIOS / "baseline.toml", ["replications=1", "horizon_days=120", "maturity_days=30"]
    )
    if not tied:
        return sc
    data = sc.model_dump(mode="json")
    tied_times(data)
    return Scenario.from_dict(data, sc.name)


def tables(sc: Scenario, tied: bool, env_class, monkeypatch) -> list[pd.DataFrame]:
    monkeypatch.setattr(structures, "Environment", env_class)
    streams = replication_streams(sc.seed, 0)
    stream = generate_leads(sc, np.random.default_rng(streams.leads))
    if tied:
        stream = whole_day_leads(stream)
    out = []
    for name in sc.structures.names:
        run = structures.run_structure(name, stream, sc, streams)
        out += [run.leads, run.reps, run.samples]
    return out


@pytest.mark.parametrize("tied", [False, True])
def test_skipping_events_changes_no_table(tied, monkeypatch):
    sc = scenario(tied)
    NeverAlone.steps = Counting.steps = 0
    before = tables(sc, tied, NeverAlone, monkeypatch)
    after = tables(sc, tied, Counting, monkeypatch)
    for old, new in zip(before, after, strict=True):
        pd.testing.assert_frame_equal(old, new, check_exact=True)
    # The skipping really happened: fewer events for the same tables.
    assert Counting.steps < 0.95 * NeverAlone.steps


def deadline_log(use_deadlines: bool, jobs: list[tuple[int, int, int | None]]) -> list:
    """Who is called when: jobs arm a deadline (or a timeout) at ``start`` for ``delay``.

    A job with ``cancel_after`` stops listening that long after arming it (a
    deadline is cancelled; a timeout still fires, to nobody). Bystanders tick
    at every whole day, so every instant has ties to order.
    """
    env = Environment()
    order: list[tuple[float, str]] = []

    def job(k: int, start: int, delay: int, cancel_after: int | None):
        yield env.timeout(start)
        event = env.deadline(delay) if use_deadlines else env.timeout(delay)
        listening = [True]
        event.callbacks.append(lambda _: listening[0] and order.append((env.now, f"job {k}")))
        if cancel_after is not None:
            yield env.timeout(cancel_after)
            listening[0] = False
            if use_deadlines:
                event.cancel()

    def bystander(k: int):
        for _ in range(12):
            yield env.timeout(1)
            order.append((env.now, f"bystander {k}"))

    for k in range(3):
        env.process(bystander(k))
    for k, (start, delay, cancel_after) in enumerate(jobs):
        env.process(job(k, start, delay, cancel_after))
    env.run()
    return order


@pytest.mark.parametrize("seed", range(5))
def test_deadlines_fire_where_timeouts_would_and_cancelled_ones_never(seed):
    rng = np.random.default_rng(seed)
    jobs = [
        (int(rng.integers(0, 5)), int(rng.integers(0, 6)), None if rng.random() < 0.5 else 1)
        for _ in range(40)
    ]
    with_deadlines = deadline_log(True, jobs)
    assert with_deadlines == deadline_log(False, jobs)
    fired = {name for _, name in with_deadlines if name.startswith("job")}
    cancelled_early = {
        f"job {k}" for k, (_, delay, cancel) in enumerate(jobs) if cancel == 1 and delay > 1
    }
    assert fired and not fired & cancelled_early


def first_of_claim(env: Environment, pool: Pool, team: SimpleNamespace, patience: float):
    """The claim of a task with patience as it was: a first-of of its grant and a deadline."""
    if pool.free and env.alone():
        pool.take()
        return True
    request = pool.request()
    team.waiting += 1
    deadline = None
    if request.granted:
        wait = FirstOf(env, request)
    else:
        deadline = env.deadline(patience)
        wait = FirstOf(env, request, deadline)
    yield wait
    team.waiting -= 1
    if deadline is not None:
        deadline.cancel()
    if not request.triggered:
        request.withdraw()
        return False
    return True


def grant_claim(env: Environment, pool: Pool, team: SimpleNamespace, patience: float):
    """The claim of a task with patience now (``work.claim_rep``): its grant and a patience."""
    claim = claim_rep(env, team, pool, patience, 0)
    if claim is None:
        return True
    woke = yield claim.event
    if claim.crowded(woke):
        yield env.timeout(0)
    return claim.settle()


def patience_log(claim, capacity: int, jobs: list[tuple[int, int, int]]) -> list:
    """Who resumes when, with a rep or not, and the events processed: tasks with patience
    among bystanders, all tied.

    Whole-day arrivals, patience and efforts make patience run out at the
    instant a rep is freed, granted or not yet processed, with other events
    at that instant or none.
    """
    env = Counting()
    Counting.steps = 0
    pool, team = Pool(env, capacity), SimpleNamespace(waiting=0)
    log: list = []

    def task(j: int, arrival: int, patience: int, effort: int):
        yield env.timeout(arrival)
        served = yield from claim(env, pool, team, patience)
        log.append((env.now, j, served))
        if served:
            yield env.timeout(effort)
            pool.release()
            log.append((env.now, j, "done"))

    def bystander(day: int):
        yield env.timeout(day)
        log.append((env.now, "bystander"))

    for j, (arrival, patience, effort) in enumerate(jobs):
        env.process(task(j, arrival, patience, effort))
        if j % 3 == 0:
            env.process(bystander(arrival + patience))
    env.run()
    assert team.waiting == 0 and pool.free == capacity and not pool.queue
    return log, Counting.steps


def test_a_grant_with_patience_resumes_its_task_where_a_first_of_did(monkeypatch):
    """``Grant.expire`` and ``Claim.crowded`` against the first-of they replaced, ties included.

    The same resumes in the same order, and no more events: each event the
    first-of scheduled, the grant or a ``timeout(0)`` is scheduled instead, and a
    grant that comes after its task's patience ran out at the same instant is
    not scheduled to nobody.
    """
    branches: Counter[str] = Counter()
    expire = Grant.expire

    def counted(grant: Grant, event) -> None:
        if not grant.cancelled and grant.callbacks is not None:
            alone = grant.env.alone()
            branches["relay" if grant.granted else "at once" if alone else "scheduled"] += 1
        expire(grant, event)

    monkeypatch.setattr(Grant, "expire", counted)
    rng = np.random.default_rng(7)
    for _ in range(60):
        n = int(rng.integers(5, 40))
        jobs = [tuple(int(x) for x in rng.integers((0, 0, 0), (12, 5, 5))) for _ in range(n)]
        capacity = int(rng.integers(1, 4))
        log, steps = patience_log(grant_claim, capacity, jobs)
        log_before, steps_before = patience_log(first_of_claim, capacity, jobs)
        assert log == log_before
        assert steps <= steps_before
    # Every way patience can run out was met: alone, among other events, and
    # at the instant of a grant not yet processed.
    assert min(branches["at once"], branches["scheduled"], branches["relay"]) > 0, branches
