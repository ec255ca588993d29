"""The organisation structures a scenario compares, and each one's team.

All-In gives a lead to one generalist from first touch to account; Two-Party
splits lead generation from full-cycle closers; a Conveyor passes the lead from
team to team; Pods are several small conveyors, each owning segments of the
market. A block present in ``[structures]`` is run; its headcounts, handoff
costs, quota overrides and pay plan are set here.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from sim.config.base import MAX_ITEMS, STRUCTURES, Assignment, Frozen, OwnerAssignment, Role
from sim.config.funnel import ConveyorHandoffConfig, HandoffConfig, PodsHandoffConfig
from sim.config.money import QuotaOverrides
from sim.config.pod_mechanisms import TeamRelayConfig, VersatilityConfig
from sim.config.reorganisation import ReorganiseConfig


class HireConfig(Frozen):
    """Planned hires: ``count`` new reps of ``role`` whose requisition opens on ``day``."""

    role: Role = Field(description="the role hired (one the structure has)")
    day: float = Field(
        ge=0, le=3650, description="day the hire is decided and the requisition opens (day)"
    )
    count: int = Field(default=1, ge=1, le=10_000, description="reps hired")
    pod: str = Field(default="", description="the pod they join (Pods only, required there)")
    lag_days: float | None = Field(
        default=None,
        ge=0,
        le=365,
        description="days from the requisition to the start; none = people.turnover."
        "hiring_lag_days, the lag of a backfill",
    )

    def start_day(self, backfill_lag_days: float) -> float:
        """The day the hires start: the requisition's day plus its lag (else the backfill's)."""
        return self.day + (backfill_lag_days if self.lag_days is None else self.lag_days)


class Structure(Frozen):
    """Fields shared by every structure block."""

    assignment: Assignment = Field(
        default="pooled",
        description="how single-stage teams take work: one shared queue, or per-rep queues",
    )
    owner_assignment: OwnerAssignment = Field(
        default="least_loaded",
        description="how a lead or account gets an owner where one rep keeps it for several steps",
    )
    quotas: QuotaOverrides = Field(
        default=QuotaOverrides(),
        description="this structure's quota plan where it differs from [quotas]",
    )
    commission: Literal["individual", "team"] = Field(
        default="individual",
        description="individual: each rep is paid on their own numbers; team: on their team's "
        "(the role's team, in each pod for Pods), shared pro rata to quota",
    )
    monitor_individuals: bool = Field(
        default=True,
        description="whether managers watch each rep's own numbers under team commission; if "
        "not, weak performers free-ride and a missed quota does not push anyone out",
    )
    hires: tuple[HireConfig, ...] = Field(
        default=(),
        max_length=MAX_ITEMS,
        description="the hiring plan: reps added during the run, each ramping from its start",
    )
    reorganise: ReorganiseConfig | None = Field(
        default=None,
        description="start the run as another structure and switch to this one at a day; "
        "none = this structure from day 0",
    )

    @property
    def weak_can_hide(self) -> bool:
        """Paid on team results and never looked at alone: where weak performers hide."""
        return self.commission == "team" and not self.monitor_individuals


class AllInConfig(Structure):
    """All-In: each generalist carries a lead from first touch to account."""

    generalists: int = Field(ge=1, le=10_000, description="generalist reps")


class TwoPartyConfig(Structure):
    """Two-Party: lead generation, then full-cycle closers, then account support."""

    lead_gen: int = Field(ge=1, le=10_000, description="lead-generation reps")
    closers: int = Field(ge=1, le=10_000, description="full-cycle reps who qualify and close")
    account_managers: int = Field(ge=1, le=10_000, description="support / account reps")
    handoff: HandoffConfig = Field(
        default=HandoffConfig(), description="what each relay between the teams costs"
    )


class ConveyorConfig(Structure):
    """Conveyor: lead gen -> qualifiers -> closers -> account managers, pooled per role."""

    lead_gen: int = Field(ge=1, le=10_000, description="lead-generation reps")
    qualifiers: int = Field(ge=1, le=10_000, description="qualifiers")
    closers: int = Field(ge=1, le=10_000, description="closers")
    account_managers: int = Field(ge=1, le=10_000, description="account managers")
    handoff: ConveyorHandoffConfig = Field(
        default=ConveyorHandoffConfig(), description="what each relay between the teams costs"
    )


class PodConfig(Frozen):
    """One pod: a small conveyor that owns some segments."""

    name: str = Field(min_length=1, description="pod name")
    segments: tuple[str, ...] = Field(min_length=1, description="segments this pod owns")
    lead_gen: int = Field(ge=1, le=10_000, description="lead-generation reps in the pod")
    qualifiers: int = Field(ge=1, le=10_000, description="qualifiers in the pod")
    closers: int = Field(ge=1, le=10_000, description="closers in the pod")
    account_managers: int = Field(ge=1, le=10_000, description="account managers in the pod")


class OverflowConfig(Frozen):
    """Whether an overloaded pod may pass a new lead to a less loaded pod.

    What the pass costs is the pods' ``handoff.to_pod`` relay.
    """

    policy: Literal["none", "least_loaded"] = Field(
        default="none",
        description="none: every lead stays in its segment's pod; least_loaded: a new lead goes "
        "to the least loaded other pod when its own pod is overloaded",
    )
    threshold_leads_per_rep: float = Field(
        default=2.0,
        gt=0,
        le=1000,
        description="a pod is overloaded when its lead-gen team has more leads waiting or in "
        "work than this per rep present",
    )

    NOT_HERE: ClassVar[dict[str, str]] = {
        "handoff": "the relay to another pod is structures.pods.handoff.to_pod (its "
        "default is the pods' handoff)",
    }
    """Fields a user may look for here, and why they are not here."""


class PodsConfig(Structure):
    """Pods: several small conveyors, each owning segments of the market."""

    pods: tuple[PodConfig, ...] = Field(min_length=1, max_length=MAX_ITEMS, description="the pods")
    handoff: PodsHandoffConfig = Field(
        default=PodsHandoffConfig(),
        description="what each relay inside a pod costs, and passing a lead to another pod",
    )
    segment_expertise_factor: float = Field(
        default=1.0,
        ge=1,
        le=2,
        description="a flat pass probability multiplier for working the pod's own segments (x, "
        "capped at 1): an input, not a mechanism (people.learning makes expertise from "
        "experience)",
    )
    versatility: VersatilityConfig = Field(
        default=VersatilityConfig(),
        description="pod members covering another role of their pod when their queue is empty",
    )
    team_relays: TeamRelayConfig = Field(
        default=TeamRelayConfig(),
        description="what a relay inside a pod saves of the handoff's costs (shared context, "
        "shorter delay, fewer drops); not the relay to another pod",
    )
    overflow: OverflowConfig = Field(
        default=OverflowConfig(), description="passing leads from an overloaded pod to another"
    )

    @model_validator(mode="after")
    def _pods_distinct(self) -> PodsConfig:
        names = [pod.name for pod in self.pods]
        if len(set(names)) != len(names):
            raise ValueError(f"pod names must be unique, got {names}")
        owned = [segment for pod in self.pods for segment in pod.segments]
        twice = sorted({s for s in owned if owned.count(s) > 1})
        if twice:
            raise ValueError(f"each segment belongs to one pod; owned twice: {twice}")
        return self


class StructuresConfig(Frozen):
    """The structures to run; every block present is run, in this order."""

    allin: AllInConfig | None = Field(default=None, description="All-In team")
    two_party: TwoPartyConfig | None = Field(default=None, description="Two-Party team")
    conveyor: ConveyorConfig | None = Field(default=None, description="Conveyor team")
    pods: PodsConfig | None = Field(default=None, description="Pods team")

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the configured structures in report order."""
        return tuple(name for name in STRUCTURES if getattr(self, name) is not None)
