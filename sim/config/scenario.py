"""Scenario files: what market, which teams, which effects, for how long.

A scenario is everything a run needs, like the brief a sales leader hands to a
consultant: "ten leads a day, three segments, deals of about 25k, we pay closers
80k plus 10 %; show me All-In against Pods". It is written in TOML (see
``scenarios/``), validated here with pydantic v2 and frozen, so nothing
downstream ever sees a raw dict.

Time is measured in days throughout: one day of *effort* is one rep's whole
working capacity for one calendar day; *lag* is calendar time during which the
customer, not the rep, holds the deal.

Every sales-specific effect has a neutral value that switches it off (a drop
probability of 0, a half-life of ``None``, a factor of 1). ``without_sales_effects``
applies all of them at once and turns the model into a plain queueing network,
which is what the theory tests run.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.files.read import read_user_toml

STAGES: tuple[str, ...] = ("prospecting", "qualification", "closing")
"""The funnel stages in order; a lead that passes closing is won."""

NAME_MAX_LENGTH = 100
"""Longest scenario name: it becomes a folder name (and part of temporary names), and
file systems allow 255 bytes per name."""
RESERVED_NAMES = frozenset({"sweeps", "bench"})
"""Folders under results/ that other commands own (sweeps, make bench)."""


def folder_name(name: str, where: str) -> str:
    """``name`` if it can name a folder under results/, else ValueError saying why.

    No separators and no leading dot: ".", ".." and hidden names are not folders
    a user means, and salesim's own temporary folders start with a dot.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", name):
        raise ValueError(
            "use letters, digits, '_', '.' and '-', not starting with '.' "
            f"(the name becomes the folder {where})"
        )
    if name.lower() in RESERVED_NAMES:
        raise ValueError(
            f"{name!r} is reserved: results/{name}/ holds other outputs "
            f"(reserved: {', '.join(sorted(RESERVED_NAMES))})"
        )
    return name


STRUCTURES: tuple[str, ...] = ("allin", "two_party", "conveyor", "pods")
"""The organisation structures this package knows, in report order."""

ROLES: tuple[str, ...] = ("generalist", "lead_gen", "qualifier", "closer", "account_manager")
"""Every role a rep can have."""

STAGE_ROLES: dict[str, tuple[str, str, str, str]] = {
    # role working prospecting, qualification, closing, then the account
    "allin": ("generalist", "generalist", "generalist", "generalist"),
    "two_party": ("lead_gen", "closer", "closer", "account_manager"),
    "conveyor": ("lead_gen", "qualifier", "closer", "account_manager"),
    "pods": ("lead_gen", "qualifier", "closer", "account_manager"),
}
"""Which role does each step in each structure; one rep keeps consecutive steps of one role."""

Distribution = Literal["exponential", "deterministic", "gamma"]
DelayDistribution = Literal["exponential", "deterministic"]
Assignment = Literal["pooled", "round_robin", "least_loaded"]
OwnerAssignment = Literal["round_robin", "least_loaded"]


# Bounds that no real scenario reaches, so that a slip of the keyboard (1e308,
# inf, a row of extra zeros) is refused before a run instead of overflowing,
# or running for ever, after one.
MAX_CURRENCY = 1e12
"""Largest amount of money in one field (currency): a trillion is above a
ten-million-dollar deal or salary in any currency (in Indonesian rupiah that is
1.6e11), and sums over millions of deals stay far from float overflow."""
MAX_COUNT_PER_YEAR = 1e6
"""Largest count quota (meetings or opportunities per rep and year): 2,700 a day."""
MAX_SHARE = 1e9
"""Largest relative weight of a mix (shares are normalised): percentages and lead
counts taken from any CRM fit; their sum stays finite."""
MAX_VALUE_MULTIPLIER = 1e6
"""Largest deal-value multiplier of a segment or tier: a thousand-fold span
each way covers a 1,000 SMB deal beside a billion-size key account."""
MAX_HORIZON_DAYS = 3650.0
"""Longest simulated time (days): ten years of one sales organisation."""
MAX_WAIT_DAYS = 36_500.0
"""Longest waiting time a setting may name (days): a century is 'never' here."""
MAX_SEED = 2**63 - 1
"""Largest root seed: seeds are stored in int64 columns and combined with a
structure's name in ``seeding.independent_seed``; numpy's SeedSequence itself
takes any non-negative integer."""
MAX_ITEMS = 1000
"""Most segments, tiers or pods: a per-lead draw builds a table of leads x segments."""


class Frozen(BaseModel):
    """Base for every scenario block: immutable, strict, finite, no unknown keys."""

    # strict: "0.5" or true where a number is expected is a mistake, not a value.
    # allow_inf_nan=False: inf or nan passes every bound check (nan compares false)
    # and surfaces only as a crash or a NaN after the whole simulation.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class SegmentConfig(Frozen):
    """One market segment (a vertical, region or product line) and its share."""

    name: str = Field(min_length=1, description="segment name, e.g. 'fintech' or 'emea'")
    share: float = Field(
        gt=0, le=MAX_SHARE, description="relative share of arriving leads (normalised)"
    )
    value_multiplier: float = Field(
        default=1.0,
        gt=0,
        le=MAX_VALUE_MULTIPLIER,
        description="deal value relative to the market mean (x)",
    )
    share_at_end: float | None = Field(
        default=None,
        ge=0,
        le=MAX_SHARE,
        description="relative share at the horizon; the share moves linearly from share to "
        "this over the horizon (a drifting territory); none = constant",
    )


