"""The calendar's fast look-ups against the plain computations they replace, bit for bit.

``WorkingDays.span`` (a task's start and finish from one look-up of the day,
remembered for the working time at both ends asked next),
seats laid out by cutting the company's list, and ``WorkCalendar.take_idle``
(a set look-up per idle rep, the company's next working day kept between
calls) must give exactly the floats and the rep that the straightforward
code gives: the regression hashes depend on every bit. The reference below is
that code, written out from the calendar's definition; the inputs are random
calendars and instants, with the edges drawn on purpose (a day's exact start
and end, one ulp either side, nights, weekends, holidays, leave, the end of
the laid-out days, efforts of zero and of a denormal).
"""

import math
import random
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence

from sim.config.calendar import CalendarConfig
from sim.model.calendar import WorkCalendar, leave_days


def reference_leave_days(calendar: WorkCalendar, rep_id: int) -> set[int]:
    """Blocks of leave at the seat's own fraction of each of the year's slots, as days."""
    cfg = calendar.cfg
    blocks = math.ceil(cfg.leave_days_per_year / cfg.leave_block_days)
    offset = ((rep_id + 1) * (math.sqrt(5.0) - 1.0) / 2.0) % 1.0
    away = set()
    for year_days in calendar.company_years:
        count, left = len(year_days), cfg.leave_days_per_year
        for block in range(blocks):
            first = math.floor((block + offset) / blocks * count)
            away |= {year_days[(first + k) % count] for k in range(min(cfg.leave_block_days, left))}
            left -= cfg.leave_block_days
    return away


def reference_starts(calendar: WorkCalendar, rep_id: int) -> list[float]:
    """A seat's working day starts: every company working day not on leave, plus the hour."""
    cfg = calendar.cfg
    away = reference_leave_days(calendar, rep_id)
    return [day + cfg.start_hour / 24.0 for day in calendar.company_days if day not in away]


def reference_worked(starts: Sequence[float], fraction: float, day: float) -> float:
    """Working days before ``day``: whole days started before it, plus the share of the last."""
    k = bisect_right(starts, day) - 1  # the number of days begun by ``day``, less one
    if k < 0:
        return 0.0
    share = (day - starts[k]) / fraction
    return k + min(share, 1.0)


def reference_at_work(starts: Sequence[float], fraction: float, day: float) -> float:
    """The first working instant at or after ``day``."""
    for start in starts:
        if start <= day < start + fraction:
            return day
        if start > day:
            return start
    return day


def reference_done(starts: Sequence[float], fraction: float, start: float, target: float) -> float:
    """When work begun at ``start`` reaches ``target`` working days since day 0."""
    whole, count = math.floor(target), len(starts)
    if whole >= count:
        return max(start, starts[count - 1] + fraction) + (target - count)
    share = target - whole
    if share == 0.0 and whole > 0:
        return max(start, starts[whole - 1] + fraction)
    return starts[whole] + share * fraction


def reference_take_idle(seats: dict[int, Sequence[float]], calendar: WorkCalendar, idle, now):
    """The longest idle rep of those who start soonest, in the code of before.

    It stops at the first rep who starts now or at the company's next working
    instant, which nobody beats; past the laid-out days, years after the
    horizon, a seat with none left "starts" at once and may come later in line.
    """
    fraction = calendar.cfg.day_fraction
    soonest = reference_at_work(calendar.company.starts, fraction, now)
    best, best_start = None, math.inf
    for rep in idle:
        start = reference_at_work(seats[rep.rep_id], fraction, now)
        if start < best_start:
            best, best_start = rep, start
            if start in (now, soonest):
                break
    idle.remove(best)
    return best


def bits(*values: float) -> list[str]:
    """The exact bits of each float (``==`` would take -0.0 for 0.0)."""
    return [float(value).hex() for value in values]


def random_calendar(rng: random.Random) -> WorkCalendar:
    """A calendar of random week, hours, holidays and leave (abutting 24-hour days included)."""
    hours = rng.choice([8.0, 10.0, 24.0, 7.5, rng.uniform(0.5, 12.0)])
    start_hour = 0.0 if hours == 24.0 else rng.choice([9.0, 14.0, 0.0, 24.0 - hours])
    days_per_week = rng.choice([5, 4, 7, 3])
    cfg = CalendarConfig(
        enabled=True,
        days_per_week=days_per_week,
        hours_per_day=hours,
        start_hour=start_hour,
        first_weekday=rng.choice(["monday", "saturday", "wednesday"]),
        holidays=tuple(sorted(rng.sample(range(365), rng.choice([0, 3, 8])))),
        leave_days_per_year=rng.choice([0, 5, 30, 60]) if days_per_week > 3 else 5,
        leave_block_days=rng.choice([1, 5, 10]),
    )
    return WorkCalendar(cfg, horizon_days=rng.choice([14.0, 365.0, 120.5]))


def instants(
    rng: random.Random, starts: Sequence[float], fraction: float, count: int
) -> list[float]:
    """Random instants, half of them on or one ulp either side of a day's start or end."""
    last = starts[-1] + fraction
    out = [-1.0, 0.0, last, math.nextafter(last, -math.inf), last + 3.5]
    for _ in range(count):
        edge = rng.choice(starts) + rng.choice([0.0, fraction])
        out += [
            rng.uniform(-2.0, last + 2.0),
            float(rng.randrange(math.ceil(last))),
            edge,
            math.nextafter(edge, rng.choice([-math.inf, math.inf])),
        ]
    return out


EFFORTS = [0.0, -0.5, 5e-324, 2.2e-313, 0.25, 1.0, 3.0, 1 / 3, 7.123456789, 5000.0]


