"""Reading a CRM export of either shape into the simulator's lead table.

The reader turns either shape (``sim.crm.mapping``) into one table that looks
like the simulator's ``leads`` table (``arrival_day``, ``<stage>_queue_day`` ...
``outcome``, ``end_day``), so that calibration and the back-test treat history
and simulation alike. Times are days since the export's origin (midnight of the
first creation date): in an export whose first lead came on 1 January 2024, a
lead created on 1 March 2024 at noon arrives on day 60.5. Unusable rows are
listed, never dropped silently (``sim.crm.problems``).

The steps, each in its module: the file's table whatever its encoding and
delimiter (``export_file``), the mapping's names checked against its header and
applied (``mapping``), columns joined from other files (``joins``), the dates'
order (``dates``), then the shape's reader (``leads_shape``, ``history_shape``,
amounts in ``amounts``). How the file was read, where it was not the usual, is
kept as notes for the terminal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sim.config.scenario import STAGES
from sim.crm.dates import date_only, date_reader
from sim.crm.export_file import read_table
from sim.crm.history_shape import read_history_shape
from sim.crm.joins import apply_joins
from sim.crm.leads_shape import read_leads_shape
from sim.crm.mapping import (
    DATE_COLUMNS,
    HISTORY_REQUIRED,
    LEAD_REQUIRED,
    CrmMapping,
    header_problems,
)
from sim.crm.problems import ExportError, ExportProblem
from sim.crm.rows import leads_left_out

__all__ = ["CrmHistory", "ExportError", "detect_shape", "read_export"]


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
        label: the file's name, for the lines.
        notes: how the file was read where it was not the usual (encoding,
            delimiter, date order, decimal comma) and what was assumed or
            ignored, one line each, for the terminal.
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
    notes: tuple[str, ...] = ()

    @property
    def rows_unusable(self) -> int:
        """Rows not used: rows with a problem, and the other rows of the leads left out."""
        return len({p.row for p in self.problems if p.leaves_lead_out})

    @property
    def errors(self) -> tuple[ExportProblem, ...]:
        """The problems that are faults in the file (not the undated open leads)."""
        return tuple(p for p in self.problems if p.is_error)

    def too_many_bad_rows(self, limit_percent: float) -> str | None:
        """The line refusing to go on when more than ``limit_percent`` of the rows are bad."""
        bad = len({p.row for p in self.errors})
        if bad * 100 <= limit_percent * self.rows_read:
            return None
        kinds = pd.Series(list({(p.row, p.kind) for p in self.errors})).str[1].value_counts()
        return (
            f"{self.label}: {bad:,} of {self.rows_read:,} rows are bad "
            f"({bad / self.rows_read:.0%}: {', '.join(f'{n} {k}' for k, n in kinds.items())}), "
            f"more than the {limit_percent:g} % that --skip-bad-rows goes on without: is a "
            "column read the wrong way (a mapping, a date order)? (--bad-rows-limit)."
        )

    def problem_counts(self) -> dict[str, int]:
        """Unusable rows per kind (``PROBLEM_KINDS``), most frequent first."""
        kinds = pd.Series([p.kind for p in self.problems], dtype=object)
        return {str(k): int(v) for k, v in kinds.value_counts().items()}

    def problem_lines(self, limit: int | None = None) -> list[str]:
        """The report of the rows with a fault: a count, then one line per row.

        Undated open leads are no fault; a note counts them (``notes``).
        """
        errors = self.errors
        if not errors:
            return []
        kinds = pd.Series([p.kind for p in errors]).value_counts()
        kept = {p.row for p in errors} - {p.row for p in errors if p.leaves_lead_out}
        amounts = f"; {len(kept)} more lose only their amount" if kept else ""
        lines = [
            f"{self.label}: {self.rows_unusable} of {self.rows_read} rows cannot be used; "
            f"{self.leads_left_out} leads left out because of them{amounts} "
            f"({', '.join(f'{count} {kind}' for kind, count in kinds.items())}):"
        ]
        shown = errors if limit is None else errors[:limit]
        lines += [p.line(self.label) for p in shown]
        if len(shown) < len(errors):
            lines.append(f"{self.label}: ... and {len(errors) - len(shown)} more")
        return lines


def closed_cycles(leads: pd.DataFrame, outcome: str = "won") -> pd.Series:
    """Days from arrival to close of the leads that closed with ``outcome`` (any lead table)."""
    closed = leads["outcome"].astype(str) == outcome
    return (leads["end_day"] - leads["arrival_day"])[closed].dropna()


STALE_FACTOR = 1.5
"""An open deal older than this many times the won deals' 95th-percentile cycle has gone
cold: 19 in 20 wins come sooner, and a CRM keeps deals nobody closed (an assumption)."""


def gone_stale(leads: pd.DataFrame, as_of: float) -> tuple[pd.Series, float]:
    """Open deals idle far longer than a won deal's cycle, and the idle days that make them so.

    Such a deal is not alive: counting its age as time still in work would
    stretch every stage's time (``stale_as_lost`` says what it is instead).
    """
    cycles = closed_cycles(leads)
    if len(cycles) < 20:  # too few wins to say what a long cycle is
        return pd.Series(False, index=leads.index), math.nan
    cutoff = STALE_FACTOR * float(np.quantile(cycles, 0.95))
    stale = (leads["outcome"].astype(str) == "open") & (as_of - _last_seen(leads) > cutoff)
    return stale, cutoff


def _last_seen(leads: pd.DataFrame) -> pd.Series:
    """Each lead's last recorded step: arrival, a stage, an owner."""
    return leads[[c for c in leads.columns if c.endswith("_day")]].max(axis=1)