class TierConfig(Frozen):
    """A size tier: from many small deals to a few key accounts."""

    name: str = Field(min_length=1, description="tier name, e.g. 'smb' or 'enterprise'")
    share: float = Field(
        gt=0, le=MAX_SHARE, description="relative share of arriving leads (normalised)"
    )
    value_multiplier: float = Field(
        default=1.0,
        gt=0,
        le=MAX_VALUE_MULTIPLIER,
        description="deal value relative to the market mean (x)",
    )
    effort_multiplier: float = Field(
        default=1.0,
        gt=0,
        le=100,  # a key account needing 100x a stage's effort is already extreme
        description="rep effort per stage relative to the stage mean (x)",
    )
    complexity: float = Field(
        default=1.0,
        ge=0,
        le=5,
        description="scales the context lost at a handoff (x); key accounts lose more",
    )
    senior_required: bool = Field(
        default=False,
        description="a key-account tier: closing and account care need a senior rep (with "
        "people levels on), else the penalties below apply",
    )
    without_senior_pass_factor: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="closing pass probability when a non-senior closes such a deal (x)",
    )
    without_senior_churn_multiplier: float = Field(
        default=1.0,
        ge=1,
        le=20,
        description="churn chance multiplier while a non-senior looks after such an account (x)",
    )


class LeadsConfig(Frozen):
    """The lead stream: how many leads arrive, of what kind and value."""

    arrivals_per_day: float = Field(gt=0, le=10_000, description="mean new leads per day")
    seasonality_amplitude: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="relative swing of the arrival rate over a year (0 = flat)",
    )
    seasonality_peak_day: float = Field(
        default=0.0, ge=0, le=365, description="day of the year when arrivals peak (day)"
    )
    mean_deal_value: float = Field(
        gt=0,
        le=MAX_CURRENCY,
        description="mean first-year contract value of a won deal (currency)",
    )
    deal_value_sigma: float = Field(
        default=0.6, ge=0, le=3, description="log-normal spread of deal values (log units)"
    )
    quality_weight: float = Field(
        default=0.0,
        ge=0,
        le=5,
        description="how strongly latent lead quality moves pass probabilities (logit per sd)",
    )
    segments: tuple[SegmentConfig, ...] = Field(
        default=(SegmentConfig(name="all", share=1.0),),
        min_length=1,
        max_length=MAX_ITEMS,
        description="segment mix of arriving leads",
    )
    tiers: tuple[TierConfig, ...] = Field(
        default=(TierConfig(name="standard", share=1.0),),
        min_length=1,
        max_length=MAX_ITEMS,
        description="size-tier mix of arriving leads",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> LeadsConfig:
        for label, items in (("segments", self.segments), ("tiers", self.tiers)):
            names = [item.name for item in items]
            if len(set(names)) != len(names):
                raise ValueError(f"{label} names must be unique, got {names}")
        ends = [s.share if s.share_at_end is None else s.share_at_end for s in self.segments]
        if sum(ends) <= 0:
            raise ValueError("segments: share_at_end leaves no segment at the horizon")
        return self

    @property
    def segment_names(self) -> tuple[str, ...]:
        """Segment names in file order (their index is the segment code)."""
        return tuple(segment.name for segment in self.segments)


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


class AccountsConfig(Frozen):
    """Won deals become accounts that need care, churn, and expand."""

    review_interval_days: float = Field(
        default=30.0,
        ge=1,  # each account pre-draws a number per review until the horizon
        le=365,
        description="time between account reviews (days)",
    )
    mean_review_effort_days: float = Field(
        default=0.0, ge=0, le=30, description="rep effort per account review (days of effort)"
    )
    neglect_after_days: float = Field(
        default=14.0,
        gt=0,
        le=MAX_WAIT_DAYS,
        description="a review that waits longer than this counts as neglect (days)",
    )
    churn_prob_per_review: float = Field(
        default=0.0, ge=0, le=1, description="chance an account churns at a review (0-1)"
    )
    neglect_churn_multiplier: float = Field(
        default=1.0, ge=1, le=20, description="churn chance multiplier after neglect (x)"
    )
    expansion_prob_per_review: float = Field(
        default=0.0, ge=0, le=1, description="chance an account expands at a review (0-1)"
    )
    expansion_fraction: float = Field(
        default=0.0, ge=0, le=10, description="value added by an expansion, share of deal value"
    )
    review_priority: Literal["accounts_first", "fifo"] = Field(
        default="accounts_first",
        description="whether a rep serves account reviews before waiting sales work",
    )


class FulfilmentConfig(Frozen):
    """From a win to go-live: an operations team implements each new customer.

    The operations team is the company's, the same for every structure; a win
    queues for it first come, first served. The account's revenue and its
    reviews start at go-live, and a late go-live makes the first renewal shakier.
    """

    enabled: bool = Field(default=False, description="false = a won deal goes live at once")
    ops_staff: int = Field(
        default=2, ge=1, le=10_000, description="people implementing new customers"
    )
    mean_effort_days: float = Field(
        default=10.0,
        ge=0,
        le=365,
        description="implementation work per new customer at a standard tier (days of effort; "
        "exponential, times the tier's effort multiplier)",
    )
    target_days: float = Field(
        default=30.0,
        ge=0,
        le=3650,
        description="a go-live later than this after the win is late (days)",
    )
    late_churn_multiplier: float = Field(
        default=2.0,
        ge=1,
        le=20,
        description="churn chance multiplier at the first review after a late go-live (x); "
        "default: an assumption",
    )


class ReferralsConfig(Frozen):
    """Well-served customers become advocates: they churn less and refer new leads.

    An account becomes an advocate after ``reviews_to_advocate`` well-served
    reviews in a row (not neglected, not in the fragile time after its manager
    left, and for the first review not after a late go-live); a neglected
    review ends it. Each account has its own pre-drawn stream of referral
    chances (a Poisson process at ``per_advocate_per_year`` over the whole
    horizon, and a complete lead per chance), keyed by the account's lead id:
    a chance that falls while the account is an advocate becomes a referral
    lead, so the same customer refers the same prospect in every structure
    that serves it as well.
    """

    enabled: bool = Field(default=False, description="false = no advocates, no referral leads")
    reviews_to_advocate: int = Field(
        default=3, ge=1, le=100, description="well-served reviews in a row to become an advocate"
    )
    advocate_churn_multiplier: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="churn chance of an advocate relative to other accounts (x); default: an "
        "assumption",
    )
    per_advocate_per_year: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="referral leads an advocate brings per year; default: an assumption",
    )
    pass_prob_factor: float = Field(
        default=1.3,
        ge=1,
        le=5,
        description="pass probability of a referral lead at every stage (x, capped at 1); "
        "default: an assumption",
    )
    cycle_factor: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="effort and customer lag of a referral lead at every stage (x); default: "
        "an assumption",
    )


