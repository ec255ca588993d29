"""Benchmarks: thresholds from the sales literature that raise a red flag in the report.

Like a sales leader's rules of thumb ("nobody should be busier than 90 %",
"two thirds of reps should make quota"), these numbers do not change the
simulation, only what the comparison report flags.
"""

from __future__ import annotations

from pydantic import Field

from sim.config.base import Frozen


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
