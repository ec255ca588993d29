"""Reading a leads-shaped export: one row per lead.

A row holds the lead's creation date and status and, per stage, when it entered
the stage, was taken by an owner, was worked and passed
(``qualification_entered_at`` ...), with the owner per stage (or one deal owner
for all of them). Lead L7, created
on 1 March, in closing from 20 March and won on 2 April, is one row and becomes
one lead; a second row with id L7 makes both rows unusable.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.config.scenario import STAGES
from sim.crm.mapping import STATUSES, STEP_TO_DAY, STEPS, CrmMapping, map_value
from sim.crm.problems import ExportProblem
from sim.crm.rows import (
    bad_dates,
    check_order,
    empty_lead,
    finish_lead,
    lead_frame,
    parse_amounts,
    parse_dates,
)


def read_leads_shape(df: pd.DataFrame, mapping: CrmMapping):
    """The leads of a leads-shaped export: (leads, problems, measured, leads left out)."""
    df = df.copy()
    df["lead_id"] = df["lead_id"].str.strip()
    dates, problems = _date_columns(df, mapping.dates.format)
    amounts, amount_problems = parse_amounts(df)
    problems += amount_problems
    measured = _measured(df)
    cells = _Cells(
        dates={column: values.tolist() for column, values in dates.items()},
        amounts=amounts.tolist(),
        stage_columns=[
            (f"{stage}_{what}", f"{stage}_{step}_at")
            for stage in STAGES
            for step, what in STEP_TO_DAY.items()
            if f"{stage}_{step}_at" in dates
        ],
    )
    rows, row_problems = _row_leads(
        df.to_dict("records"), cells, mapping, measured, {p.row for p in problems}
    )
    problems += row_problems
    bad_ids = {p.lead_id for p in problems}
    leads = [lead for lead in rows if lead["lead_id"] not in bad_ids]
    for lead in leads:
        finish_lead(lead, measured)
    left_out = bad_ids | {p.row for p in problems if not p.lead_id}
    return lead_frame(leads), problems, measured, left_out


def _date_columns(
    df: pd.DataFrame, fmt: str | None
) -> tuple[dict[str, pd.Series], list[ExportProblem]]:
    """The date columns (created, closed, each stage step) parsed, and the unreadable cells."""
    problems: list[ExportProblem] = []
    dates = {}
    for column in df.columns:
        if (
            column == "created_at"
            or column == "closed_at"
            or column.endswith(tuple(f"_{step}_at" for step in STEPS))
        ):
            dates[column] = parse_dates(df[column], fmt)
            problems += bad_dates(df, column, dates[column])
    return dates, problems


def _measured(df: pd.DataFrame) -> set[str]:
    """Which optional facts the export's columns hold (``CrmHistory.measured``)."""
    return {
        name
        for name, present in (
            ("segment", "segment" in df),
            ("tier", "tier" in df),
            ("amount", "amount" in df),
            ("owner", "owner" in df or any(f"{s}_owner" in df for s in STAGES)),
            ("account_owner", "account_owner" in df or "owner" in df),
            ("lost_reason", "lost_reason" in df),
            *((step, any(f"{s}_{step}_at" in df for s in STAGES)) for step in STEPS[1:]),
            ("funnel", any(f"{s}_entered_at" in df for s in STAGES[1:])),
        )
        if present
    }


@dataclass(frozen=True)
class _Cells:
    """The parsed cells, as lists by row position (faster than the frame, row by row)."""

    dates: dict[str, list]  # date column -> timestamps
    amounts: list[float]
    stage_columns: list[tuple[str, str]]  # (our column, its date column) of each stage step