LEVELS: tuple[str, ...] = ("junior", "mid", "senior")
"""Seniority levels a rep can have, least experienced first."""


class LevelConfig(Frozen):
    """What a seniority level changes, relative to a mid-level rep."""

    pass_prob_factor: float = Field(
        default=1.0,
        gt=0,
        le=2,
        description="pass probability of the leads they work (x, capped at 1)",
    )
    effort_factor: float = Field(
        default=1.0, gt=0, le=5, description="rep time per task (x); below 1 is faster"
    )
    salary_factor: float = Field(default=1.0, gt=0, le=5, description="base salary (x)")


class LevelMix(Frozen):
    """Relative shares of junior, mid and senior reps in a role (normalised)."""

    junior: float = Field(default=0.0, ge=0, le=MAX_SHARE, description="relative share of juniors")
    mid: float = Field(
        default=1.0, ge=0, le=MAX_SHARE, description="relative share of mid-level reps"
    )
    senior: float = Field(default=0.0, ge=0, le=MAX_SHARE, description="relative share of seniors")

    @model_validator(mode="after")
    def _some_share(self) -> LevelMix:
        if self.junior + self.mid + self.senior <= 0:
            raise ValueError("at least one level needs a share above 0")
        return self

    def shares(self) -> tuple[float, float, float]:
        """Normalised shares in ``LEVELS`` order."""
        total = self.junior + self.mid + self.senior
        return (self.junior / total, self.mid / total, self.senior / total)


class ByRole(Frozen):
    """A block with one field per role."""

    def get(self, role: str) -> Any:
        """The value for one role."""
        return getattr(self, role)


class RoleLevelMix(ByRole):
    """The level mix of each role."""

    generalist: LevelMix = Field(
        default=LevelMix(junior=0.25, mid=0.5, senior=0.25), description="All-In reps"
    )
    lead_gen: LevelMix = Field(
        default=LevelMix(junior=0.5, mid=0.4, senior=0.1), description="lead-generation reps"
    )
    qualifier: LevelMix = Field(
        default=LevelMix(junior=0.4, mid=0.4, senior=0.2), description="qualifiers"
    )
    closer: LevelMix = Field(
        default=LevelMix(junior=0.2, mid=0.5, senior=0.3), description="closers"
    )
    account_manager: LevelMix = Field(
        default=LevelMix(junior=0.25, mid=0.5, senior=0.25), description="account managers"
    )


class LevelsConfig(Frozen):
    """Seniority: juniors, mid-level and seniors work at different pace, skill and pay."""

    enabled: bool = Field(
        default=True, description="false = every rep is mid-level (all factors 1)"
    )
    junior: LevelConfig = Field(
        default=LevelConfig(pass_prob_factor=0.9, effort_factor=1.2, salary_factor=0.8),
        description="a junior rep relative to mid level (defaults: assumptions)",
    )
    mid: LevelConfig = Field(default=LevelConfig(), description="the reference level")
    senior: LevelConfig = Field(
        default=LevelConfig(pass_prob_factor=1.08, effort_factor=0.9, salary_factor=1.3),
        description="a senior rep relative to mid level (defaults: assumptions)",
    )
    mix: RoleLevelMix = Field(
        default=RoleLevelMix(), description="level mix per role (defaults: assumptions)"
    )

    def get(self, level: str) -> LevelConfig:
        """The factors of one level (neutral when levels are switched off)."""
        return getattr(self, level) if self.enabled else LevelConfig()


