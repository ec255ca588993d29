"""CRM exports: the format, the mapping file, reading and checking, and writing one.

A CRM export is a CSV file in one of two shapes (the README documents both):

- **leads**: one row per lead, with the date it entered each stage, was taken
  by an owner, was worked, and passed, the owner per stage, and its status;
- **history**: one row per change of a lead's stage or owner (the
  "opportunity history" shape CRMs produce).

A mapping file (TOML) renames the user's columns and stage names to ours. The
reader turns either shape into one table that looks like the simulator's
``leads`` table (``arrival_day``, ``<stage>_queue_day`` ... ``outcome``,
``end_day``), so that calibration and the back-test treat history and
simulation alike. Times are days since the export's origin (midnight of the
first creation date).

Rows that cannot be used (an unreadable date, a stage name not in the mapping,
a lead that moves backwards in the funnel, a duplicate id) are never dropped
silently: each becomes an ``ExportProblem`` naming the row and the reason, and
the lead they belong to is left out and counted.

``export_crm`` goes the other way: a simulated ``leads`` table becomes an
export, which is how the calibration round trip is tested and how the example
export under ``scenarios/examples/`` is generated.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError

from sim.config.scenario import STAGES, Frozen, ScenarioError, format_validation_error
from sim.files.read import CSV_LIMIT_BYTES, read_user_file, read_user_toml, utf8_problem

STEPS: tuple[str, ...] = ("entered", "assigned", "worked", "exited")
"""What a stage timestamp records: entered the stage, an owner took it, the owner
finished their work (the customer holds it), it passed the stage."""

STEP_TO_DAY: dict[str, str] = {
    "entered": "queue_day",
    "assigned": "start_day",
    "worked": "end_day",
    "exited": "done_day",
}
"""Each export step and the simulator's column it corresponds to."""

STATUSES: tuple[str, ...] = ("open", "won", "lost")
HISTORY_STAGES: tuple[str, ...] = (*STAGES, "won", "lost")

LEAD_REQUIRED: tuple[str, ...] = ("lead_id", "created_at", "status")
LEAD_OPTIONAL: tuple[str, ...] = (
    "segment",
    "tier",
    "amount",
    "closed_at",
    "lost_reason",
    "account_owner",
    *(f"{stage}_{step}_at" for stage in STAGES for step in STEPS),
    *(f"{stage}_owner" for stage in STAGES),
)
HISTORY_REQUIRED: tuple[str, ...] = ("lead_id", "changed_at", "stage")
HISTORY_OPTIONAL: tuple[str, ...] = (
    "owner",
    "event",
    "segment",
    "tier",
    "amount",
    "lost_reason",
)
KNOWN_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys((*LEAD_REQUIRED, *LEAD_OPTIONAL, *HISTORY_REQUIRED, *HISTORY_OPTIONAL))
)

DATE_FORMAT = "%Y-%m-%d %H:%M"
"""How ``export_crm`` writes timestamps (minutes: 0.0007 days)."""


class DatesConfig(Frozen):
    """How dates are written in the export."""

    format: str | None = Field(
        default=None,
        description="strptime format such as '%d/%m/%Y %H:%M'; none = ISO 8601 "
        "('2024-03-01' or '2024-03-01 14:30')",
    )


class CrmMapping(Frozen):
    """A mapping file: the user's column and stage names to ours."""

    columns: dict[str, str] = Field(
        default_factory=dict, description="your column name -> ours (lead_id, created_at, ...)"
    )
    stages: dict[str, str] = Field(
        default_factory=dict,
        description="your stage or status value -> ours (prospecting, qualification, closing, "
        "won, lost, open)",
    )
    dates: DatesConfig = Field(default_factory=DatesConfig, description="date format")


def read_mapping(path: str | Path | None) -> CrmMapping:
    """Read and check a mapping file; no file means the export already uses our names.

    Raises:
        ScenarioError: one line per problem, naming the file.
    """
    if path is None:
        return CrmMapping()
    path = Path(path)
    raw = read_user_toml(path, "mapping file")
    try:
        mapping = CrmMapping.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, path.name)) from None
    problems = [
        f"{path.name}: columns.{mine}: {ours!r} is not a column of the export format "
        f"(known: {', '.join(KNOWN_COLUMNS)})"
        for mine, ours in mapping.columns.items()
        if ours not in KNOWN_COLUMNS
    ]
    targets = (*HISTORY_STAGES, "open")
    problems += [
        f"{path.name}: stages.{mine}: {ours!r} is not one of {', '.join(targets)}"
        for mine, ours in mapping.stages.items()
        if ours not in targets
    ]
    if problems:
        raise ScenarioError(problems)
    return mapping


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