def test_seats_are_the_company_days_less_leave_and_look_ups_match_the_reference():
    rng = random.Random(20)
    for _ in range(12):
        calendar = random_calendar(rng)
        fraction = calendar.cfg.day_fraction
        for rep_id in rng.sample(range(200), 3):
            days = calendar.seat(rep_id)
            starts = reference_starts(calendar, rep_id)
            leave = leave_days(calendar.company_years, calendar.cfg, rep_id)
            assert leave == reference_leave_days(calendar, rep_id)
            assert bits(*days.starts) == bits(*starts)
            for now in instants(rng, starts, fraction, 30):
                start = reference_at_work(starts, fraction, now)
                assert bits(days.at_work(now)) == bits(start), now
                assert bits(days.worked(now)) == bits(reference_worked(starts, fraction, now))
                before = reference_worked(starts, fraction, start)
                for effort in (*EFFORTS, rng.uniform(0.0, 20.0)):
                    # No work (or less) is done at once; else it ends when the target is reached.
                    target = before + effort
                    finish = (
                        reference_done(starts, fraction, start, target) if effort > 0 else start
                    )
                    assert bits(*days.span(now, effort)) == bits(start, finish), (now, effort)
                    # Then the task's busy time asks for the working time at both ends
                    # (``span`` remembered them).
                    for day in (start, finish, finish + rng.uniform(-1.0, 1.0)):
                        worked = reference_worked(starts, fraction, day)
                        assert bits(days.worked(day)) == bits(worked), (now, effort, day)


def test_leave_wraps_round_a_short_last_year_as_the_plain_rule_does():
    # Three years of days laid out for a horizon of 3 days: the last "year" holds a
    # handful of working days, fewer than a block of leave, so blocks wrap round it.
    for block_days in (1, 3, 10, 50):
        cfg = CalendarConfig(enabled=True, leave_days_per_year=50, leave_block_days=block_days)
        calendar = WorkCalendar(cfg, horizon_days=3.0)
        assert len(calendar.company_years[-1]) < block_days or block_days < 10
        for rep_id in range(30):
            leave = leave_days(calendar.company_years, cfg, rep_id)
            assert leave == reference_leave_days(calendar, rep_id), (block_days, rep_id)


def test_work_that_rounds_up_to_the_next_days_start_has_worked_all_of_its_day():
    # Days of 24 hours from midnight, Monday to Friday: day 140 (a Monday) is working
    # day 100. Work of 1 - 2**-46 days begun then has 100.99999999999998 working days
    # behind it at its end, but 140 + 0.99999999999998 rounds to 141.0, Tuesday's start.
    days = WorkCalendar(CalendarConfig(enabled=True, hours_per_day=24.0, start_hour=0.0), 365.0)
    days = days.company
    assert days.worked(140.0) == 100.0
    start, finish = days.span(140.0, 1.0 - 2.0**-46)
    assert (start, finish) == (140.0, 141.0)
    assert bits(days.worked(finish)) == bits(reference_worked(days.starts, 1.0, finish))
    assert days.worked(finish) == 101.0


def test_take_idle_picks_the_reference_rep_and_leaves_the_same_queue():
    rng = random.Random(4)
    passed_over = 0
    for _ in range(10):
        calendar = random_calendar(rng)
        fraction = calendar.cfg.day_fraction
        starts = calendar.company.starts
        reps = [Rep(rep_id) for rep_id in rng.sample(range(300), 40)]
        seats = {rep.rep_id: reference_starts(calendar, rep.rep_id) for rep in reps}
        # Instants in random order (the kept next day must follow time going back too),
        # on leave days of the first reps, at nights, on day edges, near the end.
        moments = instants(rng, starts, fraction, 40)
        for rep in reps[:3]:
            away = sorted(reference_leave_days(calendar, rep.rep_id))
            moments += [day + rng.random() for day in away[:: max(1, len(away) // 8)]]
        rng.shuffle(moments)
        for now in moments:
            queue = rng.sample(reps, rng.randint(1, 12))
            fast, slow = deque(queue), deque(queue)
            rep = calendar.take_idle(fast, now)
            assert rep is reference_take_idle(seats, calendar, slow, now), now
            assert list(fast) == list(slow)
            passed_over += rep is not queue[0]
    assert passed_over > 50  # many a longest-idle rep was away


def test_a_night_with_everyone_idle_on_leave_waits_for_the_first_to_return():
    # Both seats of the queue are away on the company's next working day: the one
    # back first starts first (at 09:00 on its first day back), though second in line.
    cfg = CalendarConfig(enabled=True, leave_days_per_year=10, leave_block_days=10)
    calendar = WorkCalendar(cfg, horizon_days=365.0)
    days = calendar.company_days
    away = {seat: leave_days(calendar.company_years, cfg, seat) for seat in range(40)}
    day = sorted(away[0])[4]  # in the middle of seat 0's block
    back = {  # each seat's first working day after ``day``, for the seats away then
        seat: min(d for d in days if d > day and d not in leave)
        for seat, leave in away.items()
        if day in leave
    }
    later = max(back, key=back.get)
    sooner = min(back, key=back.get)
    assert back[later] > back[sooner]
    queue = deque([Rep(later), Rep(sooner)])
    evening = days[days.index(day) - 1] + 20 / 24  # the night before ``day``
    rep = calendar.take_idle(queue, evening)
    assert rep.rep_id == sooner and [r.rep_id for r in queue] == [later]
    assert calendar.seat(sooner).at_work(evening) == back[sooner] + 9 / 24


class Rep:
    """What ``take_idle`` reads of a rep."""

    def __init__(self, rep_id: int):
        self.rep_id = rep_id