class RampDays(ByRole):
    """Days from hire to full productivity, per role."""

    generalist: float = Field(
        default=152.0, ge=0, le=3650, description="All-In reps (days); assumed like a closer"
    )
    lead_gen: float = Field(
        default=97.0,
        ge=0,
        le=3650,
        description="lead-generation reps (days); 3.2 months, the SDR ramp reported by The "
        "Bridge Group (as quoted by Xactly, 2019)",
    )
    qualifier: float = Field(
        default=97.0, ge=0, le=3650, description="qualifiers (days); assumed like lead gen"
    )
    closer: float = Field(
        default=152.0,
        ge=0,
        le=3650,
        description="closers (days); 5.0 months, the median AE ramp in The Bridge Group's 2024 "
        "SaaS AE report (as quoted by pulserevops.com)",
    )
    account_manager: float = Field(
        default=90.0, ge=0, le=3650, description="account managers (days); an assumption"
    )


class AttritionRates(ByRole):
    """Leavers per rep-year present, per role."""

    generalist: float = Field(
        default=0.27, ge=0, le=10, description="All-In reps (per year); as closers"
    )
    lead_gen: float = Field(
        default=0.35,
        ge=0,
        le=10,
        description="lead-generation reps (per year); the top of the published range, as SDR "
        "tenure is short (about 14 months: The Bridge Group and TOPO)",
    )
    qualifier: float = Field(
        default=0.35, ge=0, le=10, description="qualifiers (per year); as lead gen"
    )
    closer: float = Field(
        default=0.27,
        ge=0,
        le=10,
        description="closers (per year); US salespeople's annual turnover as estimated by the "
        "Harvard Business Review (published figures range 14-35 %)",
    )
    account_manager: float = Field(
        default=0.2, ge=0, le=10, description="account managers (per year); an assumption"
    )


class RampConfig(Frozen):
    """New hires ramp up: slower and less effective at first, rising linearly to full."""

    enabled: bool = Field(default=True, description="false = every rep is fully ramped")
    days: RampDays = Field(
        default=RampDays(), description="days from hire to full productivity, per role"
    )
    start_productivity: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="pace on the first day relative to a ramped rep (effort is divided by it); "
        "default: an assumption",
    )
    start_pass_prob_factor: float = Field(
        default=0.85,
        gt=0,
        le=1,
        description="pass probability of a new hire's leads on the first day (x); default: an "
        "assumption",
    )
    initial_ramped_share: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="share of seats fully ramped at day 0, spread evenly over each structure's "
        "seats; the others start at tenures spread over the ramp (0-1)",
    )


class TurnoverConfig(Frozen):
    """Reps leave; the seat stays empty for a hiring lag, then a new hire ramps up."""

    enabled: bool = Field(default=True, description="false = nobody leaves")
    attrition_per_year: AttritionRates = Field(
        default=AttritionRates(),
        description="annual rate at which a rep in each role leaves (per rep-year present)",
    )
    under_quota_multiplier: float = Field(
        default=1.5,
        ge=1,
        le=10,
        description="attrition rate multiplier while a ramped rep missed quota last period (x); "
        "default: an assumption",
    )
    hiring_lag_days: float = Field(
        default=45.0,
        ge=0,
        le=365,
        description="days a seat stays empty after a rep leaves; default: an assumption",
    )
    open_deals: Literal["reassign", "lose"] = Field(
        default="reassign",
        description="what happens to the leads a leaver owned: another rep of the team takes "
        "them, or they are lost (lost_reason rep_left)",
    )
    leaver_churn_multiplier: float = Field(
        default=2.0,
        ge=1,
        le=20,
        description="churn chance multiplier of a leaver's accounts for a while (x); default: "
        "an assumption",
    )
    leaver_churn_days: float = Field(
        default=90.0, ge=0, le=3650, description="how long that higher churn risk lasts (days)"
    )