@dataclass(frozen=True)
class CrmHistory:
    """An export read into the simulator's shape.

    Attributes:
        leads: one row per usable lead, with the simulator's column names (see
            the module docstring); owners are text (``""`` = none recorded).
        origin: the timestamp of day 0.
        as_of_day: the last timestamp in the export (the observation ends here).
        shape: ``"leads"`` or ``"history"``.
        measured: which optional facts the export holds: ``segment``,
            ``tier``, ``amount``, ``owner``, ``assigned``, ``worked``,
            ``exited``, ``account_owner``, ``lost_reason``, and ``funnel``
            (when leads entered the stages after prospecting).
        rows_read: data rows in the file.
        problems: the unusable rows.
        leads_left_out: leads not used because of a problem.
    """

    leads: pd.DataFrame
    origin: pd.Timestamp
    as_of_day: float
    shape: str
    measured: frozenset[str]
    rows_read: int
    problems: tuple[ExportProblem, ...] = ()
    leads_left_out: int = 0
    label: str = "export"

    @property
    def rows_unusable(self) -> int:
        """Rows not used: rows with a problem, and the other rows of the leads left out."""
        return len({p.row for p in self.problems})

    def problem_counts(self) -> dict[str, int]:
        """Unusable rows per kind (``PROBLEM_KINDS``), most frequent first."""
        kinds = pd.Series([p.kind for p in self.problems], dtype=object)
        return {str(k): int(v) for k, v in kinds.value_counts().items()}

    def problem_lines(self, limit: int | None = None) -> list[str]:
        """The report of unusable rows: a count, then one line per row."""
        if not self.problems:
            return []
        kinds = ", ".join(f"{count} {kind}" for kind, count in self.problem_counts().items())
        lines = [
            f"{self.label}: {self.rows_unusable} of {self.rows_read} rows cannot be used; "
            f"{self.leads_left_out} leads left out because of them ({kinds}):"
        ]
        shown = self.problems if limit is None else self.problems[:limit]
        lines += [p.line(self.label) for p in shown]
        if len(shown) < len(self.problems):
            lines.append(f"{self.label}: ... and {len(self.problems) - len(shown)} more")
        return lines


class ExportError(ScenarioError):
    """An export that cannot be used at all; ``problems`` holds one line per problem.

    ``unusable`` holds the unusable rows when the file was read but no row was usable.
    """

    def __init__(self, problems: list[str], unusable: tuple[ExportProblem, ...] = ()):
        super().__init__(problems)
        self.unusable = unusable


def _read_csv(path: Path, mapping: CrmMapping) -> pd.DataFrame:
    label = path.name
    try:
        data = read_user_file(path, CSV_LIMIT_BYTES, "CSV export")
    except ScenarioError as exc:
        raise ExportError(exc.problems) from None
    try:
        # pandas decodes the bytes as it would the file (UTF-8, a BOM dropped).
        df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ExportError([f"{label}: empty file: no header and no rows"]) from None
    except UnicodeDecodeError:
        raise ExportError([f"{path}: cannot read: {utf8_problem(data)}"]) from None
    except pd.errors.ParserError as exc:
        first = str(exc).splitlines()[0]
        raise ExportError([f"{label}: not a readable CSV file ({first})"]) from None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.rename(columns=dict(mapping.columns))
    if len(df) == 0:
        raise ExportError([f"{label}: no rows (only a header: {', '.join(df.columns)})"])
    return df


def detect_shape(columns: list[str]) -> Literal["leads", "history"]:
    """``history`` if the export has ``changed_at`` and ``stage`` columns, else ``leads``."""
    return "history" if {"changed_at", "stage"} <= set(columns) else "leads"


