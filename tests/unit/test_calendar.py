"""The working calendar: hand-computed start and finish times, leave, utilisation, bad input.

Day 0 is a Monday; the working day runs from 09:00 to 17:00 (8 hours), so
Friday is day 4, next Monday day 7, and 15:00 is 15/24 of a day.
"""

import math

import pytest

from sim.cli.main import main
from sim.config.calendar import CalendarConfig
from sim.config.scenario import Scenario, without_sales_effects
from sim.model.calendar import WorkCalendar, leave_days
from tests.builders import event_log, hand_leads, run, scenario


def at(day: int, hour: float) -> float:
    """Calendar day of ``hour`` o'clock on ``day``."""
    return day + hour / 24.0


FRIDAY, MONDAY, TUESDAY = 4, 7, 8
ON = (
    "calendar.enabled=true",
    "calendar.days_per_week=5",
    "calendar.hours_per_day=8.0",
    "calendar.start_hour=9.0",
)


def office(**fields) -> WorkCalendar:
    """A five-day, nine-to-five calendar over a year (fields change it)."""
    return WorkCalendar(CalendarConfig(enabled=True, **fields), horizon_days=365.0)


def test_four_hours_begun_friday_at_three_end_monday_at_eleven():
    days = office().company
    # Two hours on Friday (15:00-17:00), two on Monday (09:00-11:00): half a working day.
    assert days.span(at(FRIDAY, 15), 0.5)[1] == pytest.approx(at(MONDAY, 11))
    # Work that fills the day ends at 17:00 that day, not at 09:00 the next.
    assert days.span(at(FRIDAY, 9), 1.0)[1] == pytest.approx(at(FRIDAY, 17))
    assert days.worked(at(MONDAY, 11)) - days.worked(at(FRIDAY, 15)) == pytest.approx(0.5)
    # No work is done at once, even at the start of a working day.
    assert days.span(at(MONDAY, 9), 0.0)[1] == pytest.approx(at(MONDAY, 9))
    # Nor work too small to add to the working time before it (found by the property test:
    # it ended at Friday's 17:00, before it began).
    assert days.span(at(MONDAY, 9), 2.2e-313)[1] == at(MONDAY, 9)


def test_friday_evening_is_first_worked_on_monday_morning():
    days = office().company
    assert days.at_work(at(FRIDAY, 20)) == pytest.approx(at(MONDAY, 9))
    assert days.at_work(at(FRIDAY, 17)) == pytest.approx(at(MONDAY, 9))  # the day is over
    assert days.at_work(at(FRIDAY, 12)) == at(FRIDAY, 12)  # at work: now
    assert days.at_work(at(0, 3)) == pytest.approx(at(0, 9))  # before the day starts


def test_a_holiday_and_a_shorter_week_are_skipped():
    # Monday of the second week is a public holiday: Friday's work goes on on Tuesday.
    days = office(holidays=(MONDAY,)).company
    assert days.span(at(FRIDAY, 15), 0.5)[1] == pytest.approx(at(TUESDAY, 11))
    # A four-day week (Monday to Thursday): Friday evening waits for Monday too,
    # and a 10-hour day runs 08:00-18:00.
    short = office(days_per_week=4, hours_per_day=10.0, start_hour=8.0).company
    assert short.at_work(at(3, 19)) == pytest.approx(at(MONDAY, 8))
    assert short.span(at(3, 13), 1.0)[1] == pytest.approx(at(MONDAY, 13))


def test_day_zero_can_be_another_weekday():
    # Day 0 a Saturday: the first working instant is Monday 09:00, day 2.
    days = office(first_weekday="saturday").company
    assert days.at_work(0.0) == pytest.approx(at(2, 9))


def test_a_conveyor_lead_of_friday_evening_in_exact_times():
    # One rep per role, efforts 1, 2 and 3 working days, no customer lag. The lead
    # arrives on Friday at 20:00; lead gen works it all Monday, the qualifier Tuesday
    # and Wednesday, the closer Thursday, Friday and the next Monday.
    sc = scenario(*ON)
    log = event_log(run("conveyor", hand_leads([at(FRIDAY, 20)]), sc).leads)
    expected = [
        (0, "prospecting", at(FRIDAY, 20), at(MONDAY, 9), at(MONDAY, 17), at(MONDAY, 17), 0),
        (0, "qualification", at(MONDAY, 17), at(TUESDAY, 9), at(9, 17), at(9, 17), 1),
        (0, "closing", at(9, 17), at(10, 9), at(14, 17), at(14, 17), 2),
        (0, "won", "", "", at(14, 17)),
    ]
    assert len(log) == len(expected)
    for got, want in zip(log, expected, strict=True):
        assert got == pytest.approx(want)