class PerformanceConfig(Frozen):
    """Reps differ in individual skill; pay, monitoring and coaching change what they deliver.

    Each person draws a skill score z (standard normal) when they take a seat,
    from a stream keyed by role, seat and hire number (the same person in every
    structure). Skill multiplies the pass probability of the leads they work by
    a mean-1 log-normal factor, and divides their pace the same way.
    """

    enabled: bool = Field(default=False, description="false = every rep of a level is equally good")
    skill_sd: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="standard deviation of the log of a person's pass-probability factor; "
        "default: an assumption",
    )
    pace_sd: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="standard deviation of the log of a person's pace, driven by the same "
        "skill score (better reps are also faster); default: an assumption",
    )
    weak_share: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="people whose skill is in this bottom share of hires count as weak "
        "performers (the weak_performer_share KPI) (0-1)",
    )
    free_ride_effort_factor: float = Field(
        default=1.25,
        ge=1,
        le=5,
        description="effort multiplier of a below-median person paid on team results whose "
        "individual numbers nobody watches (x); default: an assumption",
    )
    coaching_gain: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="pass-probability gain of a rep who gets an even share of a manager's "
        "coaching time (fraction; 0 = coaching changes nothing); default: off",
    )
    coaching_focus: Literal["even", "poor_performers"] = Field(
        default="poor_performers",
        description="even: every rep gets the same coaching time; poor_performers: the weakest "
        "reps of each team take most of it",
    )
    poor_performer_share: float = Field(
        default=0.1,
        gt=0,
        lt=1,
        description="share of a team's reps, by skill, who are its poor performers (0-1)",
    )
    poor_performer_time_share: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description="share of the manager's coaching time the poor performers take (0-1); the "
        "literature's 10 % of reps taking 90 % of a manager's time",
    )


class PeopleConfig(Frozen):
    """Who the reps are: seniority, ramp-up of new hires, turnover and individual skill."""

    levels: LevelsConfig = Field(default=LevelsConfig(), description="seniority levels")
    ramp: RampConfig = Field(default=RampConfig(), description="ramp-up of new hires")
    turnover: TurnoverConfig = Field(default=TurnoverConfig(), description="reps leaving")
    performance: PerformanceConfig = Field(
        default=PerformanceConfig(), description="individual skill, incentives and coaching"
    )


class RoleQuotas(ByRole):
    """Annual quota per role, each in its role's own unit; none = no quota for that role."""

    generalist: float | None = Field(
        default=450_000,
        ge=0,
        le=MAX_CURRENCY,
        description="bookings of an All-In rep (currency/year)",
    )
    lead_gen: float | None = Field(
        default=300,
        ge=0,
        le=MAX_COUNT_PER_YEAR,
        description="meetings booked: leads that pass prospecting (per year)",
    )
    qualifier: float | None = Field(
        default=150,
        ge=0,
        le=MAX_COUNT_PER_YEAR,
        description="qualified opportunities: leads that pass qualification (per year)",
    )
    closer: float | None = Field(
        default=700_000,
        ge=0,
        le=MAX_CURRENCY,
        description="bookings of a closer (currency/year)",
    )
    account_manager: float | None = Field(
        default=1.0,
        ge=0,
        le=3,
        description="net revenue retention of the accounts held at the start of each period "
        "(1.0 = keep every currency unit; expansion counts, churn subtracts)",
    )


class QuotaOverrides(ByRole):
    """Per-structure quota changes; unset roles keep the scenario's ``[quotas]`` value."""

    generalist: float | None = Field(
        default=None, ge=0, le=MAX_CURRENCY, description="(currency/year)"
    )
    lead_gen: float | None = Field(
        default=None, ge=0, le=MAX_COUNT_PER_YEAR, description="(meetings/year)"
    )
    qualifier: float | None = Field(
        default=None, ge=0, le=MAX_COUNT_PER_YEAR, description="(opportunities/year)"
    )
    closer: float | None = Field(default=None, ge=0, le=MAX_CURRENCY, description="(currency/year)")
    account_manager: float | None = Field(
        default=None, ge=0, le=3, description="(net revenue retention)"
    )


class QuotasConfig(Frozen):
    """Quota per role and per period; attainment is measured per rep per period."""

    period_days: float = Field(
        default=91.25,
        ge=1,  # a process wakes every period: shorter than a day is no quota plan
        le=3650,
        description="quota period (days); 91.25 = a quarter",
    )
    ramped: bool = Field(
        default=True,
        description="prorate a new hire's quota by their mean ramp productivity in the period",
    )
    roles: RoleQuotas = Field(default=RoleQuotas(), description="annual quota per role")


