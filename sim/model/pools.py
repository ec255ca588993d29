"""Lean resources: a pool of identical servers, and one that serves by priority.

Like the counter at a post office: a few clerks (servers), a line (the
queue), and a ticket (a ``Grant``) that is called when a clerk is free. A
``PriorityPool`` lets some tickets jump the line (an account review before a
new lead, a leaver's empty seat before anything). These replace
``simpy.Resource`` and ``simpy.PriorityResource`` on the model's hot path and
promise the same order (``tests/unit/test_pools.py`` checks it).

Time unit: days.
"""

from __future__ import annotations

import bisect
from collections import deque
from typing import Any

import simpy
from simpy.events import PENDING

from sim.model.environment import alone


class Pool:
    """A pool of identical servers, first come first served: ``simpy.Resource`` made lean.

    The model uses a resource two ways: ``with pool.request() as grant: yield
    grant`` (or the grant in a condition such as ``grant | timeout``), and, in
    the hot path, ``take()`` a free server with no event at all. A counter and
    a queue do that job; ``simpy.Resource`` also keeps a list of
    users, builds a ``Release`` event per release and walks its put and get
    queues through callbacks: about a quarter of a run's time on the engine
    network (``docs/changelog/performance-diary.md``, third round).

    Differences in order: a freed server goes to the first request in the
    queue at once, where SimPy hands it over when its ``Release`` event is
    processed, later at the same instant; and a task that ``take``s a server
    starts in the same step rather than after the other events of that
    instant. Only events at exactly the same instant can tell: under SimPy a
    higher-priority request made meanwhile could take the server. Times drawn
    from continuous distributions never tie, so the tables of every shipped
    scenario are bit-identical either way; ties come from deterministic times,
    zero lags and near-zero efforts (``docs/changelog/performance-diary.md``, third round).
    """

    __slots__ = ("env", "free", "queue")

    def __init__(self, env: simpy.Environment, capacity: int):
        self.env = env
        self.free = capacity  # servers free; while any is, nobody queues
        self.queue: deque[Grant] = deque()

    def request(self) -> Grant:
        """Ask for a server: the grant fires now, or when a server is freed for it."""
        return Grant(self, None)

    def take(self) -> bool:
        """Take a free server at once, if there is one; the taker calls ``release()``.

        No event: the caller goes on in the same step instead of resuming
        when a grant is processed, later at the same instant.
        """
        if self.free:
            self.free -= 1
            return True
        return False

    def wait(self, grant: Grant) -> None:
        """Queue a request that found every server busy."""
        self.queue.append(grant)

    def release(self) -> None:
        """A server is free: it goes to the first request in the queue, if any."""
        if self.queue:
            self.queue.popleft().grant()
        else:
            self.free += 1


class PriorityPool(Pool):
    """A ``Pool`` that serves lower priorities first, then first come first served.

    The order of ``simpy.PriorityResource``: by (priority, request day), ties
    in the order of the requests. The queue stays sorted, so each request is
    inserted after those of equal or lower key (SimPy re-sorts the whole queue
    per request instead).
    """

    __slots__ = ()

    def request(self, priority: int = 0) -> Grant:  # type: ignore[override]
        """Ask for a server with a priority (lower first)."""
        return Grant(self, (priority, self.env.now))

    def wait(self, grant: Grant) -> None:
        """Queue a request after every queued request of equal or lower key."""
        queue = self.queue
        if not queue or queue[-1].key <= grant.key:
            queue.append(grant)  # where insort_right puts it: most requests come in order
        else:
            bisect.insort_right(queue, grant, key=Grant.sort_key)


DUE = "patience ran out"
"""The value a ``Grant`` wakes its task with when the task's patience runs out."""


