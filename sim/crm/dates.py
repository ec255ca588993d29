"""Dates in a CRM export: which order the day and month come in, and reading them.

An export writes dates in its user's locale: ``03/04/2024`` is 3 April in
London and 4 March in New York. The order is inferred from the file, never
guessed per cell: a ``25/03/2024`` anywhere shows the day comes first (no
month 25), a ``03/25/2024`` that the month does. A file that shows both is
refused, and so is one whose every date could be read either way: the mapping
must say (``[dates] order`` or ``[dates] format``). Dates with the year first
(ISO 8601: ``2024-03-25``, ``2024-03-25T14:30:00Z``) are read as such in any
file; a time zone is converted to UTC. A date without a time of day means the
whole day: when the export's last date is one, the export ends at the end of
that day (``sim.crm.read``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.crm.problems import ExportError

YEAR_FIRST = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
"""ISO 8601 and its look-alikes with slashes or dots (``2024/03/25``)."""
IS_YEAR_FIRST = r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"

DAY_MONTH = (
    r"^(?P<first>\d{1,2})[/.\-](?P<second>\d{1,2})[/.\-](?P<year>\d{4}|\d{2})"
    r"(?:[ T,]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<sec>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<half>[AaPp]\.?[Mm]\.?)?)?$"
)
"""``25/03/2024``, ``3.25.24``, ``25-03-2024 14:30``, ``3/25/2024 2:30 PM``."""

HAS_TIME = r"\d:\d"
ORDERS = {"day_first": "day first (day/month/year)", "month_first": "month first (month/day/year)"}


@dataclass(frozen=True)
class DateReader:
    """How one file's dates are read: a strptime format, or a day-month order.

    Attributes:
        format: a strptime format from the mapping (every date must match it).
        day_first: for dates like ``03/04/2024``, whether the day comes first;
            None when the file has none of them.
    """

    format: str | None = None
    day_first: bool | None = None

    def parse(self, values: pd.Series) -> pd.Series:
        """Timestamps of text cells (UTC wall time); NaT where empty or unreadable."""
        text = values.astype(str).str.strip()
        if self.format:
            parsed = pd.to_datetime(text, format=self.format, errors="coerce")
            return parsed.mask(text == "")
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
        iso = text.str.contains(IS_YEAR_FIRST, regex=True)
        if iso.any():
            parsed.loc[iso] = _iso(text[iso])
        parts = text[~iso].str.extract(DAY_MONTH)
        numeric = parts["first"].notna()
        if numeric.any() and self.day_first is not None:
            parsed.loc[numeric[numeric].index] = _from_parts(parts[numeric], self.day_first)
        return parsed.mask(text == "")


def _iso(text: pd.Series) -> pd.Series:
    """Year-first dates; a time zone converted to UTC, then dropped."""
    dashed = text.str.replace(YEAR_FIRST, r"\1-\2-\3", regex=True)
    padded = dashed.str.replace(r"^(\d{4})-(\d)\b", r"\1-0\2", regex=True).str.replace(
        r"^(\d{4}-\d{2})-(\d)\b", r"\1-0\2", regex=True
    )
    parsed = pd.to_datetime(padded, format="ISO8601", errors="coerce", utc=True)
    return parsed.dt.tz_localize(None).astype("datetime64[us]")


def _from_parts(parts: pd.DataFrame, day_first: bool) -> pd.Series:
    """Timestamps from the fields of day/month dates (two-digit years are 20xx)."""
    first, second = parts["first"].astype(int), parts["second"].astype(int)
    year = parts["year"].astype(int)
    hour = parts["hour"].fillna("0").astype(int)
    half = parts["half"].fillna("").str.lower().str[0]
    hour = hour.where(half != "p", hour % 12 + 12).where(half != "a", hour % 12)
    fields = pd.DataFrame(
        {
            "year": year.where(year >= 100, year + 2000),
            "month": second if day_first else first,
            "day": first if day_first else second,
            "hour": hour.where(hour < 24, 99),  # 99: NaT, not the next day
            "minute": parts["minute"].fillna("0").astype(int),
            "second": parts["sec"].fillna("0").astype(int),
        }
    )
    return pd.to_datetime(fields, errors="coerce").astype("datetime64[us]")


def date_only(values: pd.Series) -> pd.Series:
    """Cells holding a date without a time of day (they mean the whole day)."""
    text = values.astype(str).str.strip()
    return (text != "") & ~text.str.contains(HAS_TIME, regex=True)


def date_reader(
    cells: dict[str, pd.Series], fmt: str | None, order: str | None, label: str
) -> tuple[DateReader, list[str]]:
    """How to read this file's dates, from the mapping or from the dates themselves.

    Args:
        cells: each date column's text cells (row index as in the file's frame).
        fmt: ``[dates] format`` from the mapping, or None.
        order: ``[dates] order`` from the mapping (``day_first``, ``month_first``), or None.
        label: the file's name, for the lines.

    Returns:
        The reader, and a note when the order was inferred.

    Raises:
        ExportError: one line when the file shows both orders, or cannot tell.
    """
    if fmt:
        return DateReader(format=fmt), []
    if order:
        return DateReader(day_first=order == "day_first"), []
    day, month, example, iso = _order_evidence(cells)
    if day and month:
        raise ExportError(
            [f"{label}: dates: {_where(day)} has the day first but {_where(month)} the month "
             "first; one file has one order: correct the dates, or give [dates] format in the "
             "mapping (dates that do not match it are then listed as unreadable rows)"]
        )  # fmt: skip
    if day or month:
        order = "day_first" if day else "month_first"
        return DateReader(day_first=bool(day)), [
            f"{label}: dates read {ORDERS[order]}, as {_where(day or month)} shows"
        ]
    if example and not iso:
        raise ExportError(
            [f"{label}: dates: {_where(example)} and every other date could be day/month "
             'or month/day; say which in the mapping: [dates] order = "day_first" or '
             '"month_first" (or a [dates] format such as "%d/%m/%Y %H:%M")']
        )  # fmt: skip
    # A file whose dates are year first, but for a few that could be day/month or
    # month/day: those few are unreadable rows, listed as such, not a reason to refuse.
    return DateReader(), []


def _order_evidence(cells: dict[str, pd.Series]) -> tuple[tuple, tuple, tuple, bool]:
    """The first cell showing a day first, the first showing a month first, any day/month.

    Each is ``(value, column, row)`` or ``()``; a cell whose both fields pass 12
    is no evidence (it is unreadable either way). Last, whether any date is year first.
    """
    day = month = example = ()
    iso = False
    for column, values in cells.items():
        text = values.astype(str).str.strip()
        iso = iso or bool(text.str.contains(IS_YEAR_FIRST, regex=True).any())
        parts = text.str.extract(DAY_MONTH).dropna(subset=["first"])
        if parts.empty:
            continue
        first, second = parts["first"].astype(int), parts["second"].astype(int)
        found = {
            "day": (first > 12) & (first <= 31) & (second <= 12),
            "month": (second > 12) & (second <= 31) & (first <= 12),
        }
        if not example:
            example = _cell(text, column, parts.index[0])
        if not day and found["day"].any():
            day = _cell(text, column, found["day"].idxmax())
        if not month and found["month"].any():
            month = _cell(text, column, found["month"].idxmax())
    return day, month, example, iso


def _cell(text: pd.Series, column: str, index) -> tuple[str, str, int]:
    return (text[index], column, int(index) + 2)


def _where(cell: tuple) -> str:
    value, column, row = cell
    return f"{value!r} ({column}, row {row})"