class MoneyConfig(Frozen):
    """Salaries, commission and margin (annual figures, one currency)."""

    gross_margin: float = Field(
        default=0.75, ge=0, le=1, description="share of revenue kept after cost of goods (0-1)"
    )
    commission_rate: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="commission paid to the rep who closes, on the commission basis (fraction)",
    )
    salary_lead_gen: float = Field(
        default=55_000,
        ge=0,
        le=MAX_CURRENCY,
        description="annual base (currency/year)",
    )
    salary_qualifier: float = Field(
        default=60_000,
        ge=0,
        le=MAX_CURRENCY,
        description="annual base (currency/year)",
    )
    salary_closer: float = Field(
        default=85_000,
        ge=0,
        le=MAX_CURRENCY,
        description="annual base (currency/year)",
    )
    salary_account_manager: float = Field(
        default=75_000,
        ge=0,
        le=MAX_CURRENCY,
        description="annual base (currency/year)",
    )
    salary_generalist: float = Field(
        default=85_000,
        ge=0,
        le=MAX_CURRENCY,
        description="annual base (currency/year)",
    )
    manager_span: int = Field(default=8, ge=1, le=100, description="reps per first-line manager")
    salary_manager: float = Field(
        default=150_000,
        ge=0,
        le=MAX_CURRENCY,
        description="manager annual base (currency/year)",
    )
    commission_basis: Literal["bookings", "gross_margin"] = Field(
        default="bookings",
        description="what closers' commission is a share of: bookings, or bookings after "
        "cost of goods (gross margin)",
    )
    accelerator: float = Field(
        default=1.5,
        ge=1,
        le=5,
        description="commission and bonus rate multiplier on attainment above 100 % (x)",
    )
    bonus_lead_gen: float = Field(
        default=20_000,
        ge=0,
        le=MAX_CURRENCY,
        description="on-target bonus, paid pro rata to attainment (currency/year)",
    )
    bonus_qualifier: float = Field(
        default=20_000,
        ge=0,
        le=MAX_CURRENCY,
        description="on-target bonus, paid pro rata to attainment (currency/year)",
    )
    bonus_account_manager: float = Field(
        default=15_000,
        ge=0,
        le=MAX_CURRENCY,
        description="on-target bonus, paid pro rata to attainment (currency/year)",
    )
    bonus_manager: float = Field(
        default=30_000,
        ge=0,
        le=MAX_CURRENCY,
        description="manager on-target bonus, paid pro rata to the team's mean attainment "
        "(currency/year)",
    )
    overhead_per_head: float = Field(
        default=15_000,
        ge=0,
        le=MAX_CURRENCY,
        description="tools, space and benefits per rep or manager present (currency/year)",
    )
    hiring_cost: float = Field(
        default=20_000,
        ge=0,
        le=MAX_CURRENCY,
        description="recruiting cost per hire (currency per hire)",
    )
    onboarding_cost: float = Field(
        default=10_000,
        ge=0,
        le=MAX_CURRENCY,
        description="training and onboarding per hire (currency per hire)",
    )

    def salary(self, role: str) -> float:
        """Annual base salary of a mid-level rep in this role."""
        return getattr(self, f"salary_{role}")

    def bonus(self, role: str) -> float:
        """On-target annual bonus of a role paid by attainment (closing roles earn commission)."""
        return getattr(self, f"bonus_{role}", 0.0)


