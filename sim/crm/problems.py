"""Unusable rows of a CRM export: what is wrong with a row, and the list of them.

Rows that cannot be used (an unreadable date, a stage name not in the mapping,
a lead that moves backwards in the funnel, a duplicate id) are never dropped
silently: each becomes an ``ExportProblem`` naming the row and the reason, and
the lead it belongs to is left out and counted. A lead created on "2024-02-30"
on line 3 of the file is row 3, kind ``unreadable_date``; each other row of
that lead is listed too, as ``lead_left_out``. ``unusable_rows.csv`` holds them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import ScenarioError

PROBLEM_KINDS: dict[str, str] = {
    "unreadable_date": "a date that cannot be read (or does not match [dates] format)",
    "not_in_mapping": "a stage, status or event value that is not ours after the mapping",
    "backwards": "a lead that moves backwards in the funnel (a later step dated earlier)",
    "skips_stage": "a lead that reaches a stage (or a win) without entering the ones before",
    "duplicate": "a lead_id on two rows (leads shape), or the same history row twice",
    "bad_amount": "an amount that is not a non-negative number (the lead is kept without it)",
    "missing_value": "an empty lead_id, created_at or changed_at",
    "conflicting_values": "two different segments or lost reasons for one lead",
    "won_without_close_date": "a won lead without a close date (its cycle is unknown)",
    "lost_without_close_date": "a lost lead without a close date (when it was lost is unknown)",
    "not_in_join": "a value to look up that is not in a joined file ([[joins]] in the mapping)",
    "undated_open": "an open lead without any date (an early stage the CRM does not date)",
    "lead_left_out": "a row without a problem of its own, of a lead left out for another row",
}
"""The kinds of unusable row (the ``kind`` column of ``unusable_rows.csv``)."""

KEEPS_LEAD: frozenset[str] = frozenset({"bad_amount"})
"""Kinds that lose one cell, not the lead: the lead is used without its amount."""

NOT_AN_ERROR: frozenset[str] = frozenset({"undated_open"})
"""Kinds listed so that no row goes unaccounted for, but not errors in the file: an
open lead in a stage the CRM does not date has not been engaged yet, so it cannot
be placed in time, and that is how such exports are. These never stop a command
and do not count towards ``MAX_BAD_ROWS_PERCENT``."""

MAX_BAD_ROWS_PERCENT = 10.0
"""The most bad rows, in percent of the rows read, that ``--skip-bad-rows`` goes on
without. More is rarely a few broken rows: it is a column read the wrong way (a
date order, an amount format, a mapping), and estimates from the rest would be
biased without a word. ``--bad-rows-limit`` changes it."""


class ExportError(ScenarioError):
    """An export that cannot be used at all; ``problems`` holds one line per problem.

    ``unusable`` holds the unusable rows when the file was read but no row was usable.
    """

    def __init__(self, problems: list[str], unusable: tuple[ExportProblem, ...] = ()):
        super().__init__(problems)
        self.unusable = unusable


UNUSABLE_COLUMNS: tuple[str, ...] = ("row", "lead_id", "kind", "reason")


@dataclass(frozen=True)
class ExportProblem:
    """One unusable row: where (1-based file line, header = line 1), which lead, and why."""

    row: int
    lead_id: str
    reason: str
    kind: str = "other"

    @property
    def leaves_lead_out(self) -> bool:
        """Whether the lead of this row is not used (a bad amount only loses the amount)."""
        return self.kind not in KEEPS_LEAD

    @property
    def is_error(self) -> bool:
        """Whether this row is a fault in the file (stops a command without --skip-bad-rows)."""
        return self.kind not in NOT_AN_ERROR

    def line(self, label: str) -> str:
        """The problem as one line of the report."""
        who = f" (lead {self.lead_id})" if self.lead_id else ""
        return f"{label}: row {self.row}{who}: {self.reason}"


def unusable_rows(problems: tuple[ExportProblem, ...] | list[ExportProblem]) -> pd.DataFrame:
    """The unusable rows as a table: ``row``, ``lead_id``, ``kind``, ``reason``, by row."""
    table = pd.DataFrame(
        [(p.row, p.lead_id, p.kind, p.reason) for p in problems], columns=list(UNUSABLE_COLUMNS)
    )
    return table.sort_values("row", kind="stable").reset_index(drop=True)


def write_unusable_rows(
    problems: tuple[ExportProblem, ...] | list[ExportProblem], path: Path
) -> None:
    """Write ``unusable_rows`` to a CSV file (atomically: a temporary file, then renamed)."""
    from sim.files.csvsafe import write_csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(unusable_rows(problems), path)