def test_utilisation_is_busy_working_time_over_working_time():
    # Two weeks with one holiday: 9 working days. The lead-gen rep works one lead for
    # one working day (over a weekend): utilisation 1/9, where around the clock it
    # would be 1/14.
    sc = scenario(
        *ON, "horizon_days=14.0", "calendar.holidays=[2]", "structures.conveyor.lead_gen=1"
    )
    reps = run("conveyor", hand_leads([at(FRIDAY, 13)]), sc).reps
    lead_gen = reps[reps["role"] == "lead_gen"]
    assert lead_gen["busy_days"].sum() == pytest.approx(1.0)
    assert lead_gen["window_working_days"].sum() == pytest.approx(9.0)
    assert lead_gen["window_days_present"].sum() == pytest.approx(14.0)
    off = run("conveyor", hand_leads([at(FRIDAY, 13)]), scenario("horizon_days=14.0")).reps
    off_lead_gen = off[off["role"] == "lead_gen"]
    assert off_lead_gen["window_working_days"].sum() == pytest.approx(14.0)


def test_leave_is_whole_blocks_each_year_spread_across_seats():
    cfg = CalendarConfig(enabled=True, leave_days_per_year=25, holidays=(0, 358, 359))
    calendar = WorkCalendar(cfg, horizon_days=730.0)
    by_seat = [leave_days(calendar.company_years, cfg, seat) for seat in range(4)]
    for away in by_seat:
        assert away <= set(calendar.company_days)  # leave falls on working days
        for year in (0, 1):
            assert sum(1 for day in away if day // 365 == year) == 25
    assert len({frozenset(away) for away in by_seat}) == 4  # no two seats away together
    # A year of 261 weekdays (day 0 a Monday), 3 holidays and 25 days of leave.
    assert cfg.working_days_per_year() == 261 - 3 - 25
    assert CalendarConfig().working_days_per_year() == 365  # off: around the clock
    seat = calendar.seat(0)
    first = min(by_seat[0])
    # On leave: the seat's first working instant on that day is after the block.
    assert seat.at_work(at(first, 10)) > first + 1


class Seat:
    """What ``take_idle`` reads of a rep."""

    def __init__(self, rep_id: int):
        self.rep_id = rep_id


def test_a_pooled_task_goes_to_a_colleague_at_work_not_to_one_on_leave():
    from collections import deque

    cfg = CalendarConfig(enabled=True, leave_days_per_year=5)
    calendar = WorkCalendar(cfg, horizon_days=365.0)
    away = leave_days(calendar.company_years, cfg, 0)
    day = min(d for d in away if d not in leave_days(calendar.company_years, cfg, 1))
    first, second = Seat(0), Seat(1)
    idle = deque([first, second])  # seat 0 has been idle longest, but is away
    assert calendar.take_idle(idle, at(day, 10)) is second
    assert list(idle) == [first]
    idle = deque([first, second])
    assert calendar.take_idle(idle, at(day + 30, 10)) is first  # both at work: longest idle


def test_off_means_around_the_clock_and_sales_effects_off_turns_it_off():
    assert WorkCalendar.of(scenario()) is None
    sc = scenario(*ON)
    assert WorkCalendar.of(sc) is not None
    assert not without_sales_effects(sc).calendar.enabled


@pytest.mark.parametrize(
    "override, expected",
    [
        ("calendar.start_hour=20.0", "start_hour + hours_per_day (20.0 + 8.0) must be at most 24"),
        ("calendar.holidays=[400]", "holidays: [400] are not days of the year"),
        ("calendar.holidays=[3, 3]", "holidays: a day is listed twice"),
        (
            "calendar.leave_days_per_year=200",
            "leave_days_per_year (200, in blocks of 5) does not fit in a year of at least 156",
        ),
        (
            "calendar.days_per_week=8",
            "days_per_week=8: Input should be less than or equal to 7 (got 8)",
        ),
        ("calendar.first_weekday=funday", "first_weekday=funday: Input should be 'monday'"),
    ],
)
def test_bad_calendar_is_one_line_and_exit_2(tmp_path, capsys, override, expected):
    from tests.unit.test_cli import SMALL

    path = tmp_path / "cal.toml"
    path.write_text(SMALL)
    out = tmp_path / "out"
    three_days = "calendar.days_per_week=3"
    args = ["simulate", str(path), "--set", three_days, "--set", override, "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not out.exists()


def test_scenario_field_reads_from_toml():
    sc = Scenario.from_dict(
        {**scenario().model_dump(mode="json"), "calendar": {"enabled": True, "holidays": [0, 1]}}
    )
    assert sc.calendar.holidays == (0, 1)
    assert math.isclose(sc.calendar.day_fraction, 8 / 24)
