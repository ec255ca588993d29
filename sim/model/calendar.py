"""Working time on the calendar: when a task starts, when it ends, how much a rep worked.

Like reading a shift plan: a rep who picks up a four-hour task at 15:00 on a
Friday, in a nine-to-five week, works two hours that day and two on Monday
morning, and hands it on at 11:00 on Monday. A lead that comes in on Friday
evening is first worked at 09:00 on Monday. Each seat has its own working days
(the company's, less that seat's leave); within a working day the hours run
from ``start_hour`` for ``hours_per_day`` hours.

Everything here is a pure function of the scenario and a time: no SimPy
process per task, per night or per weekend. A working day is always one unit
of working time, so the working time before an instant is the number of whole
working days before it plus the share of the current one: a binary search.

Time unit: calendar days in, calendar days out; working time in working days
(one day of effort = ``hours_per_day`` working hours).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from itertools import compress
from typing import TYPE_CHECKING, Protocol, TypeVar

from sim.config.calendar import DAYS_PER_YEAR, CalendarConfig

if TYPE_CHECKING:
    from sim.config.schema import Scenario


class Seat(Protocol):
    """What the calendar reads of a seat (``teams.Rep``): its number in the run (0 up)."""

    rep_id: int


SeatT = TypeVar("SeatT", bound=Seat)

MARGIN_DAYS = 2 * DAYS_PER_YEAR
"""How far past the horizon the working days are laid out: a task that starts
before the horizon finishes within it unless it is years of work, and what
happens after the horizon is never observed."""
GOLDEN_FRACTION = (math.sqrt(5.0) - 1.0) / 2.0
"""Seat k's leave starts at the fraction k x this (mod 1) of each block's slot: the
seats of any team are spread over the year, none at the same offset."""


class WorkingDays:
    """One seat's working days: the start of each (calendar days), in order.

    A day ends ``day_fraction`` after its start. The starts are a tuple of
    floats shared with the company's: a seat's tuple is the company's less
    its days of leave, so it holds pointers to the company's float objects
    (8 bytes a day, as an ``array("d")`` did: a seat holds three years of
    days, and a large run has a seat per few hundred leads). Not an array,
    which makes a new float object at each read (a look-up reads several);
    a tuple rather than a list because the garbage collector stops visiting
    a tuple of floats, and a list it would visit at every full collection.

    Each task of the run asks a seat three times: ``span`` when it starts,
    then ``worked`` at its start and at its end when its busy time is
    credited. So the seat remembers the day it last looked up (and the
    instants that fall in it) and the working time at its last task's start:
    most look-ups then need no binary search over three years of days.

    Attributes:
        starts: each working day's start (calendar days), in order.
        day_fraction: a working day's length (calendar days).
    """

    __slots__ = (
        "starts", "day_fraction", "_edges", "_worked_edges",
        "last_day", "last_day_from", "last_day_until", "task_start", "task_start_worked",
    )  # fmt: skip

    def __init__(self, starts: tuple[float, ...], day_fraction: float):
        self.starts = starts
        self.day_fraction = day_fraction
        self._edges: list[float] | None = None
        self._worked_edges: list[float] = []
        # The index of the day last looked up, the answer of ``day_index`` for
        # any instant in [last_day_from, last_day_until).
        self.last_day = -1
        self.last_day_from, self.last_day_until = -math.inf, starts[0] if starts else math.inf
        # ``worked(task_start)``, computed by ``span`` (NaN equals nothing).
        self.task_start = self.task_start_worked = math.nan

    def day_index(self, day: float) -> int:
        """The index of the last working day that starts at or before ``day`` (-1: none).

        ``bisect_right(starts, day) - 1``, kept with the span of instants that
        have the same answer (from that day's start to the next one's). Most
        look-ups fall in the day of the one before or in the next day:
        comparing with two numbers costs less than a binary search, most of
        whose steps miss the processor's cache.
        """
        if self.last_day_from <= day < self.last_day_until:
            return self.last_day
        starts, k = self.starts, self.last_day + 1
        if not (k + 1 < len(starts) and starts[k] <= day < starts[k + 1]):  # nor the next
            k = bisect_right(starts, day) - 1
        self.last_day = k
        self.last_day_from = starts[k] if k >= 0 else -math.inf
        self.last_day_until = starts[k + 1] if k + 1 < len(starts) else math.inf
        return k

    def worked_at(self, edges: list[float]) -> list[float]:
        """``worked`` of each of ``edges`` (the quota periods' edges, the same all run).

        Computed once per seat: crediting a task's busy time needs them every
        time, and they never change.
        """
        if edges is not self._edges:
            self._edges, self._worked_edges = edges, [self.worked(edge) for edge in edges]
        return self._worked_edges

    def worked(self, day: float) -> float:
        """Working time from day 0 to ``day`` (working days)."""
        if day == self.task_start:  # the busy time of the task ``span`` started
            return self.task_start_worked
        if self.last_day_from <= day < self.last_day_until:  # ``day_index``, inlined
            k = self.last_day
        else:
            k = self.day_index(day)
        if k < 0:
            return 0.0
        share = (day - self.starts[k]) / self.day_fraction  # of day k, or more once it ended
        return k + (share if share < 1.0 else 1.0)

    def at_work(self, day: float) -> float:
        """The first working instant at or after ``day``."""
        starts = self.starts
        k = bisect_right(starts, day) - 1
        if k >= 0 and day < starts[k] + self.day_fraction:  # within day k (before its end)
            return day
        return starts[k + 1] if k + 1 < len(starts) else day

    def span(self, now: float, effort_days: float) -> tuple[float, float]:
        """``(start, finish)`` of work of ``effort_days`` working days picked up at ``now``.

        It starts at ``at_work(now)`` and is done when the working time since
        day 0 reaches ``worked(start) + effort_days``. Work that ends exactly at
        the end of a working day finishes then, not at the start of the next
        one; no work at all is done at once.
        """
        starts, day_fraction = self.starts, self.day_fraction
        if self.last_day_from <= now < self.last_day_until:  # ``day_index``, inlined
            k = self.last_day
        else:
            k = self.day_index(now)
        if k >= 0 and now < starts[k] + day_fraction:  # at work now, within day k
            start = now
            share = (now - starts[k]) / day_fraction
            worked = k + (share if share < 1.0 else 1.0)
        elif k + 1 < len(starts):  # from the start of day k + 1, k + 1 whole days behind
            start, worked = starts[k + 1], float(k + 1)
        else:  # past the laid-out days, years after the horizon
            start, worked = now, self.worked(now)
        self.task_start, self.task_start_worked = start, worked
        if effort_days <= 0.0:
            return start, start
        target = worked + effort_days
        whole, count = math.floor(target), len(starts)
        if whole >= count:
            # Past the laid-out days, years after the horizon: never observed.
            return start, max(start, starts[count - 1] + day_fraction) + (target - count)
        share = target - whole
        if share == 0.0 and whole > 0:
            # Ends exactly at a day's end; work too small to move the sum (a
            # denormal effort begun at a day's start) ends where it began.
            return start, max(start, starts[whole - 1] + day_fraction)
        # The task ends in day ``whole``: its busy time asks for the working time
        # then, and the seat's next task most often starts that day (``day_index``).
        self.last_day, self.last_day_from = whole, starts[whole]
        self.last_day_until = starts[whole + 1] if whole + 1 < count else math.inf
        return start, starts[whole] + share * day_fraction


class WorkCalendar:
    """The working days of every seat of one run (built on first use, per seat).

    Attributes:
        cfg: the ``[calendar]`` block.
        company: the working days of everyone without leave (the operations team).
        has_leave: whether people take leave (then seats differ).
        away_masks: by company working day, the seats away that day (bit r for
            seat r, of the seats laid out so far). Seat numbers are the seats'
            places in the run, 0 up: a day's mask takes a bit a seat, and testing
            a bit costs a machine word per 30 seats (a few for thousands).
        laid_out: the seats laid out so far (bit r for seat r); all with no leave.
    """

    __slots__ = (
        "cfg", "company_days", "company_years", "company", "has_leave", "seats", "most_leave",
        "away_masks", "laid_out", "next_index", "next_index_from", "next_index_until", "at_work",
    )  # fmt: skip

    def __init__(self, cfg: CalendarConfig, horizon_days: float):
        self.cfg = cfg
        last = math.ceil(horizon_days) + MARGIN_DAYS
        self.company_days = [day for day in range(last) if cfg.is_working_day(day)]
        self.company_years = by_year(self.company_days)
        start_fraction = cfg.start_hour / 24.0
        starts = tuple(day + start_fraction for day in self.company_days)
        self.company = WorkingDays(starts, cfg.day_fraction)
        self.has_leave = cfg.leave_days_per_year > 0
        self.seats = SeatDays(self)  # seats[rep_id]: a dict lookup on the hot path
        # No seat is away more days than this over the laid-out days (``take_idle``).
        self.most_leave = cfg.leave_days_per_year * len(self.company_years)
        self.away_masks = [0] * len(self.company_days)
        self.laid_out = 0 if self.has_leave else -1  # -1: every bit set
        # ``take_idle``'s last answer to "which company working day is at or next
        # after now", valid for any now in [next_index_from, next_index_until).
        self.next_index: int | None = None
        self.next_index_from = self.next_index_until = -math.inf
        self.at_work = 0  # the seats laid out and at work on day ``next_index`` (bits)

    @classmethod
    def of(cls, scenario: Scenario) -> WorkCalendar | None:
        """The calendar of a run of ``scenario``; None with the calendar off."""
        cfg = scenario.calendar
        return cls(cfg, scenario.horizon_days) if cfg.enabled else None

    def seat(self, rep_id: int) -> WorkingDays:
        """The working days of seat ``rep_id``: the company's less the seat's leave."""
        return self.seats[rep_id]

    def build_seat(self, rep_id: int) -> WorkingDays:
        """Seat ``rep_id``'s working days, laid out (``SeatDays`` keeps them).

        The company's starts less the seat's days of leave, the same float
        objects (``WorkingDays``). The seat's leave goes into ``away_masks``
        for ``take_idle``.
        """
        if not self.has_leave:
            return self.company
        masks, seat_bit = self.away_masks, 1 << rep_id
        kept = bytearray(b"\x01") * len(masks)
        for index in leave_indices(self.company_years, self.cfg, rep_id):
            kept[index] = 0
            masks[index] |= seat_bit
        self.laid_out |= seat_bit
        self.note_next_index()  # the seat may be away on the day ``take_idle`` knows
        return WorkingDays(tuple(compress(self.company.starts, kept)), self.company.day_fraction)

    def work_span(self, rep_id: int, now: float, effort_days: float) -> tuple[float, float]:
        """``(start_day, finish_day)`` of work of ``effort_days`` a seat picks up at ``now``."""
        return self.seats[rep_id].span(now, effort_days)

    def company_span(self, now: float, effort_days: float) -> float:
        """Calendar time from ``now`` to the end of ``effort_days`` of work in office hours.

        No work (a neutral go-live) takes no time, even out of office hours.
        """
        if effort_days <= 0.0:
            return 0.0
        return self.company.span(now, effort_days)[1] - now

    def take_idle(self, idle: deque[SeatT], now: float) -> SeatT:
        """The idle rep of a pooled team who can start soonest (the longest idle of those).

        With leave, the longest-idle rep may be away: the task goes to a
        colleague at work instead of waiting for their return. No seat works
        on a day the company does not, and a seat's working days are the
        company's with the same hours, so whoever works on the company's
        working day at or next after now starts as soon as anyone can: the
        first of those in the queue is the answer, a bit of that day's
        ``away_masks`` per rep (those on leave gather at the front of the
        queue, as nobody takes them). Only when everyone idle is away that day
        (or a seat is not laid out yet) are their next working instants
        compared (``soonest_idle``).
        """
        if not self.next_index_from <= now < self.next_index_until:
            self.find_next_index(now)
        at_work = self.at_work
        if at_work >> idle[0].rep_id & 1:  # the longest idle is at work (most tasks)
            return idle.popleft()
        for rep in idle:
            if at_work >> rep.rep_id & 1:
                idle.remove(rep)
                return rep
            if not self.laid_out >> rep.rep_id & 1:
                break  # its leave is not in the masks yet
        best = self.soonest_idle(idle, now)
        idle.remove(best)
        return best

    def find_next_index(self, now: float) -> None:
        """Set ``next_index``: the index of the company's working day at or next after ``now``.

        Also the span of instants with the same answer, so that the tasks of a
        day (and those of a night) ask once: within day k until its end, or
        from the end of day k to the start of day k + 1 (the same tests as
        ``WorkingDays.at_work``). None near the end of the laid-out days,
        where a seat may have no working day left (then ``soonest_idle``).
        """
        starts, day_fraction = self.company.starts, self.company.day_fraction
        k = bisect_right(starts, now) - 1
        ended = starts[k] + day_fraction if k >= 0 else -math.inf
        if now < ended:  # within day k
            index, self.next_index_from = k, starts[k]
            self.next_index_until = min(ended, starts[k + 1]) if k + 1 < len(starts) else ended
        else:  # between day k and day k + 1 (or past the last)
            index, self.next_index_from = k + 1, ended
            self.next_index_until = starts[k + 1] if k + 1 < len(starts) else math.inf
        self.next_index = index if index + 1 + self.most_leave < len(starts) else None
        self.note_next_index()

    def note_next_index(self) -> None:
        """Set ``at_work``: the seats laid out that work on day ``next_index`` (none if None)."""
        index = self.next_index
        self.at_work = 0 if index is None else self.laid_out & ~self.away_masks[index]

    def soonest_idle(self, idle: deque[SeatT], now: float) -> SeatT:
        """The first idle rep of those whose next working instant is the soonest.

        Nobody starts before the company's next working instant: the first rep
        who can start then is the answer, which keeps a task that comes at
        night from reading every idle rep's days.
        """
        seats, soonest = self.seats, None
        best, best_start = idle[0], math.inf
        for rep in idle:
            start = seats[rep.rep_id].at_work(now)
            if start < best_start:
                best, best_start = rep, start
                if start == now:  # at work now (no need to ask the company)
                    break
                if soonest is None:
                    soonest = self.company.at_work(now)
                if start == soonest:
                    break
        return best


class SeatDays(dict):
    """Each seat's working days by seat number, laid out on first use."""

    def __init__(self, calendar: WorkCalendar):
        super().__init__()
        self.calendar = calendar

    def __missing__(self, rep_id: int) -> WorkingDays:
        days = self[rep_id] = self.calendar.build_seat(rep_id)
        return days


def by_year(days: list[int]) -> list[list[int]]:
    """Days grouped by calendar year (``DAYS_PER_YEAR`` days each), in order."""
    years: dict[int, list[int]] = {}
    for day in days:
        years.setdefault(day // DAYS_PER_YEAR, []).append(day)
    return list(years.values())


def leave_days(company_years: list[list[int]], cfg: CalendarConfig, rep_id: int) -> set[int]:
    """The calendar days seat ``rep_id`` is on leave (``leave_indices``, as days)."""
    days = [day for year_days in company_years for day in year_days]
    return {days[index] for index in leave_indices(company_years, cfg, rep_id)}


def leave_indices(company_years: list[list[int]], cfg: CalendarConfig, rep_id: int) -> set[int]:
    """Which of the company's working days (by index) seat ``rep_id`` is on leave.

    Whole blocks spread over each year: each year's working days
    (``company_years``, the company's by year) are cut into as many equal
    slots as there are blocks of leave; the seat's block starts at its own
    fraction of each slot (``GOLDEN_FRACTION`` x the seat's number, mod 1)
    and wraps round the year, so no two blocks of one seat overlap
    (``CalendarConfig`` checks they fit).
    """
    blocks = math.ceil(cfg.leave_days_per_year / cfg.leave_block_days)
    offset = ((rep_id + 1) * GOLDEN_FRACTION) % 1.0
    away: set[int] = set()
    year_start = 0  # index of the year's first working day
    for year_days in company_years:
        count = len(year_days)
        left = cfg.leave_days_per_year
        for block in range(blocks):
            first = math.floor((block + offset) / blocks * count)
            end = first + min(cfg.leave_block_days, left)
            away.update(range(year_start + first, year_start + min(end, count)))
            if end > count:  # wraps round to the year's first working days
                away.update(range(year_start, year_start + min(end - count, count)))
            left -= cfg.leave_block_days
        year_start += count
    return away
