"""The funnel: each stage's pass probability and effort, and what relays and waiting cost.

A stage is one step a lead takes (prospecting, qualification, closing), worked
by a rep for some days of effort and then held by the customer for some lag.
Between reps a lead can be dropped, delayed or lose context (a handoff); while
it waits it goes cold (decay), and a competitor may win it first. Reps who work
several stages pay a generalist's penalty.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sim.config.base import MAX_WAIT_DAYS, DelayDistribution, Distribution, Frozen


class StageConfig(Frozen):
    """One funnel stage as a specialist at mid level performs it."""

    pass_prob: float = Field(ge=0, le=1, description="probability a worked lead passes (0-1)")
    mean_effort_days: float = Field(
        gt=0, le=365, description="rep time a lead needs at this stage (days of effort)"
    )
    effort_distribution: Distribution = Field(
        default="exponential", description="shape of the effort time around its mean"
    )
    effort_cv: float = Field(
        default=1.0,
        ge=0.001,  # the gamma shape is 1 / cv^2: below ~1e-155 numpy draws NaN
        le=5,
        description="coefficient of variation of effort; used by the gamma shape",
    )
    mean_lag_days: float = Field(
        default=0.0,
        ge=0,
        le=365,
        description="calendar time the customer holds the deal after the rep's work (days)",
    )
    lag_distribution: Distribution = Field(
        default="exponential", description="shape of the customer lag around its mean"
    )
    lag_cv: float = Field(
        default=1.0,
        ge=0.001,  # as effort_cv
        le=5,
        description="coefficient of variation of customer lag; used by the gamma shape",
    )


class StagesConfig(Frozen):
    """The three funnel stages."""

    prospecting: StageConfig = Field(
        description="lead generation: research, outreach, first meeting"
    )
    qualification: StageConfig = Field(description="discovery: budget, authority, need, timing")
    closing: StageConfig = Field(description="demo, proposal, negotiation, signature")

    def get(self, stage: str) -> StageConfig:
        """The config of the stage with this name."""
        return getattr(self, stage)


RELAYS: tuple[str, ...] = ("to_qualification", "to_closing", "to_account_management", "to_pod")
"""The relay points a lead can pass, in the order of the lead's draws for them.

Into qualification, into closing, from the closer to account management, and
(Pods with overflow) from an overloaded pod to another pod.
"""


class RelayCosts(Frozen):
    """What happens when a lead passes from one person to another."""

    drop_prob: float = Field(
        default=0.0, ge=0, le=1, description="probability the lead is dropped at the relay (0-1)"
    )
    mean_delay_days: float = Field(
        default=0.0, ge=0, le=365, description="mean time the lead waits in the relay (days)"
    )
    delay_distribution: DelayDistribution = Field(
        default="exponential", description="shape of the relay delay around its mean"
    )
    context_loss: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="fraction of the next stage's pass probability lost with context (0-1)",
    )


class RelayOverride(Frozen):
    """One relay's own costs; a field left out takes the structure's ``handoff`` value."""

    drop_prob: float | None = Field(
        default=None, ge=0, le=1, description="probability the lead is dropped here (0-1)"
    )
    mean_delay_days: float | None = Field(
        default=None, ge=0, le=365, description="mean time the lead waits in this relay (days)"
    )
    delay_distribution: DelayDistribution | None = Field(
        default=None, description="shape of this relay's delay around its mean"
    )
    context_loss: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="fraction of the next step's pass probability lost with context here (0-1)",
    )


class HandoffConfig(RelayCosts):
    """Every relay's costs by default, and the relays that have their own.

    A lead-gen rep who sits next to the closers passes a lead more cheaply
    than a closer who hands a signed customer to a support team in another
    building: each relay point may set its own drop, delay and context loss;
    what it leaves out comes from the fields above. This block has the
    relays of Two-Party (a full-cycle rep qualifies and closes);
    ``ConveyorHandoffConfig`` adds the relay into closing.
    """

    NOT_HERE: ClassVar[dict[str, str]] = {
        "to_closing": "Two-Party has no relay into closing: the rep who qualifies also closes",
    }
    """Fields a user may look for here, and why they are not here."""

    to_qualification: RelayOverride | None = Field(
        default=None, description="the relay into qualification (lead gen to the next rep)"
    )
    to_account_management: RelayOverride | None = Field(
        default=None, description="the relay of a won customer to account management"
    )

    def costs(self, relay: str) -> RelayCosts:
        """The costs of one relay point: its own fields over the structure's default.

        Args:
            relay: a name of ``RELAYS``; one this block does not have costs the default.
        """
        default = RelayCosts(**{name: getattr(self, name) for name in RelayCosts.model_fields})
        own = getattr(self, relay, None)
        if own is None:
            return default
        return default.model_copy(update=own.model_dump(exclude_none=True))

    def all_costs(self) -> tuple[RelayCosts, ...]:
        """Every relay point's costs, in ``RELAYS`` order."""
        return tuple(self.costs(relay) for relay in RELAYS)


class ConveyorHandoffConfig(HandoffConfig):
    """A Conveyor's relays: into qualification, into closing, to account management."""

    NOT_HERE: ClassVar[dict[str, str]] = {
        "to_pod": "only Pods pass a lead to another pod (structures.pods.handoff.to_pod)",
    }

    to_closing: RelayOverride | None = Field(
        default=None, description="the relay into closing (qualifier to closer)"
    )


class PodsHandoffConfig(ConveyorHandoffConfig):
    """A pod's relays, and the relay of a lead to another pod (overflow)."""

    NOT_HERE: ClassVar[dict[str, str]] = {}

    to_pod: RelayOverride | None = Field(
        default=None,
        description="the relay of a new lead from an overloaded pod to another pod (overflow)",
    )


class DecayConfig(Frozen):
    """Leads that wait go cold."""

    half_life_days: float | None = Field(
        default=None,
        gt=0,
        le=MAX_WAIT_DAYS,
        description="waiting time that halves a lead's pass probability (days); none = off",
    )
    mean_patience_days: float | None = Field(
        default=None,
        gt=0,
        le=MAX_WAIT_DAYS,
        description="mean time a lead waits in a queue before leaving unworked (days); none = off",
    )


class CompetitionConfig(Frozen):
    """A competitor pursues each contested lead and wins it if we have not closed first."""

    enabled: bool = Field(default=False, description="false = no competitor ever decides")
    contested_share: float = Field(
        default=1.0, ge=0, le=1, description="share of leads a competitor also pursues (0-1)"
    )
    mean_decision_days: float = Field(
        default=90.0,
        gt=0,
        le=3650,
        description="mean days from arrival until the customer decides for the competitor, if "
        "we have not won by then (exponential, pre-drawn per lead); we learn it at the next "
        "customer answer",
    )


class GeneralistConfig(Frozen):
    """Penalties for reps who work several funnel stages (All-In, Two-Party closers)."""

    pass_prob_factor: float = Field(
        default=1.0, gt=0, le=1, description="pass probability relative to a specialist (x)"
    )
    effort_factor: float = Field(
        default=1.0, ge=1, le=5, description="effort relative to a specialist (x)"
    )
    context_switch_cost: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="extra effort per additional open deal the rep juggles (fraction)",
    )
    max_context_switch_factor: float = Field(
        default=2.0, ge=1, le=10, description="cap on the context-switching effort factor (x)"
    )