def stale_as_lost(
    leads: pd.DataFrame, stale: pd.Series, cutoff: float, owners_dated: bool
) -> pd.DataFrame:
    """The lead table with its stale open deals (``gone_stale``) lost where they stood.

    A deal nobody closed for months was lost; a CRM only kept it open. It is
    lost at the last stage it entered, when it went stale (last seen + the
    cut-off): went cold if it still waited for an owner and the export dates
    when owners took their leads (``owners_dated``), else failed. Calibration
    counts it so in the pass probabilities, and the back-test in history's win
    rate, so that both read the export alike.
    """
    out = leads.copy()
    if not stale.any():
        return out
    rows = out.index[stale]
    reached = out.loc[rows, [f"{s}_queue_day" for s in STAGES]].notna().to_numpy()
    # the last stage entered (prospecting for a lead that entered none)
    last = len(STAGES) - 1 - np.argmax(reached[:, ::-1], axis=1)
    last = np.where(reached.any(axis=1), last, 0)
    started = out.loc[rows, [f"{s}_start_day" for s in STAGES]].notna().to_numpy()
    waiting = ~started[np.arange(len(rows)), last]
    out.loc[rows, "outcome"] = "lost"
    out.loc[rows, "lost_at"] = [STAGES[k] for k in last]
    out.loc[rows, "lost_reason"] = np.where(owners_dated & waiting, "went_cold", "failed")
    out.loc[rows, "end_day"] = _last_seen(leads)[stale] + cutoff
    return out


def detect_shape(columns: list[str]) -> Literal["leads", "history"]:
    """``history`` if the export has ``changed_at`` and ``stage`` columns, else ``leads``."""
    return "history" if {"changed_at", "stage"} <= set(columns) else "leads"


