"""The funnel: each stage's pass probability and effort, and what relays and waiting cost.

A stage is one step a lead takes (prospecting, qualification, closing), worked
by a rep for some days of effort and then held by the customer for some lag.
Between reps a lead can be dropped, delayed or lose context (a handoff); while
it waits it goes cold (decay), and a competitor may win it first. Reps who work
several stages pay a generalist's penalty.
"""

from __future__ import annotations

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


class HandoffConfig(Frozen):
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