class BenchmarksConfig(Frozen):
    """Thresholds from the sales literature; the comparison report raises a red flag past them."""

    win_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="expected opportunity win rate: share of decided closing-stage deals won "
        "(0-1); none = no check",
    )
    max_utilisation: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="a role busier than this is a bottleneck: queues grow fast near 1 (0-1)",
    )
    min_share_at_quota: float = Field(
        default=2 / 3,
        ge=0,
        le=1,
        description="fewer reps at quota (rep-periods with a quota) than this share is a red "
        "flag (0-1)",
    )
    max_annual_turnover: float = Field(
        default=0.35,
        ge=0,
        le=10,
        description="more leavers per seat and year than this is a red flag (per year)",
    )
    max_pod_load_ratio: float = Field(
        default=1.25,
        ge=1,
        le=10,
        description="a pod whose utilisation exceeds the other pods' mean by this factor "
        "is overloaded (x)",
    )


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
    handoff: HandoffConfig = Field(
        default=HandoffConfig(), description="what each relay between the teams costs"
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
    """Whether an overloaded pod may pass a new lead to a less loaded pod, and at what cost."""

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
    handoff: HandoffConfig = Field(
        default=HandoffConfig(),
        description="what passing a lead to another pod costs (drop, delay, context); the "
        "receiving pod also lacks the segment expertise",
    )


class PodsConfig(Structure):
    """Pods: several small conveyors, each owning segments of the market."""

    pods: tuple[PodConfig, ...] = Field(min_length=1, max_length=MAX_ITEMS, description="the pods")
    handoff: HandoffConfig = Field(
        default=HandoffConfig(), description="what each relay inside a pod costs"
    )
    segment_expertise_factor: float = Field(
        default=1.0,
        ge=1,
        le=2,
        description="pass probability multiplier from knowing the segment (x, capped at 1)",
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


class Scenario(Frozen):
    """A whole scenario: market, teams, effects, money, run settings."""

    name: str = Field(
        min_length=1,
        max_length=NAME_MAX_LENGTH,
        description="short name (letters, digits, _ . -); results go to results/<name>/",
    )
    description: str = Field(default="", description="what this scenario is for")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="root seed of all randomness")
    replications: int = Field(default=5, ge=1, le=10_000, description="independent replications")
    horizon_days: float = Field(
        ge=1,  # a sales funnel over less than a day measures nothing
        le=MAX_HORIZON_DAYS,
        description="simulated time; leads arrive until then (days)",
    )
    warmup_days: float = Field(
        default=0.0,
        ge=0,
        le=MAX_HORIZON_DAYS,
        description="leads arriving before this are simulated but not counted (days)",
    )
    maturity_days: float = Field(
        default=0.0,
        ge=0,
        le=MAX_HORIZON_DAYS,
        description="funnel KPIs count only leads that arrived at least this long before the "
        "horizon, so that they had time to finish (days)",
    )
    sample_interval_days: float = Field(
        default=1.0,
        # A quarter of an hour: finer says nothing more about queues of tasks that take
        # hours to days, and it bounds a run's samples to 365,001 per team.
        ge=0.01,
        le=365,
        description="how often queues and work in progress are sampled (days)",
    )
    leads: LeadsConfig = Field(description="the lead stream")
    stages: StagesConfig = Field(description="the funnel stages")
    decay: DecayConfig = Field(default=DecayConfig(), description="leads going cold")
    competition: CompetitionConfig = Field(
        default=CompetitionConfig(), description="competitors deciding contested leads"
    )
    generalist: GeneralistConfig = Field(
        default=GeneralistConfig(), description="penalties for reps who do several stages"
    )
    accounts: AccountsConfig = Field(default=AccountsConfig(), description="post-sale accounts")
    fulfilment: FulfilmentConfig = Field(
        default=FulfilmentConfig(), description="implementation from win to go-live"
    )
    referrals: ReferralsConfig = Field(
        default=ReferralsConfig(), description="advocates and the referral leads they bring"
    )
    people: PeopleConfig = Field(
        default=PeopleConfig(), description="seniority, ramp-up and turnover of reps"
    )
    quotas: QuotasConfig = Field(default=QuotasConfig(), description="quota per role and period")
    money: MoneyConfig = Field(default=MoneyConfig(), description="salaries, commission, margin")
    benchmarks: BenchmarksConfig = Field(
        default=BenchmarksConfig(), description="red-flag thresholds for the comparison report"
    )
    structures: StructuresConfig = Field(description="the organisation structures to compare")

    @field_validator("name")
    @classmethod
    def _a_folder_name(cls, name: str) -> str:
        return folder_name(name, "results/<name>/")

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        problems = []
        if self.warmup_days + self.maturity_days >= self.horizon_days:
            problems.append(
                f"warmup_days + maturity_days ({self.warmup_days} + {self.maturity_days}) must be "
                f"shorter than horizon_days ({self.horizon_days}): no lead would be measured"
            )
        if not self.structures.names:
            problems.append("structures: configure at least one of " + ", ".join(STRUCTURES))
        pods = self.structures.pods
        if pods is not None:
            known = set(self.leads.segment_names)
            owned = {segment for pod in pods.pods for segment in pod.segments}
            unknown = sorted(owned - known)
            orphans = [s for s in self.leads.segment_names if s not in owned]
            if unknown:
                problems.append(f"structures.pods: segments {unknown} are not in leads.segments")
            if orphans:
                problems.append(f"structures.pods: no pod owns segments {orphans}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def from_file(cls, path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
        """Read a TOML scenario file, apply ``--set`` overrides, validate.

        Args:
            path: the TOML file.
            overrides: ``dotted.key=value`` strings; values are parsed as TOML
                values (``0.3``, ``true``, ``"text"``, ``[1, 2]``), bare words as text.

        Returns:
            The validated, frozen scenario.

        Raises:
            ScenarioError: with one message per problem, each naming the file
                and the dotted field path.
        """
        path = Path(path)
        label = path.name
        raw = read_user_toml(path, "scenario file")
        raw = apply_overrides(raw, overrides, label)
        return cls.from_dict(raw, label)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], label: str = "scenario") -> Scenario:
        """Validate a raw mapping (as read from TOML) into a scenario.

        Raises:
            ScenarioError: one line per problem, prefixed with ``label``.
        """
        try:
            # Through JSON so that strict mode accepts arrays for tuples; TOML
            # values are all JSON-representable except dates, which no field takes.
            return cls.model_validate_json(json.dumps(raw, default=str))
        except ValidationError as exc:
            raise ScenarioError(format_validation_error(exc, label)) from None

    def quota(self, structure: str, role: str) -> float | None:
        """Annual quota of a role in a structure (its override, else ``[quotas]``)."""
        override = getattr(self.structures, structure).quotas.get(role)
        return override if override is not None else self.quotas.roles.get(role)

    def replace(self, overrides: Iterable[str], label: str = "--set") -> Scenario:
        """A copy with ``dotted.key=value`` overrides applied and re-validated."""
        raw = apply_overrides(self.model_dump(mode="json"), overrides, label)
        return Scenario.from_dict(raw, label)


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def format_validation_error(exc: ValidationError, label: str) -> list[str]:
    """One line per pydantic error: ``label: dotted.path: message (got value)``.

    A list whose item is invalid also reports "too short" (it counts only the
    items that validated): that echo of the item's own line is left out.
    """
    errors = exc.errors(include_url=False)
    failed = [tuple(error["loc"]) for error in errors]
    lines = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "too_short" and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in failed
        ):
            continue
        path = ".".join(str(part) for part in loc) or "(top level)"
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        line = f"{label}: {path}: {message}"
        # A missing field's input is its whole parent table, a list's input the whole
        # list (of up to thousands of items): noise, not help.
        if error["type"] != "missing" and not isinstance(error.get("input"), dict | list):
            line += f" (got {error['input']!r})"
        lines.append(line)
    return lines