def read_export(path: str | Path, mapping: CrmMapping | None = None) -> CrmHistory:
    """Read a CRM export of either shape into the simulator's lead table.

    Args:
        path: the CSV file (any of the encodings, delimiters and line ends
            ``sim.crm.export_file`` reads).
        mapping: column and stage renames, joined files (``read_mapping``);
            none = our names.

    Returns:
        The usable leads, the list of rows with a problem, and notes on how
        the file was read.

    Raises:
        ExportError: the file cannot be used at all (missing, empty, a
            required column missing, a mapping naming columns it lacks, a
            date order it cannot tell, no usable row); one line per problem.
    """
    path = Path(path)
    mapping = mapping or CrmMapping()
    label = path.name
    table = read_table(path)
    df, shape = _renamed(table.frame, mapping, label)
    df, join_problems, join_notes = apply_joins(df.copy(), mapping, label)
    text = {column: df[column] for column in DATE_COLUMNS if column in df}
    reader, date_notes = date_reader(text, mapping.dates.format, mapping.dates.order, label)
    parsed = {column: reader.parse(values) for column, values in text.items()}
    read_shape = read_leads_shape if shape == "leads" else read_history_shape
    read = read_shape(df, mapping, parsed)
    left_out = read.left_out | leads_left_out(join_problems)
    problems = _with_left_out_rows(df, read.problems + join_problems)
    leads = read.leads[~read.leads["lead_id"].isin(left_out)] if len(read.leads) else read.leads
    if leads.empty:
        _refuse_no_usable_rows(problems, len(df), label)
    notes = [*table.notes, *join_notes, *date_notes, *(f"{label}: {n}" for n in read.notes)]
    leads, origin, as_of_day, end_note = _in_days(leads, text, parsed, label)
    return CrmHistory(
        leads=leads.reset_index(drop=True),
        origin=origin,
        as_of_day=as_of_day,
        shape=shape,
        measured=frozenset(read.measured),
        rows_read=len(df),
        problems=tuple(sorted(problems, key=lambda p: p.row)),
        leads_left_out=len({lead for lead in left_out if lead != ""}),
        label=label,
        notes=tuple(notes + end_note + _undated_note(problems, label)),
    )


def _renamed(
    frame: pd.DataFrame, mapping: CrmMapping, label: str
) -> tuple[pd.DataFrame, Literal["leads", "history"]]:
    """The export with our column names, its shape, and its required columns checked."""
    header = list(frame.columns)
    problems = header_problems(mapping, header, label)
    if problems:
        raise ExportError(problems)
    df = frame.rename(columns=dict(mapping.columns))
    shape = detect_shape(list(df.columns))
    required = HISTORY_REQUIRED if shape == "history" else LEAD_REQUIRED
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ExportError(
            [
                f"{label}: missing required column {c!r} (a {shape}-shaped export needs "
                f"{', '.join(required)}; found {', '.join(header)}; a mapping file renames "
                f'yours: [columns] "Your name" = "{c}")'
                for c in missing
            ]
        )
    return df, shape


def _refuse_no_usable_rows(problems: list[ExportProblem], rows: int, label: str) -> None:
    lines = [p.line(label) for p in problems[:20]]
    more = [f"{label}: ... and {len(problems) - 20} more"] if len(problems) > 20 else []
    raise ExportError(
        [f"{label}: no usable rows ({rows} rows read)", *lines, *more], tuple(problems)
    )


def _in_days(
    leads: pd.DataFrame, text: dict[str, pd.Series], parsed: dict[str, pd.Series], label: str
) -> tuple[pd.DataFrame, pd.Timestamp, float, list[str]]:
    """The lead table's times in days since the origin, the origin, the export's end.

    The export ends at its last timestamp; when that is a date without a time,
    it means the whole day, so the export ends at the end of that day (else
    the last day, and a month ending on it, would go unobserved).
    """
    leads = leads.copy()
    origin = leads.pop("_created").min().normalize()
    day_columns = [c for c in leads.columns if c.endswith("_day")]
    last = max(leads[c].max() for c in day_columns if leads[c].notna().any())
    whole_days = {
        stamp for column, values in parsed.items() for stamp in values[date_only(text[column])]
    }
    note = []
    if last in whole_days:
        note = [f"{label}: the last date, {last:%Y-%m-%d}, has no time: counted to the day's end"]
        last = last + pd.Timedelta(days=1)
    for column in day_columns:
        leads[column] = (leads[column] - origin) / pd.Timedelta(days=1)
    return leads, origin, float((last - origin) / pd.Timedelta(days=1)), note


def _undated_note(problems: list[ExportProblem], label: str) -> list[str]:
    undated = sum(p.kind == "undated_open" for p in problems)
    if not undated:
        return []
    return [
        f"{label}: {undated} open leads have no date at all (a stage the CRM does not "
        "date): they cannot be placed in time and are not used (listed as undated_open)"
    ]


def _with_left_out_rows(df: pd.DataFrame, problems: list[ExportProblem]) -> list[ExportProblem]:
    """The problems, plus each other row of a lead left out (so no row goes unlisted)."""
    listed = {p.row for p in problems}
    first: dict[str, int] = {}
    for p in sorted(problems, key=lambda p: p.row):
        if p.lead_id and p.leaves_lead_out:
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
