"""Outbound lead generation: prospecting reps create leads beside the inbound stream.

Like an SDR desk between inbound calls: when no inbound lead waits for them,
lead-generation reps (and All-In generalists, who hunt for themselves) spend
their time in blocks of calls and e-mails to prospects of the market; a few
prospects answer and book a meeting, which becomes a lead that enters the
funnel at qualification, credited to the rep who booked it. The block ends
before the rep goes back to inbound work, so a lead that arrives meanwhile
waits for at most one block.

Every number here is an assumption until a CRM export measures it (touches
logged per hour of prospecting, replies per touch). Off by default: the
model is then exactly the inbound-only one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from sim.config.base import Frozen

WORKING_HOURS_PER_DAY = 8.0
"""Hours of work in a rep-day of effort without a working calendar.

The scenarios read effort days as 8-hour working days (0.225 days is "about
1.8 hours"); with the calendar on, a day of effort is ``calendar.hours_per_day``
hours and a block follows the seat's working time (``sim.model.outbound``).
"""

ProspectingRole = Literal["lead_gen", "generalist"]


class OutboundConfig(Frozen):
    """Prospecting reps create leads from a pool of prospects when no inbound work waits."""

    enabled: bool = Field(
        default=False,
        description="whether prospecting reps create outbound leads in their idle time; "
        "false = leads only arrive from the market (the inbound stream)",
    )
    roles: tuple[ProspectingRole, ...] = Field(
        default=("lead_gen", "generalist"),
        max_length=2,
        description="roles that prospect: lead_gen (Two-Party, Conveyor, Pods) and generalist "
        "(All-In, who hunt for themselves)",
    )
    touches_per_hour: float = Field(
        default=8.0,
        gt=0,
        le=1000,
        description="prospects contacted per hour of prospecting (calls, e-mails); default: an "
        "assumption",
    )
    response_prob: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description="chance that a contacted prospect books a meeting and becomes a lead; "
        "default: an assumption",
    )
    block_hours: float = Field(
        default=1.0,
        gt=0,
        le=24,
        description="length of one prospecting block (working hours): inbound work that "
        "arrives meanwhile waits until the block ends",
    )
    pool_size: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000_000,
        description="prospects in the market that can be contacted over the horizon, shared "
        "out by segment share (each touch uses one); none = more than the team can reach",
    )

    def prospects(self, role: str) -> bool:
        """Whether reps of ``role`` prospect."""
        return self.enabled and role in self.roles

    @field_validator("roles")
    @classmethod
    def _unique_roles(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(roles)) != len(roles):
            raise ValueError(f"roles must be unique, got {list(roles)}")
        return roles