def _row_leads(
    records: list[dict],
    cells: _Cells,
    mapping: CrmMapping,
    measured: set[str],
    bad_rows: set[int],
) -> tuple[list[dict], list[ExportProblem]]:
    """A lead per usable row, and the problems of the others (a lead_id twice: both rows)."""
    leads: list[dict] = []
    problems: list[ExportProblem] = []
    seen: dict[str, int] = {}
    for position, record in enumerate(records):
        row = position + 2
        lead_id = record["lead_id"]
        id_problems = _id_problems(lead_id, row, seen)
        if id_problems:
            problems += id_problems
            continue
        seen[lead_id] = row
        lead, problem = _row_lead(record, position, cells, mapping, measured, row in bad_rows)
        if problem is not None:
            problems.append(problem)
        if lead is not None:
            leads.append(lead)
    return leads, problems


def _id_problems(lead_id: str, row: int, seen: dict[str, int]) -> list[ExportProblem]:
    """An empty lead_id, or one already seen on an earlier row (a problem for both rows)."""
    if not lead_id:
        return [ExportProblem(row, "", "lead_id is empty", "missing_value")]
    if lead_id not in seen:
        return []
    return [
        ExportProblem(row, lead_id, f"duplicate lead_id: also on row {seen[lead_id]}", "duplicate"),
        ExportProblem(seen[lead_id], lead_id, f"duplicate lead_id: also on row {row}", "duplicate"),
    ]


def _row_lead(
    record: dict,
    position: int,
    cells: _Cells,
    mapping: CrmMapping,
    measured: set[str],
    bad_row: bool,
) -> tuple[dict | None, ExportProblem | None]:
    """The lead of one row, or the problem that stops it (none if the row has one already)."""
    row = position + 2
    lead_id = record["lead_id"]
    status = map_value(record["status"], mapping)
    if status not in STATUSES:
        return None, ExportProblem(
            row,
            lead_id,
            f"status: {record['status']!r} is not in the mapping "
            f"(known after mapping: {', '.join(STATUSES)})",
            "not_in_mapping",
        )
    created = cells.dates["created_at"][position]
    if pd.isna(created):
        if bad_row:
            return None, None
        return None, ExportProblem(row, lead_id, "created_at is empty", "missing_value")
    lead = _filled_lead(record, position, cells, created, status)
    why = check_order(lead, "funnel" in measured)
    if why is not None:
        return None, ExportProblem(row, lead_id, *why)
    return lead, None


def _filled_lead(
    record: dict, position: int, cells: _Cells, created: pd.Timestamp, status: str
) -> dict:
    """A row's cells in the simulator's columns; a closed lead without a date closes last."""
    lead = empty_lead(record["lead_id"], position + 2)
    lead["_created"] = created
    lead["outcome"] = status
    for target, column in cells.stage_columns:
        lead[target] = cells.dates[column][position]
    # A deal owner ("Opportunity Owner", "Deal owner") owns every stage, and the
    # account once won, unless a column names the owner of that stage or account.
    deal_owner = str(record.get("owner", "")).strip()
    for stage in STAGES:
        lead[f"{stage}_handler"] = str(record.get(f"{stage}_owner", "")).strip() or deal_owner
    if pd.isna(lead["prospecting_queue_day"]):
        lead["prospecting_queue_day"] = created
    if "closed_at" in cells.dates and not pd.isna(cells.dates["closed_at"][position]):
        lead["end_day"] = cells.dates["closed_at"][position]
    lead["segment"] = str(record.get("segment", "")).strip()
    lead["tier"] = str(record.get("tier", "")).strip()
    lead["deal_value"] = cells.amounts[position]
    lead["lost_reason"] = str(record.get("lost_reason", "")).strip()
    lead["account_handler"] = str(record.get("account_owner", "")).strip() or (
        deal_owner if status == "won" else ""
    )
    if status != "open" and pd.isna(lead["end_day"]):
        lead["end_day"] = _last_time(lead)
    return lead


def _last_time(lead: dict) -> pd.Timestamp:
    times = [
        lead[f"{s}_{what}"]
        for s in STAGES
        for what in STEP_TO_DAY.values()
        if not pd.isna(lead[f"{s}_{what}"])
    ]
    return max(times) if times else lead["_created"]
