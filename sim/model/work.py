"""One task at a rep's desk: wait for the rep, then take the rep's time.

Like a ticket at a service desk: it waits in line (for the team's next free
rep, or for its owner), maybe gives up (patience) or finds its owner gone
(turnover), then the rep works it for the effort, scaled by the person's
level, ramp-up and the deals they juggle, in working time when a calendar
is set (``sim.model.calendar``). Every role runs the same task
mechanics with its own numbers; roles differ in numbers, not in mechanics,
which is what lets the plain-queueing limit be checked against theory.

Time unit: days.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.model.environment import Deadline, alone
from sim.model.pools import FirstOf, Grant, Pool, PriorityPool
from sim.model.state import Clock
from sim.model.teams import Rep, Team, rep_skill
from sim.model.versatility import covering

OWNER_LEFT = "owner_left"
"""What ``stage_work`` returns when the owner a task waited for resigned meanwhile."""


def stage_work(
    env: simpy.Environment,
    clock: Clock,
    team: Team,
    owner: Rep | None,
    effort_days: float,
    patience_days: float | None,
    priority: int,
    owner_gone: simpy.Event | None = None,
) -> Generator[simpy.Event, Any, tuple[Rep, float, float] | str | None]:
    """A rep of ``team`` works one task: wait for the rep, then take the rep's time.

    Args:
        env: the environment.
        clock: the run's calendar (busy time is credited by quota period).
        team: the team doing the work.
        owner: the rep who owns the task, or None to take the first free rep
            of a pooled team.
        effort_days: effort at a mid-level ramped specialist's pace (before the
            person's level and ramp, and before context switching).
        patience_days: how long the task waits before it is abandoned; None = forever.
        priority: queue priority (lower first).
        owner_gone: the owner's departure event, when turnover is on; the task
            stops waiting if it fires.

    Returns:
        ``(rep, start_day, pass_factor)`` once the work is done (``pass_factor``
        is the person's level and ramp multiplier on pass probability), None
        if patience ran out, ``OWNER_LEFT`` if the owner resigned while it waited.
    """
    pool = team.resource if owner is None else owner.resource
    cover_pass = 1.0
    claim = claim_rep(env, team, pool, patience_days, priority, owner_gone)
    if claim is not None:
        woke = yield claim.event
        if claim.crowded(woke):
            yield env.timeout(0)
        if not claim.settle():  # patience ran out or the owner left: withdrawn
            return OWNER_LEFT if owner_gone is not None and owner_gone.triggered else None
        pool = claim.request.pool
        if team.cover is not None:  # a colleague of another role may work it (versatility)
            team, effort_days, cover_pass = covering(team, claim.request, effort_days)
    rep, start, span_days, pass_factor = start_work(env, clock, team, owner, effort_days)
    yield env.timeout(span_days)
    finish_work(env, clock, team, rep, start, pooled=owner is None)
    pool.release()
    return rep, start, pass_factor * cover_pass


class Claim:
    """A task waiting for a rep: the event it waits on, and what it holds meanwhile.

    Attributes:
        team: the team whose queue the task joined (counted in ``team.waiting``).
        request: the grant of a rep.
        patience: the patience deadline, cancelled once the task stops waiting (with
            an owner who may leave; a task without waits on the grant alone).
        event: what the task waits on (``first_to_come``, or the grant).
        first_of: the task waits on its grant alone where it used to wait on a
            first-of of the grant and its patience (``crowded``).
    """

    __slots__ = ("team", "request", "patience", "event", "first_of")

    def __init__(
        self,
        team: Team,
        request: Grant,
        patience: Deadline | None,
        event: simpy.Event,
        first_of: bool = False,
    ):
        self.team = team
        self.request = request
        self.patience = patience
        self.event = event
        self.first_of = first_of

    def crowded(self, woke: Any) -> bool:
        """Whether the task, woken by its grant, lets this instant's other events go first.

        It then waits on ``timeout(0)``. A first-of of the grant and the
        patience resumed the task at once only when nothing else happened at
        this instant, else it was scheduled: a timeout of no time, scheduled
        now, takes that very place in the event order. Woken by its patience
        (``woke`` is ``pools.DUE``), ``Grant.expire`` did so already.
        """
        return woke is None and self.first_of and not alone(self.request.env)

    def settle(self) -> bool:
        """The wait is over: whether a rep was granted (else the request is withdrawn)."""
        self.team.waiting -= 1
        request = self.request
        request.cancelled = True  # its patience fired, or no longer matters
        if self.patience is not None:
            self.patience.cancel()
        if not request.granted:
            request.withdraw()
            return False
        return True


def claim_rep(
    env: simpy.Environment,
    team: Team,
    pool: Pool,
    patience_days: float | None,
    priority: float,
    owner_gone: simpy.Event | None = None,
) -> Claim | None:
    """A task asks ``pool`` for a rep: None if it takes one now, else what it waits on.

    A free rep is taken at once when nothing else happens at this instant:
    the task's grant (and first-of) would be the next events processed, so
    it would resume at this very point of the event order
    (``environment.Environment``). Otherwise the task queues (counted in
    ``team.waiting``) until the first of its grant, its patience running
    out and its owner leaving. Without an owner who may leave, a task with
    patience waits on its grant alone (``pools.Grant.expire``): no first-of
    and no deadline event per task, which made a tenth of a Conveyor run with
    every effect on (28,900 of 42,000 claims queue at 30,000 leads).
    """
    if pool.free and alone(env) and (owner_gone is None or not owner_gone.triggered):
        pool.take()
        return None
    request = pool.request(priority) if isinstance(pool, PriorityPool) else pool.request()
    team.waiting += 1
    if patience_days is not None and owner_gone is None:
        # The grant is the wait; its patience a deadline of the environment, with no
        # event of its own unless it comes due (``Grant.expire``). A rep free at once
        # (a grant not yet processed) leaves no patience to run out.
        if not request.granted:
            env.patience(patience_days, request)
        return Claim(team, request, None, request, first_of=True)
    wait, patience = first_to_come(env, request, patience_days, owner_gone)
    return Claim(team, request, patience, wait)


def first_to_come(
    env: simpy.Environment,
    request: Grant,
    patience_days: float | None,
    owner_gone: simpy.Event | None,
) -> tuple[simpy.Event, Deadline | None]:
    """What a task waits on: the first of its grant, its patience running out, its owner leaving.

    Used for a task whose owner may leave, or without patience (the grant).

    Returns:
        The event to wait on, and the patience deadline (None if there is no
        patience to run out), which the task cancels once it stops waiting.
    """
    if patience_days is None and owner_gone is None:
        return request, None
    wait: simpy.Event = request
    patience = None
    if patience_days is not None and request.granted:
        # A rep is free at once, so patience cannot run out: no deadline to
        # arm. Waiting on the request alone through ``FirstOf`` resumes this
        # process at the same point in the event order as ``request | timeout``.
        wait = FirstOf(env, request)
    elif patience_days is not None:
        patience = env.deadline(patience_days)
        wait = FirstOf(env, request, patience)
    if owner_gone is not None:
        wait = FirstOf(env, wait, owner_gone)
    return wait, patience


def start_work(
    env: simpy.Environment, clock: Clock, team: Team, owner: Rep | None, effort_days: float
) -> tuple[Rep, float, float, float]:
    """A task's wait is over: the rep takes it now and starts at their next working instant.

    Returns:
        ``(rep, start_day, span_days, pass_factor)``: how long from now until
        the work is done (the effort after the person's level and ramp and
        context switching, in calendar time: with a working calendar, nights,
        weekends, holidays and leave in between count), and the person's
        multiplier on pass probability.
    """
    calendar, now = clock.calendar, env.now
    if owner is not None:
        rep = owner
    elif calendar is not None and calendar.has_leave:
        rep = calendar.take_idle(team.idle, now)
    else:
        rep = team.idle.popleft()
    pass_factor = 1.0
    if team.people_effects:
        effort_scale, pass_factor = rep_skill(rep, now, team)
        effort_days *= effort_scale
    if team.context_switch_cost > 0:
        # Juggling many deals at different stages costs a generalist time.
        factor = 1.0 + team.context_switch_cost * max(0, rep.open_deals - 1)
        effort_days *= min(factor, team.max_context_switch_factor)
    start = now
    if calendar is not None:
        start, finish = calendar.seats[rep.rep_id].span(now, effort_days)  # work_span, inlined
        effort_days = finish - now
    rep.record.busy_since = start
    team.in_service += 1
    return rep, start, effort_days, pass_factor


def finish_work(
    env: simpy.Environment, clock: Clock, team: Team, rep: Rep, start: float, pooled: bool
) -> None:
    """The rep finished the work: credit the busy time and free the rep (before the release).

    The person in the seat is the one who started the task: a leaver finishes
    the task in hand before the seat empties (``staffing.resign_and_replace``).
    """
    team.in_service -= 1
    record = rep.record
    record.busy_since = None
    clock.add_busy(record, start, env.now)
    if pooled:
        if rep.leaving:
            # The leaver finished the task in hand; the seat is now empty.
            rep.leaving = False
            rep.left_work.succeed()
        else:
            team.idle.append(rep)
