"""Quotas and money: each role's quota per period, salaries, commission, bonus and costs.

A sales plan says what each rep must deliver ("700k bookings a year for a
closer, 300 meetings for lead gen") and what they are paid for it; the money
KPIs (cost of sale, ROI, payback) are computed from this block. By default a
seat's quota follows one rule in every structure: its share of what the
market offers, discounted stage by stage (``sim.config.potential``); a number
given for a role replaces the rule for that role.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.config.base import MAX_COUNT_PER_YEAR, MAX_CURRENCY, ByRole, Frozen


class RoleQuotas(ByRole):
    """Annual quota per role, each in its role's own unit.

    Unset (none) = set by the rule (``quotas.stage_realisation``); 0 = no quota.
    """

    generalist: float | None = Field(
        default=None,
        ge=0,
        le=MAX_CURRENCY,
        description="bookings of an All-In rep (currency/year); none = by the rule",
    )
    lead_gen: float | None = Field(
        default=None,
        ge=0,
        le=MAX_COUNT_PER_YEAR,
        description="meetings booked: leads that pass prospecting (per year); none = by the rule",
    )
    qualifier: float | None = Field(
        default=None,
        ge=0,
        le=MAX_COUNT_PER_YEAR,
        description="qualified opportunities: leads that pass qualification (per year); "
        "none = by the rule",
    )
    closer: float | None = Field(
        default=None,
        ge=0,
        le=MAX_CURRENCY,
        description="bookings of a closer (currency/year); none = by the rule",
    )
    account_manager: float | None = Field(
        default=1.0,
        ge=0,
        le=3,
        description="net revenue retention of the accounts held at the start of each period "
        "(1.0 = keep every currency unit; expansion counts, churn subtracts); none or 0 = no quota",
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
    stage_realisation: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="the rule for roles without a number: a seat's annual quota is its equal "
        "share of the meetings, opportunities or bookings the market's leads would bring, each "
        "stage counted at this share of its pass chance (sim/config/potential.py)",
    )
    roles: RoleQuotas = Field(
        default=RoleQuotas(), description="annual quota per role; a number replaces the rule"
    )


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
    discount_rate_per_year: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="what a currency unit a year later is worth less today, for the book's "
        "value at the horizon (fraction per year)",
    )
    book_years: int = Field(
        default=5,
        ge=0,
        le=50,
        description="years after the horizon the book of active accounts is valued for "
        "(0 = the book is worth nothing: profit over the horizon only) (years)",
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