def read_export(path: str | Path, mapping: CrmMapping | None = None) -> CrmHistory:
    """Read a CRM export of either shape into the simulator's lead table.

    Args:
        path: the CSV file.
        mapping: column and stage renames (``read_mapping``); none = our names.

    Returns:
        The usable leads and the list of unusable rows.

    Raises:
        ExportError: the file cannot be used at all (missing, empty, a
            required column missing, no usable row); one line per problem.
    """
    path = Path(path)
    mapping = mapping or CrmMapping()
    df = _read_csv(path, mapping)
    shape = detect_shape(list(df.columns))
    required = HISTORY_REQUIRED if shape == "history" else LEAD_REQUIRED
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ExportError(
            [
                f"{path.name}: missing required column {c!r} (a {shape}-shaped export needs "
                f"{', '.join(required)}; found {', '.join(df.columns)}; a mapping file renames "
                f'yours: [columns] "Your name" = "{c}")'
                for c in missing
            ]
        )
    if shape == "leads":
        leads, problems, measured, bad_leads = _leads_shape(df, mapping)
    else:
        leads, problems, measured, bad_leads = _history_shape(df, mapping)
    problems = _with_left_out_rows(df, problems)
    if leads.empty:
        lines = [p.line(path.name) for p in problems[:20]]
        more = [f"{path.name}: ... and {len(problems) - 20} more"] if len(problems) > 20 else []
        raise ExportError(
            [f"{path.name}: no usable rows ({len(df)} rows read)", *lines, *more],
            tuple(problems),
        )
    origin = leads.pop("_created").min().normalize()
    day_columns = [c for c in leads.columns if c.endswith("_day")]
    for column in day_columns:
        leads[column] = (leads[column] - origin) / pd.Timedelta(days=1)
    as_of_day = float(np.nanmax(leads[day_columns].to_numpy(dtype=float)))
    return CrmHistory(
        leads=leads.reset_index(drop=True),
        origin=origin,
        as_of_day=as_of_day,
        shape=shape,
        measured=frozenset(measured),
        rows_read=len(df),
        problems=tuple(sorted(problems, key=lambda p: p.row)),
        leads_left_out=len(bad_leads),
        label=path.name,
    )


def _with_left_out_rows(df: pd.DataFrame, problems: list[ExportProblem]) -> list[ExportProblem]:
    """The problems, plus each other row of a lead left out (so no row goes unlisted)."""
    listed = {p.row for p in problems}
    first: dict[str, int] = {}
    for p in sorted(problems, key=lambda p: p.row):
        if p.lead_id:
            first.setdefault(p.lead_id, p.row)
    ids = df["lead_id"].str.strip()
    extra = [
        ExportProblem(
            int(i) + 2, ids[i], f"not used: lead {ids[i]} is left out because of row "
            f"{first[ids[i]]}", "lead_left_out",
        )
        for i in df.index[ids.isin(list(first))]
        if int(i) + 2 not in listed
    ]  # fmt: skip
    return problems + extra


def _parse_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    text = values.str.strip()
    parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce")
    return parsed.mask(text == "")