def _parse_override_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as least_loaded is meant as text


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str], label: str) -> dict[str, Any]:
    """Return a deep copy of ``raw`` with ``dotted.key=value`` assignments applied.

    Intermediate tables are created when missing, so ``--set
    structures.conveyor.closers=4`` works on a file without a conveyor block
    (validation then asks for the block's other required fields).

    Raises:
        ScenarioError: for an assignment without ``=`` or a path through a non-table.
    """
    data = json.loads(json.dumps(raw, default=str))
    problems = []
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"{label}: {item!r}: expected dotted.key=value")
            continue
        parts = key.split(".")
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                problems.append(f"{label}: {key}: {where} is a value, not a table")
                break
            node = child
        else:
            node[parts[-1]] = _parse_override_value(text.strip())
    if problems:
        raise ScenarioError(problems)
    return data


def without_sales_effects(scenario: Scenario) -> Scenario:
    """The same scenario with every sales-specific effect switched off.

    What remains is a plain open queueing network: Poisson arrivals, pass
    probabilities, effort and lag as configured, no handoff loss, delay or
    context loss, no decay, patience or competitor, no generalist penalty, no lead-quality
    effect, no segment expertise, accounts that neither need effort nor churn,
    and reps who are all mid-level, fully ramped and never leave.
    """
    data = scenario.model_dump(mode="json")
    data["people"] = without_people_effects(scenario).model_dump(mode="json")["people"]
    data["leads"]["quality_weight"] = 0.0
    data["decay"] = {}
    data["competition"] = {}
    data["fulfilment"] = {}
    data["referrals"] = {}
    data["generalist"] = {}
    data["accounts"] = {}
    for name, block in data["structures"].items():
        if block is None:
            continue
        if "handoff" in block:
            block["handoff"] = {}
        if name == "pods":
            block["segment_expertise_factor"] = 1.0
            block["overflow"]["handoff"] = {}
    return Scenario.from_dict(data, scenario.name)


def without_people_effects(scenario: Scenario) -> Scenario:
    """The same scenario with levels, ramp-up and turnover switched off.

    Every rep is then a fully ramped mid-level rep who never leaves: the core
    model of the structures without the people effects.
    """
    data = scenario.model_dump(mode="json")
    for effect in ("levels", "ramp", "turnover", "performance"):
        data["people"][effect]["enabled"] = False
    data["people"]["ramp"]["initial_ramped_share"] = 1.0  # tenure facts: everyone ramped
    return Scenario.from_dict(data, scenario.name)


def as_markovian_network(scenario: Scenario) -> Scenario:
    """Sales effects off, and the market made Markovian: the queueing-theory limit.

    On top of ``without_sales_effects``: a flat (homogeneous Poisson) arrival
    rate, exponential effort at every stage and the same effort for every size
    tier, so a pooled stage is exactly an M/M/c queue and a Conveyor a Jackson
    network. Customer lag keeps its shape: it is an infinite-server delay that
    does not change the queues.
    """
    data = without_sales_effects(scenario).model_dump(mode="json")
    data["leads"]["seasonality_amplitude"] = 0.0
    for tier in data["leads"]["tiers"]:
        tier["effort_multiplier"] = 1.0
    for stage in data["stages"].values():
        stage["effort_distribution"] = "exponential"
    return Scenario.from_dict(data, scenario.name)


def field_reference(
    model: type[BaseModel] = Scenario, prefix: str = "", defaults: BaseModel | None = None
) -> list[tuple[str, str, str, str]]:
    """Rows (path, type with bounds, default, description) for every field, for the README.

    ``defaults`` is the parent field's default instance, whose values (for
    example a junior's 0.9) override the nested class's own defaults.
    """
    rows = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        nested = _nested_model(annotation)
        value = getattr(defaults, name) if defaults is not None else field.default
        if defaults is None and field.is_required():
            default = "required"
        else:
            default = _show_default(value)
        if nested is not None and not _is_sequence(annotation):
            rows.append(
                (
                    path,
                    nested.__name__,
                    default if default == "required" else "",
                    field.description or "",
                )
            )
            inner = value if isinstance(value, BaseModel) else None
            rows.extend(field_reference(nested, f"{path}.", inner))
        elif nested is not None:
            rows.append((path + "[]", f"list of {nested.__name__}", "", field.description or ""))
            rows.extend(field_reference(nested, f"{path}[]."))
        else:
            kind = _show_type(annotation) + _show_bounds(field.metadata)
            rows.append((path, kind, default, field.description or ""))
    return rows


def _show_bounds(metadata: list[Any]) -> str:
    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    bounds = [
        f"{symbol} {_show_number(getattr(item, name))}"
        for item in metadata
        for name, symbol in symbols.items()
        if getattr(item, name, None) is not None
    ]
    return f" ({', '.join(bounds)})" if bounds else ""


def _show_number(value: float) -> str:
    short = f"{value:g}"
    return short if float(short) == value else str(value)  # 2**63 - 1 in full


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _is_sequence(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is tuple


def _show_type(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    if getattr(annotation, "__origin__", None) is Literal:
        text = " / ".join(repr(a) for a in annotation.__args__)
    return text.replace("typing.", "").replace("NoneType", "None")


def _show_default(value: Any) -> str:
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return repr(value)