class Grant(simpy.Event):
    """One request for a server of a ``Pool``: an event that fires when it is granted.

    Leaving its ``with`` block frees the server, or withdraws the request if
    it was never granted (patience ran out, the owner left).

    A task with patience waits on its grant alone: its patience is a deadline
    of the environment (``Environment.patience``) that calls ``expire``. The
    task resumes where it would under a ``FirstOf`` of the grant and a
    timeout (see ``expire`` and ``work.Claim.crowded``).

    Attributes:
        granted: a server is the request's (it may not be processed yet).
        cancelled: its task stopped waiting: its patience no longer matters.
    """

    def __init__(self, pool: Pool, key: tuple[int, float] | None):
        super().__init__(pool.env)
        self.pool = pool
        self.key = key
        self.cancelled = False
        self.granted = False
        if pool.take():
            self.grant()
        else:
            pool.wait(self)

    def grant(self) -> None:
        """A server is the request's: it fires, unless its task's patience fired it.

        Patience that ran out at this very instant, its task not resumed yet,
        leaves the server the task's all the same (``expire``), as a grant that
        fired after a first-of's timeout did.
        """
        self.granted = True
        if self._value is PENDING:
            self.succeed()

    def expire(self, event: simpy.Event) -> None:
        """The task's patience ran out: it resumes with ``DUE``, as a first-of would fire.

        A first-of fired by the timeout resumes the task at once when nothing
        else happens at this instant, else after what is scheduled already.
        A grant that came first (processed) left nothing to do; one granted
        at this very instant but not processed yet hands its task to a new
        event, as the first-of did, and is then processed to nobody.
        """
        if self.cancelled or self.callbacks is None:
            return
        env = self.env
        if self.granted:
            relay = simpy.Event(env)
            relay.callbacks, self.callbacks = self.callbacks, []
            relay._ok, relay._value = True, DUE
            env.schedule(relay)
            return
        self._ok, self._value = True, DUE
        if alone(env):
            env.process_now(self)  # type: ignore[attr-defined]
        else:
            env.schedule(self)

    @staticmethod
    def sort_key(grant: Grant) -> tuple[int, float] | None:
        """(priority, request day): the queue order of a ``PriorityPool``."""
        return grant.key

    def __enter__(self) -> Grant:
        return self

    def withdraw(self) -> None:
        """Leave the queue without a server (patience ran out, the owner left)."""
        self.pool.queue.remove(self)

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if not self.triggered:
            self.withdraw()
        elif exc_type is not GeneratorExit:  # a process closed at the end of the run keeps it
            self.pool.release()


class FirstOf(simpy.Event):
    """Fires when the first of its events is processed: ``a | b`` (``simpy.AnyOf``) made lean.

    A task waiting for a rep, its patience and its owner's departure waits on
    this once per task (one without an owner who may leave waits on its
    ``Grant`` alone, which resumes it at the same points). It is scheduled
    at exactly the point of the event order where SimPy's condition would be
    (when the first event is processed, or at once if one already was), so
    a process resumes in the same order; nested, it takes the same extra
    step per level. What it saves is the condition's bookkeeping (its value,
    a check per event, removing the checks): about a tenth of a Conveyor run
    with every effect on. Its value is the first event's; the waiting task
    asks its grant whether it was granted. When nothing else happens at that
    instant, it is processed at once instead of scheduled
    (``environment.Environment``): it would be the next event processed anyway.
    """

    __slots__ = ()

    def __init__(self, env: simpy.Environment, *events: simpy.Event):
        super().__init__(env)
        for event in events:
            if event.callbacks is None:  # already processed: fire now, as a condition would
                self.trigger(event)
                return
        for event in events:
            event.callbacks.append(self._first)

    def _first(self, event: simpy.Event) -> None:
        if self._value is not PENDING:
            return
        if event._ok and alone(self.env):
            # Nothing else happens at this instant: processed now rather than
            # scheduled, as it would be processed next (``environment.Environment``).
            self._ok, self._value = True, event._value
            self.env.process_now(self)
        else:
            self.trigger(event)
