"""The run's SimPy environment: SimPy's own, which also says when an instant has nothing else to do.

Like a clerk who, taking a ticket when nobody else is in the room, serves it
at once instead of calling the number a moment later: the customer is served
at the same point either way, and nobody can tell. A process that asks for a
free rep gets a grant event, and resumes when that event (and a ``FirstOf``
around it, for a task whose owner may leave) is processed, later at the same
instant; if nothing else is scheduled at that instant and nothing else waits
on the event being processed, nothing can run in between, so the process
may go on at once: the same code runs in the same order, and every later
event is merely numbered one or two lower, which keeps their order
(SimPy orders events by time, priority, then the number given when
scheduled). ``alone`` says when that holds; ``work.claim_rep``,
``pools.FirstOf`` and ``pools.Grant.expire`` use it to skip such events.

A task's patience is a deadline (``deadline``, or ``patience`` when nothing
waits on it but the task's grant): it takes its number in the event order
when armed, but only the earliest live one is in the event queue.

Time unit: days.
"""

from __future__ import annotations

import math
from heapq import heappop, heappush
from typing import Protocol

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL


class Environment(simpy.Environment):
    """``simpy.Environment`` that knows whether the running callback is its event's only one.

    Attributes:
        sole_callback: the event being processed has a single callback (the
            one running): nothing else waits to run on it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sole_callback = False
        # Deadlines not yet in the event queue, by (day, number); the earliest live
        # one's predecessor in that order (the watch) is always in the queue.
        self._deadlines: list[tuple[float, int, Deadline | Patient]] = []
        self._watch: Deadline | None = None
        self._watch_day = math.inf

    def step(self) -> None:
        """Process the next event: SimPy's ``step``, noting whether it has a single callback."""
        try:
            self._now, _, _, event = heappop(self._queue)
        except IndexError:
            raise EmptySchedule from None
        if event is self._watch:
            self._next_watch()
        callbacks, event.callbacks = event.callbacks, None
        self.sole_callback = len(callbacks) == 1
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[callbacks.index(callback) + 1 :]
            self.schedule(event, -1)  # SimPy's: before anything else when the run resumes
            raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc

    def deadline(self, delay: float) -> Deadline:
        """An event that fires ``delay`` from now, as ``timeout(delay)`` would, unless cancelled.

        It takes its place in the event order now (its number), but enters the
        event queue only when it is the earliest deadline left: a task's
        patience is mostly cancelled (a rep came first), and a cancelled
        deadline that never enters the queue costs no event and does not make
        the queue longer for every other event.
        """
        event = Deadline(self)
        self._arm(self._now + delay, event)
        return event

    def patience(self, delay: float, waiter: Patient) -> None:
        """Call ``waiter.expire`` ``delay`` from now unless ``waiter.cancelled`` by then.

        ``deadline`` without an event per waiter: a task's patience, which a
        rep mostly ends first, costs a tuple in the deadlines' heap; the event
        that fires it is made only if it becomes the watch. It takes its place
        in the event order now (its number), as ``deadline`` does.
        """
        self._arm(self._now + delay, waiter)

    def _arm(self, day: float, waiter: Deadline | Patient) -> None:
        """A deadline due on ``day``: the watch if it is the earliest, else in the heap.

        Its number is the next in the event order. A deadline due on the watch's
        day comes after the watch (its number is higher): only an earlier day
        makes it the watch.
        """
        number = next(self._eid)
        if day < self._watch_day:
            self._make_watch(day, number, waiter)
        else:
            heappush(self._deadlines, (day, number, waiter))

    def _make_watch(self, day: float, number: int, waiter: Deadline | Patient) -> None:
        """The deadline enters the event queue as the watch (a waiter's event made now)."""
        event = waiter if isinstance(waiter, Deadline) else _due(self, waiter)
        heappush(self._queue, (day, NORMAL, number, event))
        self._watch, self._watch_day = event, day

    def _next_watch(self) -> None:
        """The watch is due: the earliest live deadline left enters the queue as the next one."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][2].cancelled:
            heappop(deadlines)
        if deadlines:
            self._make_watch(*heappop(deadlines))
        else:
            self._watch, self._watch_day = None, math.inf

    def alone(self) -> bool:
        """Whether the running callback is the last thing to happen at this instant.

        True when it is the only callback of the event being processed and no
        other event is scheduled at this instant (or before it, urgent ones
        included): then an event scheduled now would be the next processed.
        """
        queue = self._queue
        return self.sole_callback and (not queue or queue[0][0] > self._now)

    def process_now(self, event: simpy.Event) -> None:
        """Process a triggered ``event`` at once, as ``step`` would next when ``alone``.

        Its callbacks run now, in their order, instead of after the event
        waits its turn in the queue (where, ``alone``, nothing precedes it).
        """
        callbacks, event.callbacks = event.callbacks, None
        self.sole_callback = len(callbacks) == 1
        for callback in callbacks:
            callback(event)


class Deadline(simpy.Event):
    """A timeout that may be cancelled before it is due (``Environment.deadline``).

    Attributes:
        cancelled: nobody waits for it any more; if it has not entered the
            event queue, it never will.
    """

    def __init__(self, env: Environment):
        super().__init__(env)
        self._ok, self._value = True, None  # triggered from the start, as a timeout is
        self.cancelled = False

    def cancel(self) -> None:
        """Nobody waits for it any more (a task's rep came before its patience ran out)."""
        self.cancelled = True


class Patient(Protocol):
    """What ``Environment.patience`` waits for: a waiter that may stop waiting first."""

    cancelled: bool

    def expire(self, event: simpy.Event) -> None:
        """Patience ran out (called as the callback of the event that fires it)."""


def _due(env: Environment, waiter: Patient) -> Deadline:
    """The event that fires ``waiter``'s patience, made once it is the watch."""
    event = Deadline(env)
    event.callbacks.append(waiter.expire)
    return event


def alone(env: simpy.Environment) -> bool:
    """``Environment.alone`` of the model's environment; False for a plain SimPy one."""
    return isinstance(env, Environment) and env.alone()
