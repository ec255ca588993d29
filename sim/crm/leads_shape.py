"""Reading a leads-shaped export: one row per lead.

A row holds the lead's creation date and status and, per stage, when it entered
the stage, was taken by an owner, was worked and passed
(``qualification_entered_at`` ...), with the owner per stage (or one deal owner
for all of them). Lead L7, created
on 1 March, in closing from 20 March and won on 2 April, is one row and becomes
one lead; a second row with id L7 makes both rows unusable.

What real exports leave out: a lead without ``created_at`` starts at its first
stage date when it has one (an export whose creation date is blank for some
leads but whose stage dates are not); an open lead without any date is one in
a stage the CRM does not date (HubSpot's and many reports' early stages), not
yet engaged, so not placed in time: it is listed (``undated_open``) and not
used, and it is no error. A close date on an open lead is a forecast (HubSpot
sets one on every deal), not an outcome, and is not used. A won or lost lead
without a close date, nor a stage dated after its creation, has no known end:
it is left out (``won_without_close_date``), never given a cycle of 0 days.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.config.scenario import STAGES
from sim.crm.mapping import STATUSES, STEP_TO_DAY, STEPS, CrmMapping, map_value
from sim.crm.problems import ExportProblem
from sim.crm.rows import (
    ShapeRead,
    bad_dates,
    check_order,
    decimal_note,
    empty_lead,
    finish_lead,
    lead_frame,
    leads_left_out,
    parse_amounts,
)


def read_leads_shape(
    df: pd.DataFrame, mapping: CrmMapping, parsed: dict[str, pd.Series]
) -> ShapeRead:
    """The leads of a leads-shaped export.

    Args:
        df: the export's cells, columns renamed to ours.
        mapping: the stage and status names.
        parsed: each date column's timestamps (``sim.crm.dates``).
    """
    df = df.copy()
    df["lead_id"] = df["lead_id"].str.strip()
    dates = parsed
    problems = [p for column, values in dates.items() for p in bad_dates(df, column, values)]
    amounts, amount_problems, mark = parse_amounts(df)
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
    bad_rows = {p.row for p in problems if p.leaves_lead_out}
    rows, row_problems = _row_leads(df.to_dict("records"), cells, mapping, measured, bad_rows)
    problems += row_problems
    bad_ids = leads_left_out(problems)
    leads = [lead for lead in rows if lead["lead_id"] not in bad_ids]
    for lead in leads:
        finish_lead(lead, measured)
    left_out = bad_ids | {p.row for p in problems if not p.lead_id}
    notes = _notes(df, dates, cells, mapping) + decimal_note(mark)
    return ShapeRead(lead_frame(leads), problems, measured, left_out, notes)


def _notes(df: pd.DataFrame, dates: dict[str, pd.Series], cells, mapping: CrmMapping) -> list[str]:
    """What was assumed or ignored: creation from a stage date, forecast close dates."""
    notes = []
    created_blank = df["created_at"].str.strip() == ""
    stage_dated = pd.Series(False, index=df.index)
    for _, column in cells.stage_columns:
        stage_dated |= dates[column].notna()
    if (implied := int((created_blank & stage_dated).sum())) > 0:
        notes.append(f"{implied} leads without created_at start at their first stage date")
    if "closed_at" in dates:
        is_open = df["status"].map(lambda v: map_value(v, mapping)) == "open"
        if (forecast := int((is_open & dates["closed_at"].notna()).sum())) > 0:
            notes.append(
                f"{forecast} open leads have a close date: a forecast, not an outcome; not used"
            )
    return notes


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
    if pd.isna(created) and not bad_row:
        created = _first_stage_date(position, cells)
    if pd.isna(created):
        if bad_row:
            return None, None
        if status == "open":
            why = "an open lead without any date: it cannot be placed in time; not used"
            return None, ExportProblem(row, lead_id, why, "undated_open")
        return None, ExportProblem(row, lead_id, "created_at is empty", "missing_value")
    lead = _filled_lead(record, position, cells, created, status)
    if status != "open" and pd.isna(lead["end_day"]):
        why = f"{status} without a close date (closed_at empty, no stage dated after creation)"
        return None, ExportProblem(row, lead_id, why, f"{status}_without_close_date")
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
    # An open lead's close date is a forecast (HubSpot sets one on every deal).
    closed = cells.dates["closed_at"][position] if "closed_at" in cells.dates else pd.NaT
    if status != "open" and not pd.isna(closed):
        lead["end_day"] = closed
    lead["segment"] = str(record.get("segment", "")).strip()
    lead["tier"] = str(record.get("tier", "")).strip()
    lead["deal_value"] = cells.amounts[position]
    lead["lost_reason"] = str(record.get("lost_reason", "")).strip()
    lead["account_handler"] = str(record.get("account_owner", "")).strip() or (
        deal_owner if status == "won" else ""
    )
    if status != "open" and pd.isna(lead["end_day"]):
        last = _last_time(lead)
        if last > created:  # closed by its last dated step; no such step: no known end
            lead["end_day"] = last
    return lead


def _last_time(lead: dict) -> pd.Timestamp:
    times = [
        lead[f"{s}_{what}"]
        for s in STAGES
        for what in STEP_TO_DAY.values()
        if not pd.isna(lead[f"{s}_{what}"])
    ]
    return max(times) if times else lead["_created"]


def _first_stage_date(position: int, cells: _Cells) -> pd.Timestamp:
    """The earliest stage date of a row (NaT if none): when a lead without created_at began."""
    times = [cells.dates[column][position] for _, column in cells.stage_columns]
    times = [t for t in times if not pd.isna(t)]
    return min(times) if times else pd.NaT
