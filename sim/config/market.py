"""The market: how many leads arrive, from which segments and size tiers, worth what.

Like a territory plan that says "ten leads a day, a third fintech, mostly SMB
deals of about 25k and a few key accounts", this block describes the lead
stream every structure then works on.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from sim.config.base import MAX_CURRENCY, MAX_ITEMS, MAX_SHARE, MAX_VALUE_MULTIPLIER, Frozen
from sim.config.outbound import OutboundConfig


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


class CampaignConfig(Frozen):
    """A window in which the arrival rate is multiplied: a campaign, or a step change for good."""

    name: str = Field(min_length=1, description="campaign name, e.g. 'spring_webinars'")
    start_day: float = Field(ge=0, le=36_500, description="first day of the change (day)")
    end_day: float | None = Field(
        default=None,
        gt=0,
        le=36_500,
        description="day the change ends (day); none = it lasts to the horizon (a step change)",
    )
    arrivals_factor: float = Field(
        ge=0,
        le=100,
        description="arrival rate inside the window relative to outside it (x); campaigns "
        "that overlap multiply",
    )

    @model_validator(mode="after")
    def _ends_after_start(self) -> CampaignConfig:
        if self.end_day is not None and self.end_day <= self.start_day:
            raise ValueError(
                f"campaign {self.name!r}: end_day {self.end_day:g} must be after "
                f"start_day {self.start_day:g}"
            )
        return self


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
    monthly_factors: tuple[Annotated[float, Field(ge=0, le=100)], ...] = Field(
        default=(),
        max_length=1200,
        description="arrival rate of each month (365.25 / 12 days from day 0) relative to "
        "arrivals_per_day, e.g. a ramp [0.3, 0.6, 1.0]; after the last, the last holds; "
        "empty = 1 throughout",
    )
    growth_per_year: float = Field(
        default=0.0,
        ge=-0.9,
        le=10,
        description="trend of the arrival rate (0.4 = 40 % more a year), compounding from "
        "day 0, or from the end of monthly_factors when given (a forecast forward)",
    )
    campaigns: tuple[CampaignConfig, ...] = Field(
        default=(),
        max_length=MAX_ITEMS,
        description="windows of a higher or lower arrival rate (campaigns, step changes)",
    )
    mean_deal_value: float = Field(
        gt=0,
        le=MAX_CURRENCY,
        description="mean first-year contract value of a won deal (currency)",
    )
    deal_value_sigma: float = Field(
        default=0.6, ge=0, le=3, description="log-normal spread of deal values (log units)"
    )
    deal_value_growth_per_year: float = Field(
        default=0.0,
        ge=-0.9,
        le=10,
        description="drift of deal values (0.1 = a lead arriving a year later is worth 10 % "
        "more), compounding from day 0",
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
    outbound: OutboundConfig = Field(
        default=OutboundConfig(),
        description="leads that prospecting reps create beside the inbound stream",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> LeadsConfig:
        for label, items in (
            ("segments", self.segments),
            ("tiers", self.tiers),
            ("campaigns", self.campaigns),
        ):
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


MONTH_DAYS = 365.25 / 12
"""The length of a month of ``monthly_factors`` (days)."""


def arrival_shape(cfg: LeadsConfig, days: np.ndarray) -> np.ndarray:
    """The arrival rate at ``days`` relative to ``arrivals_per_day``, seasonality aside.

    The month's factor (the last one after them), times the trend compounding
    from day 0, or from the end of the monthly factors when there are some,
    times the factor of every campaign running that day.
    """
    days = np.asarray(days, dtype=float)
    return _steps(cfg, days) * _trend(cfg, days)


def _trend_start(cfg: LeadsConfig) -> float:
    return len(cfg.monthly_factors) * MONTH_DAYS


def _trend(cfg: LeadsConfig, days: np.ndarray) -> np.ndarray:
    """The growth trend at ``days``: continuous and monotone (1 before it starts)."""
    if not cfg.growth_per_year:
        return np.ones_like(days)
    years = np.maximum(days - _trend_start(cfg), 0.0) / 365.0
    return (1.0 + cfg.growth_per_year) ** years


def _steps(cfg: LeadsConfig, days: np.ndarray) -> np.ndarray:
    """The piecewise-constant part: the month's factor times the running campaigns'."""
    shape = np.ones_like(days)
    if cfg.monthly_factors:
        factors = np.asarray(cfg.monthly_factors, dtype=float)
        month = np.minimum((days // MONTH_DAYS).astype(int), len(factors) - 1)
        shape = factors[np.maximum(month, 0)]
    for campaign in cfg.campaigns:
        end = np.inf if campaign.end_day is None else campaign.end_day
        running = (days >= campaign.start_day) & (days < end)
        shape = np.where(running, shape * campaign.arrivals_factor, shape)
    return shape


def peak_shape(cfg: LeadsConfig, horizon_days: float) -> float:
    """The highest value of ``arrival_shape`` on ``[0, horizon_days)``, exactly.

    The shape is a step function times a continuous monotone trend, so on each
    step (between consecutive month starts, campaign starts and ends) its
    supremum is the step's value times the trend at one of the step's ends.
    """
    edges = [0.0, horizon_days, _trend_start(cfg)]
    edges += [month * MONTH_DAYS for month in range(len(cfg.monthly_factors))]
    for campaign in cfg.campaigns:
        edges += [campaign.start_day] + ([] if campaign.end_day is None else [campaign.end_day])
    edges = np.unique(np.clip(edges, 0.0, horizon_days))
    starts, ends = edges[:-1], edges[1:]
    trend = np.maximum(_trend(cfg, starts), _trend(cfg, ends))
    return float((_steps(cfg, starts) * trend).max())


def arrival_rate(cfg: LeadsConfig, days: np.ndarray) -> np.ndarray:
    """Leads a day at ``days``: the mean, its yearly seasonal swing, then the shape if any.

    ``arrivals_per_day * (1 + amplitude * cos(2 pi (t - peak_day) / 365))``,
    times ``arrival_shape`` when the scenario has months, a trend or campaigns.
    """
    rate = cfg.arrivals_per_day * (
        1.0
        + cfg.seasonality_amplitude
        * np.cos(2.0 * np.pi * (days - cfg.seasonality_peak_day) / 365.0)
    )
    if shaped(cfg):
        rate = rate * arrival_shape(cfg, days)
    return rate


def shaped(cfg: LeadsConfig) -> bool:
    """Whether the arrival rate changes over time other than by seasonality."""
    return bool(cfg.monthly_factors) or cfg.growth_per_year != 0.0 or bool(cfg.campaigns)


def deal_value_drift(cfg: LeadsConfig, days: np.ndarray) -> np.ndarray:
    """Deal value of a lead arriving on ``days`` relative to one arriving on day 0."""
    return (1.0 + cfg.deal_value_growth_per_year) ** (np.asarray(days, dtype=float) / 365.0)
