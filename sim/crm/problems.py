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

PROBLEM_KINDS: dict[str, str] = {
    "unreadable_date": "a date that cannot be read (or does not match [dates] format)",
    "not_in_mapping": "a stage, status or event value that is not ours after the mapping",
    "backwards": "a lead that moves backwards in the funnel (a later step dated earlier)",
    "skips_stage": "a lead that reaches a stage (or a win) without entering the ones before",
    "duplicate": "a lead_id on two rows (leads shape), or the same history row twice",
    "bad_amount": "an amount that is not a non-negative number",
    "missing_value": "an empty lead_id or created_at",
    "conflicting_values": "two different segments or lost reasons for one lead",
    "lead_left_out": "a row without a problem of its own, of a lead left out for another row",
}
"""The kinds of unusable row (the ``kind`` column of ``unusable_rows.csv``)."""

UNUSABLE_COLUMNS: tuple[str, ...] = ("row", "lead_id", "kind", "reason")


@dataclass(frozen=True)
class ExportProblem:
    """One unusable row: where (1-based file line, header = line 1), which lead, and why."""

    row: int
    lead_id: str
    reason: str
    kind: str = "other"

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