def _cell_problems(
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


def _bad_dates(df: pd.DataFrame, column: str, parsed: pd.Series) -> list[ExportProblem]:
    bad = parsed.isna() & (df[column].str.strip() != "")
    return _cell_problems(df, bad, column, "cannot read {value} as a date", "unreadable_date")


def _amounts(df: pd.DataFrame) -> tuple[pd.Series, list[ExportProblem]]:
    if "amount" not in df:
        return pd.Series(np.nan, index=df.index), []
    text = df["amount"].str.replace(",", "", regex=False).str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & (text != "") | (values < 0)
    problems = _cell_problems(
        df, bad, "amount", "{value} is not a non-negative number", "bad_amount"
    )
    return values.where(~bad), problems


def _map_value(value: str, mapping: CrmMapping) -> str:
    value = value.strip()
    return mapping.stages.get(value, value)


def _empty_lead(lead_id: str, row: int) -> dict:
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


def _check_order(lead: dict, funnel: bool = True) -> tuple[str, str] | None:
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


def _finish(lead: dict, measured: set[str]) -> None:
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


def _leads_shape(df: pd.DataFrame, mapping: CrmMapping):
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
            dates[column] = _parse_dates(df[column], fmt)
            problems += _bad_dates(df, column, dates[column])
    amounts, amount_problems = _amounts(df)
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
        status = _map_value(record["status"], mapping)
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
        lead = _empty_lead(lead_id, row)
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
        why = _check_order(lead, "funnel" in measured)
        if why is not None:
            problems.append(ExportProblem(row, lead_id, *why))
            continue
        rows.append(lead)
    bad_ids = {p.lead_id for p in problems}
    leads = [lead for lead in rows if lead["lead_id"] not in bad_ids]
    for lead in leads:
        _finish(lead, measured)
    return _frame(leads), problems, measured, bad_ids | {p.row for p in problems if not p.lead_id}


def _last_time(lead: dict) -> pd.Timestamp:
    times = [
        lead[f"{s}_{what}"]
        for s in STAGES
        for what in STEP_TO_DAY.values()
        if not pd.isna(lead[f"{s}_{what}"])
    ]
    return max(times) if times else lead["_created"]


def _frame(leads: list[dict]) -> pd.DataFrame:
    if not leads:
        return pd.DataFrame()
    df = pd.DataFrame(leads)
    df["arrival_day"] = df["_created"]
    df["deal_value"] = pd.to_numeric(df["deal_value"], errors="coerce").astype(float)
    return df


def _history_shape(df: pd.DataFrame, mapping: CrmMapping):  # noqa: C901
    fmt = mapping.dates.format
    problems: list[ExportProblem] = []
    df = df.copy()
    df["lead_id"] = df["lead_id"].str.strip()
    changed = _parse_dates(df["changed_at"], fmt)
    problems += _bad_dates(df, "changed_at", changed)
    amounts, amount_problems = _amounts(df)
    problems += amount_problems
    has_event = "event" in df
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
    if has_event:
        events = set(df["event"].str.strip())
        measured |= {"worked"} if "worked" in events else set()
        measured |= {"exited"} if "exited" in events else set()
    stage = df["stage"].map(lambda v: _map_value(v, mapping))
    problems += _cell_problems(
        df,
        ~stage.isin(HISTORY_STAGES),
        "stage",
        f"{{value}} is not in the mapping (known after mapping: {', '.join(HISTORY_STAGES)})",
        "not_in_mapping",
    )
    if has_event:
        event = df["event"].str.strip().replace("", "entered")
        problems += _cell_problems(
            df,
            ~event.isin(STEPS),
            "event",
            f"{{value}} is not one of {', '.join(STEPS)}",
            "not_in_mapping",
        )
    else:
        event = pd.Series("", index=df.index)
    for index in df.index[df["lead_id"] == ""]:
        problems.append(ExportProblem(int(index) + 2, "", "lead_id is empty", "missing_value"))
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
    bad_rows = {p.row for p in problems}
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
    work = work[~work["row"].isin(bad_rows)].sort_values(["lead_id", "at", "row"], kind="stable")
    leads = []
    records = list(work.itertuples(index=False, name="Change"))
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
    bad_ids = {p.lead_id for p in problems if p.lead_id}
    leads = [lead for lead in leads if lead["lead_id"] not in bad_ids]
    for lead in leads:
        _finish(lead, measured)
    return _frame(leads), problems, measured, bad_ids


def _history_lead(changes: list) -> tuple[dict | None, ExportProblem | None]:
    """One lead from its history rows in time order, or the problem that stops it."""
    lead_id = changes[0].lead_id
    first = int(changes[0].row)
    lead = _empty_lead(lead_id, first)
    lead["_created"] = changes[0].at
    for column in ("segment", "tier", "lost_reason"):
        values = {getattr(change, column) for change in changes} - {""}
        if len(values) > 1:
            rows = [int(change.row) for change in changes]
            return None, ExportProblem(
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
    current = -1  # index into HISTORY_STAGES
    for change in changes:
        row, at, stage, event, owner = (
            int(change.row),
            change.at,
            change.stage,
            change.event,
            change.owner,
        )
        position = HISTORY_STAGES.index(stage)
        if current >= len(STAGES):
            if stage == "won" == HISTORY_STAGES[current] and owner:
                lead["account_handler"] = owner  # the account's owner after the win
                lead["account_start_day"] = at
                continue
            return None, ExportProblem(
                row, lead_id, f"moves to {stage} after it was closed "
                f"({HISTORY_STAGES[current]}): the lead moves backwards in the funnel", "backwards"
            )  # fmt: skip
        if position < current:
            return None, ExportProblem(
                row, lead_id, f"moves back from {HISTORY_STAGES[current]} to {stage}: "
                "the lead moves backwards in the funnel", "backwards"
            )  # fmt: skip
        if position >= len(STAGES):  # won or lost
            if stage == "won" and current != STAGES.index("closing"):
                why = "won without entering closing"
                return None, ExportProblem(row, lead_id, why, "skips_stage")
            lead["outcome"] = stage
            lead["end_day"] = at
            current = position
            if stage == "won" and owner:
                lead["account_handler"] = owner
                lead["account_start_day"] = at
            continue
        name = STAGES[position]
        if position > current:
            if position != current + 1:
                skipped = ", ".join(STAGES[current + 1 : position])
                return None, ExportProblem(
                    row, lead_id, f"reaches {name} without entering {skipped}", "skips_stage"
                )
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
    return lead, None


def export_crm(
    leads: pd.DataFrame,
    shape: Literal["leads", "history"] = "leads",
    origin: str = "2024-01-01",
) -> pd.DataFrame:
    """A simulated lead table (one structure, one replication) as a CRM export.

    Owners are seats (``rep-007``); timestamps are ``origin`` plus the
    simulated days, to the minute. Only facts a CRM records are written: no
    latent quality; the size tier (an account-size field) only when the
    scenario has more than one.

    Args:
        leads: rows of ``SimulationResult.leads`` for one structure and replication.
        shape: one row per lead, or one row per stage or owner change.
        origin: the calendar date of simulated day 0.

    Returns:
        The export, ready for ``to_csv(index=False)``.
    """
    start = pd.Timestamp(origin)

    def stamp(days: pd.Series) -> pd.Series:
        return (start + pd.to_timedelta(days, unit="D")).dt.strftime(DATE_FORMAT).fillna("")

    def owner(handler: pd.Series) -> pd.Series:
        return handler.map(lambda h: f"rep-{h:03d}" if h >= 0 else "")

    df = leads.reset_index(drop=True)
    lead_id = df["lead_id"].map(lambda i: f"L{i:06d}")
    outcome = df["outcome"].astype(str)
    passed = {}
    for position, stage in enumerate(STAGES):
        if position + 1 < len(STAGES):
            passed[stage] = df[f"{STAGES[position + 1]}_queue_day"].notna() | (
                df["lost_at"].astype(str) == f"handoff_to_{STAGES[position + 1]}"
            )
        else:
            passed[stage] = outcome == "won"
    reason = df["lost_reason"].astype(str)
    tiers = df["tier"].astype(str) if "tier" in df and df["tier"].nunique() > 1 else None
    if shape == "leads":
        out = pd.DataFrame(
            {
                "lead_id": lead_id,
                "created_at": stamp(df["arrival_day"]),
                "segment": df["segment"].astype(str),
                "amount": df["deal_value"].round(2),
                "status": outcome,
                "closed_at": stamp(df["end_day"].where(outcome != "open")),
                "lost_reason": reason.where(outcome == "lost", ""),
            }
        )
        if tiers is not None:
            out.insert(3, "tier", tiers)
        for stage in STAGES:
            for step, what in STEP_TO_DAY.items():
                days = df[f"{stage}_{what}"]
                if step == "exited":
                    days = days.where(passed[stage])
                out[f"{stage}_{step}_at"] = stamp(days)
            out[f"{stage}_owner"] = owner(df[f"{stage}_handler"])
        out["account_owner"] = owner(df["account_handler"])
        return out
    events = []
    base = {"lead_id": lead_id, "segment": df["segment"].astype(str),
            "amount": df["deal_value"].round(2)}  # fmt: skip
    if tiers is not None:
        base["tier"] = tiers
    for order, stage in enumerate(STAGES):
        for rank, (step, what) in enumerate(STEP_TO_DAY.items()):
            days = df[f"{stage}_{what}"]
            if step == "exited":
                days = days.where(passed[stage])
            has_owner = step != "entered"
            events.append(
                pd.DataFrame(
                    {
                        **base,
                        "day": days,
                        "order": order * 10 + rank,
                        "stage": stage,
                        "event": step,
                        "owner": owner(df[f"{stage}_handler"]) if has_owner else "",
                        "lost_reason": "",
                    }
                )
            )
    closed = df["end_day"].where(outcome != "open")
    events.append(
        pd.DataFrame(
            {
                **base,
                "day": closed,
                "order": 90,
                "stage": outcome,
                "event": "entered",
                "owner": "",
                "lost_reason": reason.where(outcome == "lost", ""),
            }
        )  # fmt: skip
    )
    events.append(
        pd.DataFrame(
            {
                **base,
                "day": df["account_start_day"],
                "order": 91,
                "stage": "won",
                "event": "assigned",
                "owner": owner(df["account_handler"]),
                "lost_reason": "",
            }
        )  # fmt: skip
    )
    out = pd.concat(events, ignore_index=True)
    out = out[out["day"].notna()].copy()
    out["key"] = out["lead_id"]
    out = out.sort_values(["key", "day", "order"], kind="stable")
    out["changed_at"] = stamp(out["day"])
    columns = ["lead_id", "changed_at", "stage", "event", "owner", "segment",
               *(["tier"] if tiers is not None else []), "amount", "lost_reason"]  # fmt: skip
    return out[columns].reset_index(drop=True)
