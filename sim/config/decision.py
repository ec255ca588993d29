"""The decision: which objectives the report answers, and how sure it must be.

A sales leader choosing a structure asks a few plain questions: which one
earns the most, which builds the most valuable book of customers, which wins
the most deals, which costs least per deal won. The comparison report opens
with one answer per objective named here, each with its margin over the other
structures and how sure that margin is. The numbers do not change the
simulation, only what the report answers first.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from sim.config.base import Frozen

DEFAULT_OBJECTIVES: tuple[str, ...] = (
    "profit",
    "book_value_at_end",
    "wins_per_30_days",
    "cost_per_won_deal",
)
"""Profit over the horizon, the value of the book of customers built, wins per 30 days, cost
per won deal: what a sales leader asks first (``sim.analysis.kpis`` names them)."""


class DecisionConfig(Frozen):
    """What the comparison report answers first."""

    objectives: tuple[str, ...] = Field(
        default=DEFAULT_OBJECTIVES,
        min_length=1,
        max_length=8,
        description="KPIs the verdict answers, most important first; each must have a better "
        "direction (the docs' KPI reference lists them)",
    )
    confidence: float = Field(
        default=0.95,
        ge=0.5,
        le=0.999,
        description="how sure a margin must be to call a structure better, for all the "
        "verdict's comparisons together (Holm's correction) (0-1)",
    )

    indifference: float | None = Field(
        default=None,
        gt=0,
        le=1e15,
        description="the smallest difference of the first objective that matters, in its unit "
        "(e.g. 50000 of profit): compare --select-best stops once it can name the best "
        "structure at least this far ahead; none = give it with --indifference",
    )

    @field_validator("objectives")
    @classmethod
    def _each_once(cls, objectives: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({o for o in objectives if objectives.count(o) > 1})
        if repeated:
            raise ValueError(f"name each objective once; repeated: {', '.join(repeated)}")
        return objectives
