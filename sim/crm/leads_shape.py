"""Reading a leads-shaped export: one row per lead.

A row holds the lead's creation date and status and, per stage, when it entered
the stage, was taken by an owner, was worked and passed
(``qualification_entered_at`` ...), with the owner per stage. Lead L7, created
on 1 March, in closing from 20 March and won on 2 April, is one row and becomes
one lead; a second row with id L7 makes both rows unusable.
"""

from __future__ import annotations

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
    fmt = mapping.dates.format
    problems: list[ExportProblem] = []
    df = df.copy()
    df["lead_id"] = df["lead_id"].str.strip()
    dates = {}
    for column in df.columns:
        if (
            column == "created_at"
            or column == "closed_at"
            or column.endswith(tuple(f"_{step}_at" for step in STEPS))
        ):
            dates[column] = parse_dates(df[column], fmt)
            problems += bad_dates(df, column, dates[column])
    amounts, amount_problems = parse_amounts(df)
    problems += amount_problems
    measured = {
        name
        for name, present in (
            ("segment", "segment" in df),
            ("tier", "tier" in df),
            ("amount", "amount" in df),
            ("owner", any(f"{s}_owner" in df for s in STAGES)),
            ("account_owner", "account_owner" in df),
            ("lost_reason", "lost_reason" in df),
            *((step, any(f"{s}_{step}_at" in df for s in STAGES)) for step in STEPS[1:]),
            ("funnel", any(f"{s}_entered_at" in df for s in STAGES[1:])),
        )
        if present
    }
    seen: dict[str, int] = {}
    rows = []
    bad_rows = {p.row for p in problems}
    records = df.to_dict("records")
    date_lists = {column: values.tolist() for column, values in dates.items()}
    amount_list = amounts.tolist()
    stage_columns = [
        (f"{stage}_{what}", f"{stage}_{step}_at")
        for stage in STAGES
        for step, what in STEP_TO_DAY.items()
        if f"{stage}_{step}_at" in dates
    ]
    for position, record in enumerate(records):
        row = position + 2
        lead_id = record["lead_id"]
        if not lead_id:
            problems.append(ExportProblem(row, "", "lead_id is empty", "missing_value"))
            continue
        if lead_id in seen:
            problems.append(
                ExportProblem(
                    row, lead_id, f"duplicate lead_id: also on row {seen[lead_id]}", "duplicate"
                )
            )
            problems.append(
                ExportProblem(
                    seen[lead_id], lead_id, f"duplicate lead_id: also on row {row}", "duplicate"
                )
            )
            continue
        seen[lead_id] = row
        status = map_value(record["status"], mapping)
        if status not in STATUSES:
            problems.append(
                ExportProblem(
                    row,
                    lead_id,
                    f"status: {record['status']!r} is not in the mapping "
                    f"(known after mapping: {', '.join(STATUSES)})",
                    "not_in_mapping",
                )
            )
            continue
        created = date_lists["created_at"][position]
        if pd.isna(created):
            if row not in bad_rows:
                problems.append(ExportProblem(row, lead_id, "created_at is empty", "missing_value"))
            continue
        lead = empty_lead(lead_id, row)
        lead["_created"] = created
        lead["outcome"] = status
        for target, column in stage_columns:
            lead[target] = date_lists[column][position]
        for stage in STAGES:
            lead[f"{stage}_handler"] = str(record.get(f"{stage}_owner", "")).strip()
        if pd.isna(lead["prospecting_queue_day"]):
            lead["prospecting_queue_day"] = created
        if "closed_at" in date_lists and not pd.isna(date_lists["closed_at"][position]):
            lead["end_day"] = date_lists["closed_at"][position]
        lead["segment"] = str(record.get("segment", "")).strip()
        lead["tier"] = str(record.get("tier", "")).strip()
        lead["deal_value"] = amount_list[position]
        lead["lost_reason"] = str(record.get("lost_reason", "")).strip()
        lead["account_handler"] = str(record.get("account_owner", "")).strip()
        if status != "open" and pd.isna(lead["end_day"]):
            lead["end_day"] = _last_time(lead)
        why = check_order(lead, "funnel" in measured)
        if why is not None:
            problems.append(ExportProblem(row, lead_id, *why))
            continue
        rows.append(lead)
    bad_ids = {p.lead_id for p in problems}
    leads = [lead for lead in rows if lead["lead_id"] not in bad_ids]
    for lead in leads:
        finish_lead(lead, measured)
    left_out = bad_ids | {p.row for p in problems if not p.lead_id}
    return lead_frame(leads), problems, measured, left_out


def _last_time(lead: dict) -> pd.Timestamp:
    times = [
        lead[f"{s}_{what}"]
        for s in STAGES
        for what in STEP_TO_DAY.values()
        if not pd.isna(lead[f"{s}_{what}"])
    ]
    return max(times) if times else lead["_created"]
