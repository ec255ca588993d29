"""A reorganisation at a date: a structure block that starts the run as another structure.

Like a company that sells All-In for its first months and then splits into
pods: ``structures.pods.reorganise = {from_structure = "allin", day = 180}``
runs the All-In team (its headcount, hires and relays) until day 180 and
the Pods from then on, on the same leads. The variant keeps the
destination's name (``pods``), so a scenario compares "allin -> pods at
day 180" with the plain ``allin`` block, which stays as it is.

What the move costs is stated here, each number an assumption with a
default (``docs/guide/growth.md`` explains the mechanism): the productivity
a person keeps when they take a new role, the relay a deal goes through
when its person does not work its next stage in the new structure, and the
churn of an account whose relationship changes hands. ``day = "never"``
keeps the starting structure to the horizon: the run is then the plain run
of ``from_structure``, lead for lead (so is a day at or after the horizon).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from sim.config.base import MAX_HORIZON_DAYS, STRUCTURES, Frozen
from sim.config.funnel import RelayOverride

NEVER = "never"
"""The value of ``reorganise.day`` that keeps the starting structure to the horizon."""


class ReorganiseConfig(Frozen):
    """Start as ``from_structure`` and switch to this structure on ``day``."""

    from_structure: str = Field(
        description="the structure the run starts as (a block of [structures]); its "
        "headcount, hires and relays hold until the switch (its own reorganise does not apply)"
    )
    day: float | Literal["never"] = Field(
        description='the day of the switch, or "never" to stay as from_structure (the '
        "baseline of a sweep over the day); a day at or after horizon_days is never too"
    )
    retained_productivity: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="assumption: the share of a ramped person's pace a person keeps when they "
        "take a different role at the switch; they re-ramp from it over the role's "
        "people.ramp.days (at least the ramp's start_productivity; no effect with ramp off)",
    )
    relay: RelayOverride = Field(
        default=RelayOverride(),
        description="what handing an open deal to a new person at the switch costs (dropped "
        "deals are lost at 'reorganisation'); a field left out takes the destination's relay "
        "into the deal's next stage",
    )
    churn_multiplier: float = Field(
        default=1.5,
        ge=0,
        le=100,
        description="assumption: multiplier on an account's churn chance at its first review "
        "under a new holder after the switch (the relationship changed hands); 1 = no effect",
    )

    @field_validator("day", mode="before")
    @classmethod
    def _a_day_or_never(cls, value: object) -> object:
        if isinstance(value, str) and value != NEVER:
            raise ValueError(f'must be a day (a number) or "{NEVER}", got {value!r}')
        if isinstance(value, int | float) and not 0 <= value <= MAX_HORIZON_DAYS:
            raise ValueError(f"must be between 0 and {MAX_HORIZON_DAYS}, got {value}")
        return value

    def switch_day(self, horizon_days: float) -> float | None:
        """The day of the switch in a run of ``horizon_days``, None when it never comes."""
        if self.day == NEVER or self.day >= horizon_days:
            return None
        return float(self.day)


def reorganisation_problems(structures: object) -> list[str]:
    """One line per reorganisation that cannot run (checked before anything is simulated).

    A day at or after the horizon is not one: the switch falls outside the run,
    which is then the starting structure's (as with "never"), so a scenario
    keeps its switch when a run is shortened (``--set horizon_days=...``).

    Args:
        structures: the scenario's ``StructuresConfig``.
    """
    problems = []
    for name in structures.names:
        plan = getattr(structures, name).reorganise
        if plan is None:
            continue
        where = f"structures.{name}.reorganise"
        start = plan.from_structure
        if start not in STRUCTURES:
            known = ", ".join(STRUCTURES)
            problems.append(f"{where}.from_structure: unknown structure {start!r} (known: {known})")
        elif start == name:
            problems.append(f"{where}.from_structure: {name} cannot reorganise from itself")
        elif getattr(structures, start) is None:
            problems.append(f"{where}.from_structure: no [structures.{start}] block to start as")
    return problems


def mechanisms_not_with_reorganisation(scenario: object) -> list[str]:
    """One line per mechanism a reorganised run does not carry over to the new structure yet.

    Routing (queue order, senior routing, a cap), nurture and outbound prospecting
    are set up on the starting structure's teams when the run is built; the
    teams made at the switch would run without them. Refused rather than run
    half-configured.
    """
    reorganised = [
        name
        for name in scenario.structures.names
        if getattr(scenario.structures, name).reorganise is not None
    ]
    if not reorganised:
        return []
    routing = scenario.routing
    used = {
        "routing.senior_routing": routing.senior_routing != "off",
        "routing.priority": any(
            routing.priority.get(role) != "fifo" for role in type(routing.priority).model_fields
        ),
        "routing.max_open_deals_per_rep": routing.max_open_deals_per_rep is not None,
        "nurture.enabled": scenario.nurture.enabled,
        "leads.outbound.enabled": scenario.leads.outbound.enabled,
    }
    where = ", ".join(f"structures.{name}.reorganise" for name in reorganised)
    return [
        f"{field}: not available with a reorganisation yet ({where}); switch one off"
        for field, on in used.items()
        if on
    ]
