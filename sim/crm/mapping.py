"""The CRM export format and the mapping file.

A CRM export is a CSV file in one of two shapes (the README documents both):

- **leads**: one row per lead, with the date it entered each stage, was taken
  by an owner, was worked, and passed, the owner per stage, and its status;
- **history**: one row per change of a lead's stage or owner (the
  "opportunity history" shape CRMs produce).

This module names the columns of both shapes, the steps a stage timestamp
records and the statuses. A mapping file (TOML) renames the user's columns and
stage names to ours: a CRM whose closing stage is called "Negotiation" and whose
creation date is "Created Date" needs ``[stages] Negotiation = "closing"`` and
``[columns] "Created Date" = "created_at"``. It may also bring columns from
another file (``[[joins]]``, ``sim.crm.joins``): the office of each deal's owner
from a roster, as the segment. A name the file does not know (a section, a
key, a field, a column of the export) is refused with the name it resembles:
a mapping that silently renamed nothing would leave estimates on defaults.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, ValidationError

from sim.config.scenario import STAGES, Frozen, ScenarioError, format_validation_error
from sim.files.read import read_user_toml

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
    "owner",  # the deal owner: every stage's and the account's owner unless those are given
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

DATE_COLUMNS: tuple[str, ...] = (
    "created_at",
    "closed_at",
    "changed_at",
    *(f"{stage}_{step}_at" for stage in STAGES for step in STEPS),
)
"""The columns that hold dates."""

DATE_FORMAT = "%Y-%m-%d %H:%M"
"""How ``export_crm`` writes timestamps (minutes: 0.0007 days)."""


class DatesConfig(Frozen):
    """How dates are written in the export."""

    format: str | None = Field(
        default=None,
        description="strptime format such as '%d/%m/%Y %H:%M'; none = inferred: ISO 8601 "
        "('2024-03-01' or '2024-03-01 14:30') or day/month in the order the file shows",
    )
    order: Literal["day_first", "month_first"] | None = Field(
        default=None,
        description="for dates like 03/04/2024 whose file never shows the order: "
        "day_first (3 April) or month_first (4 March)",
    )


class JoinConfig(Frozen):
    """Columns brought from another file, matched on a column of the export."""

    file: str = Field(description="the CSV file, relative to the mapping file")
    key: str = Field(description="its column that the export's values are looked up in")
    on: str = Field(description="the export's column holding those values (its own name)")
    columns: dict[str, str] = Field(
        min_length=1, description="its column -> our field (segment, tier, ...)"
    )


class CrmMapping(Frozen):
    """A mapping file: the user's column and stage names to ours."""

    _source: Path | None = PrivateAttr(default=None)

    columns: dict[str, str] = Field(
        default_factory=dict, description="your column name -> ours (lead_id, created_at, ...)"
    )
    stages: dict[str, str] = Field(
        default_factory=dict,
        description="your stage or status value -> ours (prospecting, qualification, closing, "
        "won, lost, open)",
    )
    dates: DatesConfig = Field(default_factory=DatesConfig, description="date format")
    joins: tuple[JoinConfig, ...] = Field(
        default=(), description="files joined to the export ([[joins]])"
    )

    @property
    def label(self) -> str:
        """How lines name the mapping file."""
        return self._source.name if self._source else "mapping"

    @property
    def folder(self) -> Path:
        """Where the files it joins are looked for: beside the mapping file."""
        return self._source.parent if self._source else Path()


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
        # Through JSON so that strict mode takes TOML's arrays for tuples (as scenarios do).
        mapping = CrmMapping.model_validate_json(json.dumps(raw, default=str))
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, path.name, CrmMapping)) from None
    problems = _target_problems(mapping.columns, "columns", KNOWN_COLUMNS, path.name)
    problems += _target_problems(mapping.stages, "stages", (*HISTORY_STAGES, "open"), path.name)
    for index, join in enumerate(mapping.joins):
        where = f"joins[{index}].columns"
        problems += _target_problems(join.columns, where, KNOWN_COLUMNS, path.name)
    if problems:
        raise ScenarioError(problems)
    mapping._source = path
    return mapping


def did_you_mean(name: str, known: list[str] | tuple[str, ...]) -> str:
    """``; did you mean 'amount'?`` for the closest known name (case aside), else ``""``."""
    folded = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1)
    return f"; did you mean {folded[close[0]]!r}?" if close else ""


def _target_problems(
    renames: dict[str, str], section: str, targets: tuple[str, ...], label: str
) -> list[str]:
    """One line per rename to a name that is not ours, with the one it resembles."""
    return [
        f"{label}: {section}.{mine}: {ours!r} is not one of ours"
        + (did_you_mean(ours, targets) or f" (known: {', '.join(targets)})")
        for mine, ours in renames.items()
        if ours not in targets
    ]


def header_problems(mapping: CrmMapping, header: list[str], export: str) -> list[str]:
    """The mapping's names of export columns that the export does not have, one line each.

    A renamed column that is not there (a typo, ``close_valu``) would leave its
    field unread and its estimate on a default without a word; and two columns
    renamed to one field would leave it ambiguous.
    """
    lines = [
        f"{mapping.label}: columns.{mine}: {export} has no column {mine!r}"
        f"{did_you_mean(mine, header)}"
        for mine in mapping.columns
        if mine not in header
    ]
    lines += [
        f"{mapping.label}: joins[{index}].on: {export} has no column {join.on!r}"
        f"{did_you_mean(join.on, header)}"
        for index, join in enumerate(mapping.joins)
        if join.on not in header
    ]
    sources: dict[str, list[str]] = {}
    for column in header:
        sources.setdefault(mapping.columns.get(column, column), []).append(column)
    lines += [
        f"{mapping.label}: {field}: {export} has it in {len(columns)} columns "
        f"({', '.join(map(repr, columns))}); map one of them"
        for field, columns in sources.items()
        if len(columns) > 1 and field in KNOWN_COLUMNS
    ]
    return lines


def map_value(value: str, mapping: CrmMapping) -> str:
    """A stage, status or event value in our words (stripped; unmapped values unchanged)."""
    value = value.strip()
    return mapping.stages.get(value, value)
