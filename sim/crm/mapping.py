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
``[columns] "Created Date" = "created_at"``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError

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


def map_value(value: str, mapping: CrmMapping) -> str:
    """A stage, status or event value in our words (stripped; unmapped values unchanged)."""
    value = value.strip()
    return mapping.stages.get(value, value)
