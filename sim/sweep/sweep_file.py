"""The sweep file's schema: what a sweep TOML may say, checked with pydantic.

A sweep file names a base scenario and the parameters to vary, like an
experiment plan on a lab bench: which knob, which settings, how many repeats.
Here live its blocks (``SweepFile``: name, scenario, replications, key KPIs,
the grid; ``SweepAxis``: one swept parameter, by values, a range or cases),
their bounds, and the KPIs a sweep can rank. ``sim.sweep.spec`` resolves a
validated file into the grid of runs.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from sim.analysis.kpis import KPIS, is_kpi
from sim.config.names import STRUCTURE_NAMES
from sim.config.scenario import MAX_SEED, NAME_MAX_LENGTH, Frozen, folder_name

KEY_COLUMNS: tuple[str, ...] = ("point", "structure", "replication", "seed")
"""Columns that identify a run in ``sweep.parquet`` (swept values follow ``point``)."""

SWEEP_KPIS: tuple[str, ...] = (
    "wins_per_30_days",
    "conversion",
    "win_rate_decided",
    "mean_days_to_close",
    "p90_days_to_close",
    "lost_dropped_in_handoff",
    "lost_went_cold",
    "bookings",
    "revenue",
    "arr_at_end",
    "cost",
    "profit",
    "book_value_at_end",
    "profit_with_book",
    "cost_per_won_deal",
    "revenue_per_rep",
    "share_reps_at_quota",
    "annual_turnover",
    "vacancy_share",
    "mean_ramp_factor",
    "lost_rep_left",
    "roi",
    "new_hire_payback_days",
)
"""KPIs a sweep can plot and rank structures by (every run has them, each has a direction)."""

KPI_DIRECTIONS: dict[str, str] = {kpi: KPIS[kpi].direction for kpi in SWEEP_KPIS}
"""Which direction is better for each KPI a sweep ranks (from ``sim.analysis.kpis``)."""

MAX_AXIS_VALUES = 1000
"""Most values of one axis (listed, a range's ``num``, or cases)."""

MAX_GRID_POINTS = 10_000
"""Most grid points of a sweep. Each point is a scenario built and validated before
the first run, about 10 ms and 100 KB on a 2-core machine (measured on a
2,000-point sweep of ``baseline.toml``: 22 s, 275 MB peak); 10,000 points take a
couple of minutes and a gigabyte before any run, and their runs days. Refused
from the axes' lengths alone, before a point is built."""

DEFAULT_KPIS: tuple[str, ...] = (
    "wins_per_30_days",
    "conversion",
    "mean_days_to_close",
    "profit",
    "arr_at_end",
)
"""The key KPIs plotted, ranked and searched for crossovers unless a sweep names others."""

RUN_COLUMNS: tuple[str, ...] = (*KEY_COLUMNS, "wall_seconds")
"""Columns of a run's row besides its KPIs: an axis may take none of these names, nor a KPI's."""


# ---------------------------------------------------------------------------
# The sweep file
# ---------------------------------------------------------------------------


class SweepRange(Frozen):
    """Evenly spaced values from ``start`` to ``stop`` (both included)."""

    start: float = Field(description="first value")
    stop: float = Field(description="last value")
    num: int = Field(ge=1, le=MAX_AXIS_VALUES, description="how many values")
    scale: Literal["linear", "log"] = Field(
        default="linear", description="even steps (linear) or even ratios (log)"
    )
    integer: bool = Field(default=False, description="round every value to a whole number")

    @model_validator(mode="after")
    def _log_needs_positive(self) -> SweepRange:
        if self.scale == "log" and (self.start <= 0 or self.stop <= 0):
            raise ValueError(
                f"a log range needs start > 0 and stop > 0, got {self.start:g} and {self.stop:g}"
            )
        return self

    def values(self) -> tuple[float | int, ...]:
        """The range's values, rounded to 12 significant digits (or to integers)."""
        spaced = np.geomspace if self.scale == "log" else np.linspace
        raw = spaced(self.start, self.stop, self.num) if self.num > 1 else np.array([self.start])
        if self.integer:
            return tuple(round_half_up(float(v)) for v in raw)
        # 0.049999999999999996 is 0.05 to anyone reading the table.
        return tuple(float(f"{float(v):.12g}") for v in raw)


class SweepCase(Frozen):
    """One value of a case axis: a label and the scenario fields it sets."""

    label: int | float | str = Field(description="what the sweep table shows for this case")
    set: dict[str, Any] = Field(
        min_length=1, description="dotted scenario path -> value (tables merge key by key)"
    )


class SweepAxis(Frozen):
    """One swept parameter: the fields it sets and the values it takes."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="column name of this parameter in the sweep table",
    )
    path: str | None = Field(default=None, min_length=1, description="the scenario field it sets")
    paths: tuple[str, ...] | None = Field(
        default=None, min_length=1, description="several fields, all set to the same value"
    )
    values: tuple[Any, ...] | None = Field(
        default=None, min_length=1, max_length=MAX_AXIS_VALUES, description="the values"
    )
    range: SweepRange | None = Field(default=None, description="evenly spaced values instead")
    relative: bool = Field(
        default=False,
        description="values multiply the base scenario's value (integer fields are rounded)",
    )
    scale: Literal["linear", "log"] | None = Field(
        default=None, description="how plots space the values (a range has its own scale)"
    )
    labels: tuple[int | float | str, ...] | None = Field(
        default=None, description="what the table shows for each value (needed for tables)"
    )
    cases: tuple[SweepCase, ...] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_AXIS_VALUES,
        description="values that each set several fields",
    )

    @field_validator("name")
    @classmethod
    def _not_a_column(cls, name: str) -> str:
        if reserved_name(name):
            raise ValueError(f"{name!r} is a column of the sweep table already; choose another")
        return name

    @model_validator(mode="after")
    def _one_form(self) -> SweepAxis:
        if self.cases is not None:
            extra = [
                key
                for key in ("path", "paths", "values", "range", "labels", "scale")
                if getattr(self, key) is not None
            ]
            if extra or self.relative:
                extra += ["relative"] if self.relative else []
                raise ValueError(f"an axis with cases takes no {', '.join(extra)}")
            return self
        if (self.path is None) == (self.paths is None):
            raise ValueError("give exactly one of path, paths or cases")
        if (self.values is None) == (self.range is None):
            raise ValueError("give exactly one of values or range")
        if self.labels is not None and len(self.labels) != self.count:
            raise ValueError(f"labels has {len(self.labels)} items for {self.count} values")
        if self.labels is None and self.values is not None:
            if any(isinstance(v, dict | list) for v in self.values):
                raise ValueError("values that are tables or arrays need labels")
        if self.relative and self.values is not None:
            if not all(is_number(v) for v in self.values):
                raise ValueError("relative values must be numbers (factors)")
        if self.scale is not None and self.range is not None:
            raise ValueError("a range has its own scale: write it inside range")
        if self.scale == "log" and not all(is_number(v) and v > 0 for v in self.values or ()):
            raise ValueError("a log scale needs values that are all numbers > 0")
        return self

    @property
    def count(self) -> int:
        """How many values the axis takes."""
        if self.cases is not None:
            return len(self.cases)
        return len(self.values) if self.values is not None else self.range.num

    @property
    def targets(self) -> tuple[str, ...]:
        """The dotted paths a value is set on (none for a case axis)."""
        if self.path is not None:
            return (self.path,)
        return self.paths or ()


class SweepFile(Frozen):
    """A sweep file: a base scenario, what to run, and the grid."""

    name: str = Field(
        min_length=1,
        max_length=NAME_MAX_LENGTH,
        description="short name (letters, digits, _ . -); results go to results/sweeps/<name>/",
    )
    description: str = Field(default="", description="the question this sweep answers")
    scenario: str = Field(min_length=1, description="base scenario file, relative to this file")
    structures: tuple[Literal[STRUCTURE_NAMES], ...] | None = Field(
        default=None, min_length=1, description="structures to run (default: all in the scenario)"
    )
    replications: int | None = Field(
        default=None, ge=1, le=10_000, description="replications (default: the scenario's)"
    )
    seed: int | None = Field(
        default=None, ge=0, le=MAX_SEED, description="root seed (default: the scenario's)"
    )
    set: dict[str, Any] = Field(
        default_factory=dict, description="dotted path -> value applied at every grid point"
    )
    kpis: tuple[str, ...] | None = Field(
        default=None, min_length=1, description="key KPIs to plot and rank (default: a handful)"
    )
    grid: tuple[SweepAxis, ...] = Field(min_length=1, description="the swept parameters")

    @field_validator("name")
    @classmethod
    def _a_folder_name(cls, name: str) -> str:
        return folder_name(name, "results/sweeps/<name>/")

    @field_validator("grid")
    @classmethod
    def _distinct_names(cls, grid: tuple[SweepAxis, ...]) -> tuple[SweepAxis, ...]:
        names = [axis.name for axis in grid]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"axis names must be unique, got {twice} more than once")
        return grid

    @field_validator("grid")
    @classmethod
    def _not_too_big(cls, grid: tuple[SweepAxis, ...]) -> tuple[SweepAxis, ...]:
        points = math.prod(axis.count for axis in grid)
        if points > MAX_GRID_POINTS:
            sizes = " x ".join(str(axis.count) for axis in grid)
            raise ValueError(
                f"{points:,} grid points ({sizes}), more than the {MAX_GRID_POINTS:,} a sweep "
                "may have: split it into smaller sweeps or use fewer values"
            )
        return grid

    @field_validator("structures")
    @classmethod
    def _distinct_structures(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if names is not None and len(set(names)) != len(names):
            raise ValueError(f"name each structure once, got {list(names)}")
        return names

    @field_validator("kpis")
    @classmethod
    def _known_kpis(cls, kpis: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = [k for k in kpis or () if k not in KPI_DIRECTIONS]
        if unknown:
            raise ValueError(f"unknown {unknown}; choose from {', '.join(KPI_DIRECTIONS)}")
        return kpis


def is_number(value: Any) -> bool:
    """A number in a TOML file (a bool is not one, though Python says it is an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def round_half_up(value: float) -> int:
    """``value`` rounded to a whole number, halves up."""
    # round() goes to the even neighbour (round(2.5) == 2): surprising for headcounts.
    return int(math.floor(value + 0.5))


def reserved_name(name: str) -> bool:
    """True for a name an axis may not take: a column of the sweep table or a KPI."""
    return name in RUN_COLUMNS or is_kpi(name)
