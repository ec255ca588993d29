"""The working calendar: which days and hours reps work, and how much leave they take.

Like an office's opening hours on the door: Monday to Friday, nine to five,
closed on public holidays, and each person away for a few weeks a year. With
the calendar on, rep effort is working time: a task of 0.5 days of effort is
half a working day (4 hours of an 8-hour day), and it takes longer in calendar
time when a night, a weekend, a holiday or the rep's leave falls in between.
Customers, lead arrivals, patience, relays and contracts keep calendar time.
With it off (the default), a rep works around the clock every day, and one day
of effort is a whole calendar day: the model before the calendar.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from sim.config.base import Frozen

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
"""Days of the week in order; a week of ``days_per_week`` working days starts on Monday."""
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DAYS_PER_YEAR = 365
"""Holidays and leave repeat every 365 days (leap days are ignored)."""


class CalendarConfig(Frozen):
    """When reps work: days a week, hours a day, public holidays and leave.

    A week's working days are its first ``days_per_week`` days counted from
    Monday (5 = Monday to Friday). Each person takes ``leave_days_per_year``
    working days off in blocks of ``leave_block_days``, spread evenly over the
    year; seat k's blocks start at a fixed offset of its own (no randomness),
    so the seats of a team are not all away at once.
    """

    enabled: bool = Field(
        default=False,
        description="false = reps work around the clock every day and one day of effort is a "
        "calendar day (the model before the calendar)",
    )
    days_per_week: int = Field(
        default=5, ge=1, le=7, description="working days a week, counted from Monday"
    )
    hours_per_day: float = Field(
        default=8.0,
        gt=0,
        le=24,
        description="working hours a day; one day of effort is this many working hours (hours)",
    )
    start_hour: float = Field(
        default=9.0, ge=0, lt=24, description="hour the working day starts (0-24, hours)"
    )
    first_weekday: Weekday = Field(
        default="monday", description="day of the week of day 0 of the horizon"
    )
    holidays: tuple[int, ...] = Field(
        default=(),
        max_length=DAYS_PER_YEAR,
        description="public holidays, as days of the year counted from day 0 (0-364); they "
        "repeat every 365 days",
    )
    leave_days_per_year: int = Field(
        default=0, ge=0, le=200, description="working days of leave each person takes a year"
    )
    leave_block_days: int = Field(
        default=5, ge=1, le=50, description="leave is taken in blocks of this many working days"
    )

    @model_validator(mode="after")
    def _fits_a_year(self) -> CalendarConfig:
        problems = []
        if self.start_hour + self.hours_per_day > 24:
            problems.append(
                f"start_hour + hours_per_day ({self.start_hour} + {self.hours_per_day}) must be "
                "at most 24: a working day ends on the day it starts"
            )
        outside = sorted({day for day in self.holidays if not 0 <= day < DAYS_PER_YEAR})
        if outside:
            problems.append(f"holidays: {outside} are not days of the year (0-364)")
        if len(set(self.holidays)) != len(self.holidays):
            problems.append("holidays: a day is listed twice")
        blocks = math.ceil(self.leave_days_per_year / self.leave_block_days)
        if blocks * self.leave_block_days > self.fewest_working_days:
            problems.append(
                f"leave_days_per_year ({self.leave_days_per_year}, in blocks of "
                f"{self.leave_block_days}) does not fit in a year of at least "
                f"{self.fewest_working_days} working days"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def fewest_working_days(self) -> int:
        """Working days of any 365-day year, at least (52 weeks less every holiday)."""
        return 52 * self.days_per_week - len(self.holidays)

    @property
    def day_fraction(self) -> float:
        """Share of a calendar day that is working time on a working day."""
        return self.hours_per_day / 24.0

    def is_working_day(self, day: int) -> bool:
        """Whether calendar day ``day`` (0 = the horizon's first) is a working day for all."""
        weekday = (WEEKDAYS.index(self.first_weekday) + day) % 7
        return weekday < self.days_per_week and day % DAYS_PER_YEAR not in self.holidays

    def working_days_per_year(self) -> float:
        """A person's working days in the first year: weekdays less holidays and leave.

        365 with the calendar off: a rep then works every calendar day.
        """
        if not self.enabled:
            return float(DAYS_PER_YEAR)
        open_days = sum(self.is_working_day(day) for day in range(DAYS_PER_YEAR))
        return float(open_days - self.leave_days_per_year)
