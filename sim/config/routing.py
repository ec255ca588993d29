"""Routing and priorities: who gets a lead, in what order, how many at once, and nurture.

A sales floor does not hand leads out blindly: a key account goes to a
senior, a queue may serve the biggest deal first, a rep may carry only so
many open deals, and a lead that went cold is put in a nurture programme
that may warm it up again months later. Each is an option here, off by
default (today's model: any rep, first come first served, no cap, a cold
lead lost for good).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from sim.config.base import MAX_WAIT_DAYS, DelayDistribution, Frozen

if TYPE_CHECKING:
    from sim.config.schema import Scenario

Priority = Literal["fifo", "value", "quality"]


class RolePriority(Frozen):
    """The queue order of each role's teams (every team of the role, in every structure)."""

    generalist: Priority = Field(default="fifo", description="All-In reps' queue order")
    lead_gen: Priority = Field(default="fifo", description="lead-generation teams' queue order")
    qualifier: Priority = Field(default="fifo", description="qualifiers' queue order")
    closer: Priority = Field(default="fifo", description="closers' queue order")

    def get(self, role: str) -> Priority:
        """The order of one role's queue (account managers: first come, first served)."""
        return getattr(self, role, "fifo")


class RoutingConfig(Frozen):
    """Who takes a lead, in which order, and how many open deals a rep may carry."""

    senior_routing: Literal["off", "prefer", "wait"] = Field(
        default="off",
        description="off: a key-account lead (a tier with senior_required) takes any rep; "
        "prefer: the team's closing owner is a senior when one is present and has room, else "
        "anyone (the tier's penalty applies); wait: it waits for a senior with room (a team "
        "with no senior at all falls back to prefer). In a pooled team a free senior takes it "
        "if one is free when its turn comes, else the first rep free (both modes). A new key "
        "account goes to a present senior account manager if any (both modes)",
    )
    priority: RolePriority = Field(
        default=RolePriority(),
        description="queue order per role: fifo (first come, first served), value (the "
        "biggest deal first) or quality (the likeliest to pass the stage first)",
    )
    max_open_deals_per_rep: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="most open deals a rep of an owner-assigned team carries; none = no cap "
        "(pooled teams have no owners and no cap)",
    )
    when_full: Literal["wait", "nurture"] = Field(
        default="wait",
        description="a lead that finds every rep at the cap: wait for a free slot (its "
        "patience applies), or go to nurture at once",
    )


class NurtureConfig(Frozen):
    """Leads that went cold (or found every rep full) may come back from nurture."""

    enabled: bool = Field(
        default=False,
        description="false = a lead that goes cold is lost for good; true = it goes to nurture",
    )
    return_prob: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="probability a nurtured lead comes back (0-1), drawn per lead and visit",
    )
    mean_delay_days: float = Field(
        default=90.0,
        ge=1,  # each visit takes at least a day, so a lead cannot cycle without end
        le=MAX_WAIT_DAYS,
        description="mean time in nurture before a lead comes back (days)",
    )
    delay_distribution: DelayDistribution = Field(
        default="exponential", description="shape of the time in nurture around its mean"
    )


def routing_problems(scenario: Scenario) -> list[str]:
    """Settings of routing and nurture that would do nothing, one line each."""
    routing, nurture = scenario.routing, scenario.nurture
    problems = []
    if routing.senior_routing != "off":
        keyed = any(tier.senior_required for tier in scenario.leads.tiers)
        if not (keyed and scenario.people.levels.enabled):
            problems.append(
                "routing.senior_routing: needs a tier with senior_required = true and "
                "people.levels.enabled = true (else no lead needs a senior)"
            )
    if routing.when_full == "nurture":
        if routing.max_open_deals_per_rep is None:
            problems.append(
                "routing.when_full: nurture applies only with routing.max_open_deals_per_rep"
            )
        if not nurture.enabled:
            problems.append("routing.when_full: nurture needs nurture.enabled = true")
    cold = scenario.decay.mean_patience_days is not None
    if nurture.enabled and not cold and routing.when_full != "nurture":
        problems.append(
            "nurture.enabled: no lead can go to nurture; set decay.mean_patience_days (leads "
            "go cold) or routing.when_full = nurture"
        )
    return problems
