"""After the win: accounts that need care, go live through operations, and refer.

A won deal becomes an account, like a new customer a sales team hands to
account management: it is implemented, pays its contract, is reviewed every
month, may leave or grow at its renewal, and, well served, becomes an
advocate who refers new leads.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.config.base import MAX_WAIT_DAYS, Frozen


class AccountsConfig(Frozen):
    """Won deals become accounts that need care, churn, and expand.

    Under a contract (``contract_months`` > 0) a review is where the customer
    makes up their mind: a churn or expansion drawn at a review takes effect
    at the contract's next renewal, and the account bills until then.
    """

    @property
    def contract_days(self) -> float | None:
        """A contract's term in days (a month is 365/12 days); None without contracts."""
        return self.contract_months * 365.0 / 12.0 if self.contract_months else None

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
    contract_months: int = Field(
        default=12,
        ge=0,
        le=120,
        description="length of a customer's contract (months of 365/12 days): it bills from "
        "go-live to its renewal, where churn and expansion decided at the term's reviews take "
        "effect, and a handover nobody picked up raises churn risk instead of losing the "
        "customer; 0 = no contract: churn and expansion at each review, and a customer dropped "
        "at the handover is lost (the model before contracts)",
    )
    dropped_handover_churn_multiplier: float = Field(
        default=2.0,
        ge=1,
        le=20,
        description="under a contract, churn chance multiplier at the first review of a "
        "customer whose handover to account management was dropped (x); default: an assumption",
    )
    review_priority: Literal["sales_first", "fifo", "accounts_first"] = Field(
        default="sales_first",
        description="where a due account review queues for a rep who also sells (All-In): "
        "sales_first: after every waiting sales task (the lone wolf hunts first); fifo: in "
        "arrival order with sales work; accounts_first: before waiting sales work",
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
