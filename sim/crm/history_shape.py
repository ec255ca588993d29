"""Reading a history-shaped export: one row per change of a lead's stage or owner.

This is the "opportunity history" CRMs produce: lead L7 entered prospecting on
1 March, qualification on 3 March (owner Ann), closing on 20 March and won on
2 April, four rows. A lead's rows in time order replay its journey; a move
backwards, or into a stage past one it never entered, leaves the lead out.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.config.scenario import STAGES
from sim.crm.mapping import HISTORY_STAGES, STEP_TO_DAY, STEPS, CrmMapping, map_value
from sim.crm.problems import ExportProblem
from sim.crm.rows import (
    ShapeRead,
    bad_dates,
    cell_problems,
    decimal_note,
    empty_lead,
    finish_lead,
    lead_frame,
    leads_left_out,
    parse_amounts,
)


def read_history_shape(
    df: pd.DataFrame, mapping: CrmMapping, parsed: dict[str, pd.Series]
) -> ShapeRead:
    """The leads of a history-shaped export.

    Args:
        df: the export's cells, columns renamed to ours.
        mapping: the stage names.
        parsed: the ``changed_at`` timestamps (``sim.crm.dates``), by column.
    """
    df = df.copy()
    df["lead_id"] = df["lead_id"].str.strip()
    changed = parsed["changed_at"]
    problems = bad_dates(df, "changed_at", changed)
    amounts, amount_problems, mark = parse_amounts(df)
    problems += amount_problems
    measured = _measured(df)
    stage, event, value_problems = _stages_and_events(df, mapping)
    problems += value_problems
    problems += _row_problems(df, stage, event)
    bad_rows = {p.row for p in problems if p.leaves_lead_out}
    changes = _changes(df, changed, stage, event, amounts, bad_rows)
    leads, lead_problems = _leads_of(changes)
    problems += lead_problems
    bad_ids = leads_left_out(problems) - {""}
    leads = [lead for lead in leads if lead["lead_id"] not in bad_ids]
    for lead in leads:
        finish_lead(lead, measured)
    return ShapeRead(lead_frame(leads), problems, measured, bad_ids, decimal_note(mark))


def _measured(df: pd.DataFrame) -> set[str]:
    """Which optional facts the export holds (``CrmHistory.measured``)."""
    measured = {
        name
        for name, present in (
            ("segment", "segment" in df),
            ("tier", "tier" in df),
            ("amount", "amount" in df),
            ("owner", "owner" in df),
            ("assigned", "owner" in df),
            ("account_owner", "owner" in df),
            ("lost_reason", "lost_reason" in df),
            ("funnel", True),
        )
        if present
    }
    if "event" in df:
        events = set(df["event"].str.strip())
        measured |= {"worked"} if "worked" in events else set()
        measured |= {"exited"} if "exited" in events else set()
    return measured


def _stages_and_events(
    df: pd.DataFrame, mapping: CrmMapping
) -> tuple[pd.Series, pd.Series, list[ExportProblem]]:
    """Each row's stage (ours, after the mapping) and event, and the values not ours."""
    stage = df["stage"].map(lambda v: map_value(v, mapping))
    problems = cell_problems(
        df,
        ~stage.isin(HISTORY_STAGES),
        "stage",
        f"{{value}} is not in the mapping (known after mapping: {', '.join(HISTORY_STAGES)})",
        "not_in_mapping",
    )
    if "event" not in df:
        return stage, pd.Series("", index=df.index), problems
    event = df["event"].str.strip().replace("", "entered")
    problems += cell_problems(
        df,
        ~event.isin(STEPS),
        "event",
        f"{{value}} is not one of {', '.join(STEPS)}",
        "not_in_mapping",
    )
    return stage, event, problems


def _row_problems(df: pd.DataFrame, stage: pd.Series, event: pd.Series) -> list[ExportProblem]:
    """Rows without a lead_id, and rows that repeat an earlier one (same lead, time, change)."""
    problems = [
        ExportProblem(int(index) + 2, "", "lead_id is empty", "missing_value")
        for index in df.index[df["lead_id"] == ""]
    ]
    problems += [
        ExportProblem(int(index) + 2, df.at[index, "lead_id"], "changed_at is empty",
                      "missing_value")
        for index in df.index[(df["changed_at"].str.strip() == "") & (df["lead_id"] != "")]
    ]  # fmt: skip
    key = df["lead_id"] + "\x00" + df["changed_at"] + "\x00" + stage + "\x00" + event
    duplicated = key.duplicated(keep=False) & (df["lead_id"] != "")
    first_row: dict[str, int] = {}
    for index in df.index[duplicated]:
        row = int(index) + 2
        first = first_row.setdefault(key[index], row)
        if first != row:
            problems.append(
                ExportProblem(
                    row, df.at[index, "lead_id"], f"duplicate row: same as row {first}", "duplicate"
                )
            )
    return problems


