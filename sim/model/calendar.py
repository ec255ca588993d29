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
from array import array
from bisect import bisect_right
from collections import deque
from typing import TYPE_CHECKING, Protocol, TypeVar

from sim.config.calendar import DAYS_PER_YEAR, CalendarConfig

if TYPE_CHECKING:
    from sim.config.schema import Scenario


class Seat(Protocol):
    """What the calendar reads of a seat (``teams.Rep``): its number in the run."""

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

    A day ends ``day_fraction`` after its start (``end``). The starts are an
    ``array("d")`` (8 bytes a day) rather than a list of floats (32): a seat
    holds three years of days, and a large run has a seat per few hundred
    leads, so a list of starts and one of ends took about 240 bytes per lead.
    """

    __slots__ = ("starts", "day_fraction", "_edges", "_worked_edges")

    def __init__(self, days: list[int], start_fraction: float, day_fraction: float):
        self.starts = array("d", [day + start_fraction for day in days])
        self.day_fraction = day_fraction
        self._edges: list[float] | None = None
        self._worked_edges: list[float] = []

    def worked_at(self, edges: list[float]) -> list[float]:
        """``worked`` of each of ``edges`` (the quota periods' edges, the same all run).

        Computed once per seat: crediting a task's busy time needs them every
        time, and they never change.
        """
        if edges is not self._edges:
            self._edges, self._worked_edges = edges, [self.worked(edge) for edge in edges]
        return self._worked_edges

    def end(self, k: int) -> float:
        """When working day ``k`` ends (calendar days)."""
        return self.starts[k] + self.day_fraction

    def worked(self, day: float) -> float:
        """Working time from day 0 to ``day`` (working days)."""
        starts = self.starts
        k = bisect_right(starts, day) - 1
        if k < 0:
            return 0.0
        share = (day - starts[k]) / self.day_fraction  # of day k, or more once it ended
        return k + (share if share < 1.0 else 1.0)

    def at_work(self, day: float) -> float:
        """The first working instant at or after ``day``."""
        starts = self.starts
        k = bisect_right(starts, day) - 1
        if k >= 0 and day < starts[k] + self.day_fraction:  # within day k (before its end)
            return day
        return starts[k + 1] if k + 1 < len(starts) else day

    def finish(self, start: float, effort_days: float) -> float:
        """When work of ``effort_days`` working days begun at ``start`` is done.

        Work that ends exactly at the end of a working day finishes then, not
        at the start of the next one; no work at all is done at once.
        """
        if effort_days <= 0.0:
            return start
        target = self.worked(start) + effort_days
        whole = math.floor(target)
        if whole >= len(self.starts):
            # Past the laid-out days, years after the horizon: never observed.
            return max(start, self.end(len(self.starts) - 1)) + (target - len(self.starts))
        share = target - whole
        if share == 0.0 and whole > 0:
            # Ends exactly at a day's end; work too small to move the sum (a
            # denormal effort begun at a day's start) ends where it began.
            return max(start, self.end(whole - 1))
        return self.starts[whole] + share * self.day_fraction


class WorkCalendar:
    """The working days of every seat of one run (built on first use, per seat).

    Attributes:
        cfg: the ``[calendar]`` block.
        company: the working days of everyone without leave (the operations team).
        has_leave: whether people take leave (then seats differ).
    """

    __slots__ = ("cfg", "company_days", "company_years", "company", "has_leave", "seats")

    def __init__(self, cfg: CalendarConfig, horizon_days: float):
        self.cfg = cfg
        last = math.ceil(horizon_days) + MARGIN_DAYS
        self.company_days = [day for day in range(last) if cfg.is_working_day(day)]
        self.company_years = by_year(self.company_days)
        self.company = self._days(self.company_days)
        self.has_leave = cfg.leave_days_per_year > 0
        self.seats = SeatDays(self)  # seats[rep_id]: a dict lookup on the hot path

    @classmethod
    def of(cls, scenario: Scenario) -> WorkCalendar | None:
        """The calendar of a run of ``scenario``; None with the calendar off."""
        cfg = scenario.calendar
        return cls(cfg, scenario.horizon_days) if cfg.enabled else None

    def _days(self, days: list[int]) -> WorkingDays:
        return WorkingDays(days, self.cfg.start_hour / 24.0, self.cfg.day_fraction)

    def seat(self, rep_id: int) -> WorkingDays:
        """The working days of seat ``rep_id``: the company's less the seat's leave."""
        return self.seats[rep_id]

    def build_seat(self, rep_id: int) -> WorkingDays:
        """Seat ``rep_id``'s working days, laid out (``SeatDays`` keeps them)."""
        if not self.has_leave:
            return self.company
        away = leave_days(self.company_years, self.cfg, rep_id)
        return self._days([day for day in self.company_days if day not in away])

    def work_span(self, rep_id: int, now: float, effort_days: float) -> tuple[float, float]:
        """``(start_day, finish_day)`` of work of ``effort_days`` a seat picks up at ``now``."""
        days = self.seats[rep_id]
        start = days.at_work(now)
        return start, days.finish(start, effort_days)

    def company_span(self, now: float, effort_days: float) -> float:
        """Calendar time from ``now`` to the end of ``effort_days`` of work in office hours.

        No work (a neutral go-live) takes no time, even out of office hours.
        """
        if effort_days <= 0.0:
            return 0.0
        start = self.company.at_work(now)
        return self.company.finish(start, effort_days) - now

    def take_idle(self, idle: deque[SeatT], now: float) -> SeatT:
        """The idle rep of a pooled team who can start soonest (the longest idle of those).

        With leave, the longest-idle rep may be away: the task goes to a
        colleague at work instead of waiting for their return. No seat works
        on a day the company does not, so nobody starts before the company's
        next working instant: the first rep who can is the answer, which keeps
        a task that comes at night from reading every idle rep's days (a
        pooled team of hundreds made a million-lead run quadratic).
        """
        seats, soonest = self.seats, None
        best, best_start = idle[0], math.inf
        for rep in idle:
            start = seats[rep.rep_id].at_work(now)
            if start < best_start:
                best, best_start = rep, start
                if start == now:  # at work now (the common case: no need to ask the company)
                    break
                if soonest is None:
                    soonest = self.company.at_work(now)
                if start == soonest:
                    break
        idle.remove(best)
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
    """The calendar days seat ``rep_id`` is on leave: whole blocks spread over each year.

    Each year's working days (``company_years``, the company's by year) are cut
    into as many equal slots as there are blocks of leave; the seat's block
    starts at its own fraction of each slot
    (``GOLDEN_FRACTION`` x the seat's number, mod 1) and wraps round the year,
    so no two blocks of one seat overlap (``CalendarConfig`` checks they fit).
    """
    blocks = math.ceil(cfg.leave_days_per_year / cfg.leave_block_days)
    offset = ((rep_id + 1) * GOLDEN_FRACTION) % 1.0
    away: set[int] = set()
    for year_days in company_years:
        count = len(year_days)
        left = cfg.leave_days_per_year
        for block in range(blocks):
            first = math.floor((block + offset) / blocks * count)
            for k in range(min(cfg.leave_block_days, left)):
                away.add(year_days[(first + k) % count])
            left -= cfg.leave_block_days
    return away
