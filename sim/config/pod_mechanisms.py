"""What working in one small team changes: covering for a colleague, cheaper relays.

A pod is a small conveyor whose people sit together. Two mechanisms follow
from that, each with its own parameters (assumptions until a CRM export or a
study measures them), so a pod's advantage emerges from them instead of being
typed in as a cheaper relay or a bonus:

- **Versatility**: a pod member whose own queue is empty takes a waiting
  task of another role in the pod, less efficiently than its specialist
  ("less specialization on specific roles", "flexibility within the pod").
- **Team relays**: when the next person is in the same team, part of the
  context travels with the lead (they heard about it at the stand-up), the
  lead lies on the desk for less time, and fewer leads fall through. The
  relay's own costs (``handoff``) are those of a relay between separate
  teams; these factors say what sitting together saves of them.

Both default to neutral values: switched off, a pod is exactly the small
conveyor of the model before them.
"""

from __future__ import annotations

from pydantic import Field

from sim.config.base import Frozen
from sim.config.funnel import RelayCosts


class VersatilityConfig(Frozen):
    """Pod members cover another role of their pod when their own queue is empty."""

    enabled: bool = Field(
        default=False,
        description="whether an idle pod member takes a waiting task of another role in the pod "
        "(pooled teams only); false = every rep works their own role only",
    )
    effort_factor: float = Field(
        default=1.0,
        ge=1,
        le=10,
        description="effort of a task worked outside one's role, relative to its specialist (x; "
        "2 = an efficiency of 50 %)",
    )
    pass_prob_factor: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="pass probability of a task worked outside one's role, relative to its "
        "specialist (x)",
    )


class TeamRelayConfig(Frozen):
    """What a relay between two people of the same pod saves of the relay's costs."""

    shared_context: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of the relay's context loss avoided: the next person already heard "
        "of the lead (0-1)",
    )
    delay_factor: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="the relay's delay when the next person sits in the same team (x)",
    )
    drop_factor: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="the relay's drop probability when the team sees every handover (x)",
    )

    def within_team(self, costs: RelayCosts) -> RelayCosts:
        """A relay's costs when both people are in the same pod (unchanged when neutral)."""
        if self == TeamRelayConfig():
            return costs
        return costs.model_copy(
            update={
                "drop_prob": costs.drop_prob * self.drop_factor,
                "mean_delay_days": costs.mean_delay_days * self.delay_factor,
                "context_loss": costs.context_loss * (1.0 - self.shared_context),
            }
        )