def _changes(
    df: pd.DataFrame,
    changed: pd.Series,
    stage: pd.Series,
    event: pd.Series,
    amounts: pd.Series,
    bad_rows: set[int],
) -> pd.DataFrame:
    """The usable rows as changes, by lead and in time order (file order on ties)."""
    blank = pd.Series("", index=df.index)
    work = pd.DataFrame(
        {
            "row": df.index + 2,
            "lead_id": df["lead_id"],
            "at": changed,
            "stage": stage,
            "event": event,
            "owner": df["owner"].str.strip() if "owner" in df else blank,
            "segment": df["segment"].str.strip() if "segment" in df else blank,
            "tier": df["tier"].str.strip() if "tier" in df else blank,
            "lost_reason": df["lost_reason"].str.strip() if "lost_reason" in df else blank,
            "amount": amounts,
        }
    )
    return work[~work["row"].isin(bad_rows)].sort_values(["lead_id", "at", "row"], kind="stable")


def _leads_of(changes: pd.DataFrame) -> tuple[list[dict], list[ExportProblem]]:
    """One lead per lead_id from its changes, or the problem that stops it."""
    leads, problems = [], []
    records = list(changes.itertuples(index=False, name="Change"))
    start = 0
    while start < len(records):
        stop = start
        while stop < len(records) and records[stop].lead_id == records[start].lead_id:
            stop += 1
        lead, problem = _history_lead(records[start:stop])
        if problem is not None:
            problems.append(problem)
        else:
            leads.append(lead)
        start = stop
    return leads, problems


def _history_lead(changes: list) -> tuple[dict | None, ExportProblem | None]:
    """One lead from its history rows in time order, or the problem that stops it."""
    lead, problem = _lead_facts(changes)
    if problem is not None:
        return None, problem
    current = -1  # index into HISTORY_STAGES
    for change in changes:
        current, problem = _replay(lead, change, current)
        if problem is not None:
            return None, problem
    return lead, None


def _lead_facts(changes: list) -> tuple[dict, ExportProblem | None]:
    """The lead with what its rows say once: segment, tier, lost reason (all rows agree), amount."""
    lead_id = changes[0].lead_id
    first = int(changes[0].row)
    lead = empty_lead(lead_id, first)
    lead["_created"] = changes[0].at
    for column in ("segment", "tier", "lost_reason"):
        values = {getattr(change, column) for change in changes} - {""}
        if len(values) > 1:
            rows = [int(change.row) for change in changes]
            return lead, ExportProblem(
                first,
                lead_id,
                f"{column}: conflicting values {sorted(values)} on rows {rows}",
                "conflicting_values",
            )
        if values:
            lead[column] = values.pop()
    amounts = [change.amount for change in changes if not math.isnan(change.amount)]
    if amounts:
        lead["deal_value"] = amounts[-1]
    return lead, None


def _replay(lead: dict, change, current: int) -> tuple[int, ExportProblem | None]:
    """One change applied to the lead: where the lead is after it, or why it cannot be."""
    row, stage = int(change.row), change.stage
    position = HISTORY_STAGES.index(stage)
    if current >= len(STAGES):
        return current, _after_close(lead, change, current)
    if position < current:
        return current, ExportProblem(
            row, lead["lead_id"], f"moves back from {HISTORY_STAGES[current]} to {stage}: "
            "the lead moves backwards in the funnel", "backwards"
        )  # fmt: skip
    if position >= len(STAGES):
        return _close(lead, change, current)
    return _in_stage(lead, change, current)


def _after_close(lead: dict, change, current: int) -> ExportProblem | None:
    """A change after the lead closed: only the account's owner after a win is one."""
    stage, owner = change.stage, change.owner
    if stage == "won" == HISTORY_STAGES[current] and owner:
        lead["account_handler"] = owner  # the account's owner after the win
        lead["account_start_day"] = change.at
        return None
    return ExportProblem(
        int(change.row), lead["lead_id"], f"moves to {stage} after it was closed "
        f"({HISTORY_STAGES[current]}): the lead moves backwards in the funnel", "backwards"
    )  # fmt: skip


def _close(lead: dict, change, current: int) -> tuple[int, ExportProblem | None]:
    """The lead won or lost (a win only from closing)."""
    stage, at, owner = change.stage, change.at, change.owner
    if stage == "won" and current != STAGES.index("closing"):
        why = "won without entering closing"
        return current, ExportProblem(int(change.row), lead["lead_id"], why, "skips_stage")
    lead["outcome"] = stage
    lead["end_day"] = at
    if stage == "won" and owner:
        lead["account_handler"] = owner
        lead["account_start_day"] = at
    return HISTORY_STAGES.index(stage), None


def _in_stage(lead: dict, change, current: int) -> tuple[int, ExportProblem | None]:
    """The lead enters the change's stage (the next one), or takes a step in it."""
    at, event, owner = change.at, change.event, change.owner
    position = HISTORY_STAGES.index(change.stage)
    name = STAGES[position]
    if position > current:
        if position != current + 1:
            skipped = ", ".join(STAGES[current + 1 : position])
            return current, ExportProblem(
                int(change.row), lead["lead_id"], f"reaches {name} without entering {skipped}",
                "skips_stage",
            )  # fmt: skip
        current = position
        lead[f"{name}_queue_day"] = at
        if owner and not event:
            lead[f"{name}_handler"] = owner
            lead[f"{name}_start_day"] = at
    step = event or ("assigned" if owner else "entered")
    if step == "entered":
        lead[f"{name}_queue_day"] = at
    elif step == "assigned":
        if pd.isna(lead[f"{name}_start_day"]):
            lead[f"{name}_start_day"] = at
        if owner:
            lead[f"{name}_handler"] = owner
    else:
        lead[f"{name}_{STEP_TO_DAY[step]}"] = at
    return current, None
