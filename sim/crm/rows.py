"""One lead's cells read into the simulator's shape, and checked.

Both shapes of export become the same dict per lead (``empty_lead``): the
simulator's columns (``<stage>_queue_day`` ... ``outcome``, ``end_day``), holding
timestamps until ``read_export`` turns them into days. Here are the cell readers
(dates, amounts), the checks a lead must pass (its steps in time order, no stage
skipped), and what an export implies without saying it: a lead that entered
qualification passed prospecting then; a lost lead that had passed its last
stage was dropped in the handoff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.config.scenario import STAGES
from sim.crm.amounts import parse_amount_cells
from sim.crm.mapping import STEP_TO_DAY
from sim.crm.problems import ExportProblem


@dataclass
class ShapeRead:
    """What a shape's reader makes of the rows.

    Attributes:
        leads: the usable leads (``lead_frame``).
        problems: the rows with a problem.
        measured: which optional facts the export holds (``CrmHistory.measured``).
        left_out: the leads (ids, or rows without one) not used.
        notes: what the reader assumed or ignored, one line each (without the file name).
    """

    leads: pd.DataFrame
    problems: list[ExportProblem]
    measured: set[str]
    left_out: set
    notes: list[str] = field(default_factory=list)


def leads_left_out(problems: list[ExportProblem]) -> set[str]:
    """The ids of the leads a fault leaves out (a bad amount does not; an undated lead is none)."""
    return {p.lead_id for p in problems if p.leaves_lead_out and p.is_error}


def cell_problems(
    df: pd.DataFrame, bad: pd.Series, column: str, message: str, kind: str
) -> list[ExportProblem]:
    """One problem per row where ``bad`` holds: ``column: message``, ``{value}`` its cell.

    Rows are numbered as in the file: the header is row 1.
    """
    return [
        ExportProblem(
            int(i) + 2,
            df.at[i, "lead_id"],
            f"{column}: " + message.replace("{value}", repr(df.at[i, column])),
            kind,
        )
        for i in df.index[bad]
    ]


def bad_dates(df: pd.DataFrame, column: str, parsed: pd.Series) -> list[ExportProblem]:
    """One problem per cell of ``column`` that has text but no date."""
    bad = parsed.isna() & (df[column].str.strip() != "")
    return cell_problems(df, bad, column, "cannot read {value} as a date", "unreadable_date")


def parse_amounts(df: pd.DataFrame) -> tuple[pd.Series, list[ExportProblem], str]:
    """The ``amount`` column as numbers (NaN if missing or bad), the bad cells, the decimal mark.

    A bad amount loses the amount only: the lead is kept (``sim.crm.amounts``).
    """
    if "amount" not in df:
        return pd.Series(np.nan, index=df.index), [], ""
    values, bad, mark = parse_amount_cells(df["amount"])
    problems = cell_problems(
        df, bad, "amount", "{value} is not a non-negative number; the lead is kept without it",
        "bad_amount",
    )  # fmt: skip
    return values, problems, mark


def decimal_note(mark: str) -> list[str]:
    """The note saying amounts were read with a decimal comma (none for a dot)."""
    return ["amounts read with a decimal comma (1.200,50 is 1200.5)"] if mark == "," else []


def empty_lead(lead_id: str, row: int) -> dict:
    """A lead with nothing recorded yet: every time NaT, every owner empty, still open."""
    lead: dict = {"lead_id": lead_id, "row": row, "segment": "", "tier": "", "deal_value": math.nan}
    for stage in STAGES:
        for what in STEP_TO_DAY.values():
            lead[f"{stage}_{what}"] = pd.NaT
        lead[f"{stage}_handler"] = ""
    lead.update(
        outcome="open", lost_at="", lost_reason="", end_day=pd.NaT, account_handler="",
        account_start_day=pd.NaT,
    )  # fmt: skip
    return lead


def check_order(lead: dict, funnel: bool = True) -> tuple[str, str] | None:
    """Why a lead's timestamps go backwards in the funnel (reason, kind), or None.

    ``funnel`` is whether the export records when leads entered the later
    stages; without, a win cannot skip a stage.
    """
    previous_name, previous = "created_at", lead["_created"]
    reached = [s for s in STAGES if not pd.isna(lead[f"{s}_queue_day"])]
    if reached:
        last = STAGES.index(reached[-1])
        skipped = [s for s in STAGES[:last] if s not in reached]
        if skipped:
            return f"reaches {reached[-1]} without entering {', '.join(skipped)}", "skips_stage"
    backwards = "the lead moves backwards in the funnel"
    for stage in STAGES:
        for step, what in STEP_TO_DAY.items():
            value = lead[f"{stage}_{what}"]
            if pd.isna(value):
                continue
            if value < previous:
                return (
                    f"{stage}_{step}_at ({value:%Y-%m-%d %H:%M}) is before {previous_name} "
                    f"({previous:%Y-%m-%d %H:%M}): {backwards}",
                    "backwards",
                )
            previous_name, previous = f"{stage}_{step}_at", value
    end = lead["end_day"]
    if not pd.isna(end) and end < previous:
        return (
            f"closed ({end:%Y-%m-%d %H:%M}) before {previous_name} "
            f"({previous:%Y-%m-%d %H:%M}): {backwards}",
            "backwards",
        )
    if funnel and lead["outcome"] == "won" and pd.isna(lead["closing_queue_day"]):
        return "won without entering closing", "skips_stage"
    return None


def finish_lead(lead: dict, measured: set[str]) -> None:
    """Fill what the export implies: a stage's pass time, where the lead was lost."""
    reached = [s for s in STAGES if not pd.isna(lead[f"{s}_queue_day"])]
    for stage, following in zip(STAGES, STAGES[1:], strict=False):
        if pd.isna(lead[f"{stage}_done_day"]) and stage in reached and following in reached:
            lead[f"{stage}_done_day"] = lead[f"{following}_queue_day"]
    if not reached:
        return
    last = reached[-1]
    if lead["outcome"] == "won" and pd.isna(lead["closing_done_day"]):
        lead["closing_done_day"] = lead["end_day"]
    if lead["outcome"] == "won" and lead["account_handler"] and pd.isna(lead["account_start_day"]):
        lead["account_start_day"] = lead["end_day"]
    if lead["outcome"] == "lost":
        passed = not pd.isna(lead[f"{last}_done_day"])
        nxt = STAGES.index(last) + 1
        if passed and nxt < len(STAGES):
            lead["lost_at"] = f"handoff_to_{STAGES[nxt]}"
        else:
            lead["lost_at"] = last
            lead[f"{last}_done_day"] = lead["end_day"]
        if not lead["lost_reason"]:
            if lead["lost_at"].startswith("handoff"):
                lead["lost_reason"] = "dropped_in_handoff"
            elif "assigned" in measured and pd.isna(lead[f"{last}_start_day"]):
                lead["lost_reason"] = "went_cold"
            else:
                lead["lost_reason"] = "failed"


def lead_frame(leads: list[dict]) -> pd.DataFrame:
    """The leads as a table (times still timestamps), ``arrival_day`` = creation."""
    if not leads:
        return pd.DataFrame()
    df = pd.DataFrame(leads)
    df["arrival_day"] = df["_created"]
    df["deal_value"] = pd.to_numeric(df["deal_value"], errors="coerce").astype(float)
    return df
