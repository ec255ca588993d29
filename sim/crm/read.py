"""Reading a CRM export of either shape into the simulator's lead table.

The reader turns either shape (``sim.crm.mapping``) into one table that looks
like the simulator's ``leads`` table (``arrival_day``, ``<stage>_queue_day`` ...
``outcome``, ``end_day``), so that calibration and the back-test treat history
and simulation alike. Times are days since the export's origin (midnight of the
first creation date): in an export whose first lead came on 1 January 2024, a
lead created on 1 March 2024 at noon arrives on day 60.5. Unusable rows are
listed, never dropped silently (``sim.crm.problems``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sim.config.scenario import ScenarioError
from sim.crm.history_shape import read_history_shape
from sim.crm.leads_shape import read_leads_shape
from sim.crm.mapping import HISTORY_REQUIRED, LEAD_REQUIRED, CrmMapping
from sim.crm.problems import ExportProblem
from sim.files.read import CSV_LIMIT_BYTES, read_user_file, utf8_problem


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
        leads, problems, measured, bad_leads = read_leads_shape(df, mapping)
    else:
        leads, problems, measured, bad_leads = read_history_shape(df, mapping)
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
