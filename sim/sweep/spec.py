"""The sweep file and its grid: schema, validation, expansion into runs.

A sweep file (TOML, see ``scenarios/sweeps/``) names a base scenario and the
parameters to vary. A sales leader asks "up to what handoff drop rate does the
conveyor beat a team of generalists?"; the file says: take ``baseline.toml``,
set ``structures.conveyor.handoff.drop_prob`` to 0, 0.05, ..., 0.3. This
module reads such a file, checks it with pydantic like a scenario, and
resolves it into a ``Sweep``: every grid point's scenario, built and validated
before the first run starts, so a bad path or an out-of-bounds value is one
line naming the file and the place in it.

Vocabulary:
    axis: one swept parameter: a column name, the scenario fields it sets
        (dotted paths such as ``structures.conveyor.handoff.drop_prob``) and
        its values. A value is set on every path of its axis, or an axis lists
        *cases* that each set several fields at once (a whole team layout).
    grid point: one value of every axis. Several axes make a full factorial
        grid, the first axis varying slowest.
    run: one (grid point, structure, replication). Runs are independent: each
        is seeded by its replication index alone (``seeding.replication_streams``),
        so replication 2 meets the same lead luck at every grid point and in
        every structure (common random numbers), and no result depends on
        which worker ran it or when it finished.

Nothing here simulates: ``sweep_backends`` runs the tasks a ``Sweep`` lists.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from sim.analysis.kpis import KPIS, is_kpi
from sim.config.scenario import (
    MAX_SEED,
    NAME_MAX_LENGTH,
    STRUCTURES,
    Frozen,
    Scenario,
    ScenarioError,
    folder_name,
    format_validation_error,
)
from sim.files.read import read_user_toml

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
            return tuple(_round_half_up(float(v)) for v in raw)
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
        if _reserved_name(name):
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
            if not all(_is_number(v) for v in self.values):
                raise ValueError("relative values must be numbers (factors)")
        if self.scale is not None and self.range is not None:
            raise ValueError("a range has its own scale: write it inside range")
        if self.scale == "log" and not all(_is_number(v) and v > 0 for v in self.values or ()):
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
    structures: tuple[Literal["allin", "two_party", "conveyor", "pods"], ...] | None = Field(
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


# ---------------------------------------------------------------------------
# The resolved sweep: every grid point's scenario, validated
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Axis:
    """A resolved axis: one label and one list of field assignments per value."""

    name: str
    labels: tuple[Any, ...]
    assignments: tuple[tuple[tuple[str, Any], ...], ...]
    log: bool = False

    @property
    def numeric(self) -> bool:
        """True when every label is a number, so the axis can be drawn to scale."""
        return all(_is_number(label) for label in self.labels)


@dataclasses.dataclass(frozen=True)
class GridPoint:
    """One point of the grid: its index, one label per axis, and its scenario."""

    index: int
    labels: tuple[Any, ...]
    scenario: Scenario


@dataclasses.dataclass(frozen=True)
class RunTask:
    """One run: a grid point's scenario, one structure, one replication."""

    point: int
    structure: str
    replication: int
    scenario: Scenario

    @property
    def key(self) -> tuple[int, str, int]:
        """(point, structure, replication): what identifies the run."""
        return (self.point, self.structure, self.replication)


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A validated sweep, ready to run.

    Attributes:
        name: the sweep's name.
        description: the question it answers.
        file: the sweep file.
        base: the base scenario with the file's ``set``, seed and replications applied.
        structures: structures run at every point, in report order.
        axes: the swept parameters, in file order.
        points: every grid point (full factorial, first axis slowest).
        kpis: key KPIs for plots, rankings and crossovers.
        digest: SHA-256 of everything that decides the results.
    """

    name: str
    description: str
    file: Path
    base: Scenario
    structures: tuple[str, ...]
    axes: tuple[Axis, ...]
    points: tuple[GridPoint, ...]
    kpis: tuple[str, ...]
    digest: str

    @property
    def seed(self) -> int:
        """Root seed of every run."""
        return self.base.seed

    @property
    def replications(self) -> int:
        """Replications per grid point and structure."""
        return self.base.replications

    @property
    def run_count(self) -> int:
        """Runs in the whole sweep: grid points x structures x replications."""
        return len(self.points) * len(self.structures) * self.replications

    def tasks(self) -> list[RunTask]:
        """Every run in table order: point, then structure, then replication."""
        return [
            RunTask(point.index, structure, replication, point.scenario)
            for point in self.points
            for structure in self.structures
            for replication in range(self.replications)
        ]

    def definition(self) -> dict[str, Any]:
        """What the digest covers, in a form that can be compared field by field."""
        from sim.version import __version__

        return {
            "salesim_version": __version__,
            "structures": list(self.structures),
            "replications": self.replications,
            "seed": self.seed,
            "grid": [{"name": a.name, "labels": list(a.labels)} for a in self.axes],
            "scenarios": _digest([p.scenario.model_dump(mode="json") for p in self.points]),
        }

    def point_table(self) -> pd.DataFrame:
        """One row per grid point: ``point`` and one column per axis."""
        columns: dict[str, Any] = {"point": [p.index for p in self.points]}
        for position, axis in enumerate(self.axes):
            labels = [p.labels[position] for p in self.points]
            columns[axis.name] = labels if axis.numeric else [str(x) for x in labels]
        return pd.DataFrame(columns)


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file and build and validate every grid point's scenario.

    Args:
        path: the TOML sweep file.

    Returns:
        The resolved sweep.

    Raises:
        ScenarioError: one line per problem, each naming the file and the
            place in it (``handoff_loss.toml: grid.0.values.3: structures...``).
    """
    path = Path(path)
    label = path.name
    spec = _read_spec(path)
    base = _sweep_base(path, spec)
    data = base.model_dump(mode="json")
    axes: list[Axis] = []
    problems: list[str] = []
    for index, axis_spec in enumerate(spec.grid):
        axis, axis_problems = _resolve_axis(axis_spec, data, f"{label}: grid.{index}")
        axes.append(axis)
        problems += axis_problems
    structures = spec.structures or base.structures.names
    problems += _unconfigured_structures(structures, base, label)
    problems += _overlapping_axes(axes, label)
    if problems:
        raise ScenarioError(problems)
    points, problems = _grid_points(data, axes, label)
    if problems:
        raise ScenarioError(_capped(problems))
    sweep = Sweep(
        name=spec.name,
        description=spec.description,
        file=path,
        base=base,
        structures=tuple(name for name in STRUCTURES if name in structures),
        axes=tuple(axes),
        points=tuple(points),
        kpis=spec.kpis or DEFAULT_KPIS,
        digest="",
    )
    return _with_digest(sweep)


def _sweep_base(path: Path, spec: SweepFile) -> Scenario:
    """The base scenario with the sweep file's ``set``, seed and replications applied."""
    label = path.name
    base_path = path.parent / spec.scenario
    if not base_path.is_file():
        raise ScenarioError([f"{label}: scenario: no such scenario file {str(base_path)!r}"])
    data = Scenario.from_file(base_path).model_dump(mode="json")
    fixed = _merged(data, spec.set)
    if spec.seed is not None:
        fixed.append(("seed", spec.seed))
    if spec.replications is not None:
        fixed.append(("replications", spec.replications))
    problems = []
    for key, value in fixed:
        problem = _schema_problem(key) or _assign(data, key, value)
        if problem:
            problems.append(f"{label}: set.{key}: {problem}")
    if problems:
        raise ScenarioError(problems)
    return _validated(data, f"{label}: set")


def _unconfigured_structures(structures: tuple[str, ...], base: Scenario, label: str) -> list[str]:
    """The sweep's structures that the base scenario does not configure."""
    configured = base.structures.names
    return [
        f"{label}: structures.{index}: {name!r} is not configured in the base scenario "
        f"(configured: {', '.join(configured)})"
        for index, name in enumerate(structures)
        if name not in configured
    ]


def _overlapping_axes(axes: list[Axis], label: str) -> list[str]:
    """Two axes that set one field (or one a field inside the other's table)."""
    targets = [
        (axis.name, target)
        for axis in axes
        for target in dict.fromkeys(p for pairs in axis.assignments for p, _ in pairs)
    ]
    problems = []
    for (first, one), (second, other) in itertools.combinations(targets, 2):
        if first != second and (one == other or other.startswith(f"{one}.")):
            problems.append(f"{label}: grid: axes {first!r} and {second!r} both set {other}")
        elif first != second and one.startswith(f"{other}."):
            problems.append(f"{label}: grid: axes {first!r} and {second!r} both set {one}")
    return problems


def _grid_points(
    data: dict[str, Any], axes: list[Axis], label: str
) -> tuple[list[GridPoint], list[str]]:
    """Every grid point's scenario (full factorial, first axis slowest), validated."""
    points, problems = [], []
    for index, combination in enumerate(itertools.product(*(range(len(a.labels)) for a in axes))):
        raw = copy.deepcopy(data)
        for axis, position in zip(axes, combination, strict=True):
            for target, value in axis.assignments[position]:
                _assign(raw, target, value)
        labels = tuple(
            axis.labels[position] for axis, position in zip(axes, combination, strict=True)
        )
        where = ", ".join(f"{a.name}={v}" for a, v in zip(axes, labels, strict=True))
        try:
            scenario = Scenario.from_dict(raw, f"{label}: grid point {index} ({where})")
        except ScenarioError as exc:
            problems += exc.problems
            continue
        points.append(GridPoint(index, labels, scenario))
    return points, problems


def _with_digest(sweep: Sweep) -> Sweep:
    return dataclasses.replace(sweep, digest=_digest(sweep.definition()))


def _read_spec(path: Path) -> SweepFile:
    label = path.name
    raw = read_user_toml(path, "sweep file")
    try:
        # Through JSON, as for scenarios: strict mode then accepts arrays for tuples.
        return SweepFile.model_validate_json(json.dumps(raw, default=str))
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, label)) from None


def _resolve_axis(spec: SweepAxis, data: dict[str, Any], where: str) -> tuple[Axis, list[str]]:
    """Labels and assignments of one axis, each value validated on the base scenario."""
    if spec.cases is not None:
        labels, assignments, places, problems = _case_assignments(spec, data, where)
        log = False
    else:
        problems = _target_problems(spec, data, where)
        if problems:
            return Axis(spec.name, (), ()), problems
        labels, assignments, places, problems = _value_assignments(spec, data, where)
        log = spec.scale == "log" or (spec.range is not None and spec.range.scale == "log")
    problems += _label_problems(labels, where)
    axis = Axis(spec.name, tuple(labels), tuple(assignments), log)
    if problems:
        return axis, problems
    return axis, _value_problems(places, assignments, data)


Assignments = list[tuple[tuple[str, Any], ...]]
"""An axis's assignments: per value, the (dotted path, value) pairs it sets."""


def _case_assignments(
    spec: SweepAxis, data: dict[str, Any], where: str
) -> tuple[tuple[Any, ...], Assignments, list[str], list[str]]:
    """A case axis: its labels, assignments, places in the file and problems."""
    problems: list[str] = []
    labels = tuple(case.label for case in spec.cases)
    assignments = []
    for index, case in enumerate(spec.cases):
        pairs = tuple(_merged(data, case.set))
        for target, _ in pairs:
            problem = _schema_problem(target)
            if problem:
                problems.append(f"{where}.cases.{index}.set.{target}: {problem}")
        assignments.append(pairs)
    places = [f"{where}.cases.{i}" for i in range(len(labels))]
    return labels, assignments, places, problems


def _target_problems(spec: SweepAxis, data: dict[str, Any], where: str) -> list[str]:
    """The axis's paths that are not scenario fields (one line per path, not per value)."""
    problems = []
    for index, target in enumerate(spec.targets):
        problem = _schema_problem(target) or _assign(copy.deepcopy(data), target, None)
        at = f"{where}.path" if spec.path is not None else f"{where}.paths.{index}"
        if problem:
            problems.append(f"{at}: {problem}")
    return problems


def _value_assignments(
    spec: SweepAxis, data: dict[str, Any], where: str
) -> tuple[tuple[Any, ...], Assignments, list[str], list[str]]:
    """A value axis (values or range): its labels, assignments, places and problems."""
    problems: list[str] = []
    values = spec.values if spec.values is not None else spec.range.values()
    labels = spec.labels or tuple(values)
    assignments = []
    for value in values:
        pairs: list[tuple[str, Any]] = []
        for target in spec.targets:
            if not spec.relative:
                pairs.extend(_pairs(data, target, value))
                continue
            base = _lookup(data, target)
            if not _is_number(base):
                problems.append(
                    f"{where}.relative: {target} is {base!r} in the base scenario, "
                    "not a number to multiply"
                )
                continue
            scaled = base * value
            pairs.append((target, _round_half_up(scaled) if isinstance(base, int) else scaled))
        assignments.append(tuple(pairs))
    if spec.values is not None:
        places = [f"{where}.values.{i}" for i in range(len(values))]
    else:
        places = [f"{where}.range (value {v!r})" for v in values]
    return labels, assignments, places, problems


def _label_problems(labels: tuple[Any, ...], where: str) -> list[str]:
    """Labels repeated, or mixing numbers and text."""
    problems = []
    repeated = sorted({str(x) for x in labels if labels.count(x) > 1})
    if repeated:
        problems.append(f"{where}: each value once; repeated: {', '.join(repeated)}")
    if not (all(_is_number(x) for x in labels) or all(isinstance(x, str) for x in labels)):
        problems.append(f"{where}: labels must be all numbers or all text, got {list(labels)}")
    return problems


def _value_problems(places: list[str], assignments: Assignments, data: dict[str, Any]) -> list[str]:
    """Each value set on the base scenario and validated: one line per problem."""
    problems: list[str] = []
    for place, pairs in zip(places, assignments, strict=True):
        raw = copy.deepcopy(data)
        missing = [p for p in (_assign(raw, t, v) for t, v in pairs) if p]
        if missing:
            problems += [f"{place}: {problem}" for problem in dict.fromkeys(missing)]
            continue
        try:
            Scenario.from_dict(raw, place)
        except ScenarioError as exc:
            problems += exc.problems
    return problems


def _validated(data: dict[str, Any], label: str) -> Scenario:
    return Scenario.from_dict(data, label)


def _merged(data: Mapping[str, Any], table: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The assignments that merge ``table`` (dotted path -> value) into a scenario dump."""
    return [pair for key, value in table.items() for pair in _pairs(data, key, value)]


def _pairs(data: Mapping[str, Any], path: str, value: Any) -> Iterator[tuple[str, Any]]:
    """A table merges key by key into a table already there; anything else replaces."""
    if isinstance(value, dict) and value and isinstance(_lookup(data, path), dict):
        for key, item in value.items():
            yield from _pairs(data, f"{path}.{key}", item)
    else:
        yield path, value


def _schema_problem(path: str) -> str | None:
    """Why ``path`` names no scenario field, or None when it does.

    Dotted parts name fields of nested blocks; a numeric part indexes a list
    (``leads.segments.2.share``, ``structures.pods.pods.0.closers``).
    """
    parts = path.split(".")
    annotation: Any = Scenario
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "a scenario"
        annotation = _unwrap_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = annotation.model_fields
            if part not in fields:
                close = difflib.get_close_matches(part, fields, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                return f"not a scenario field: {where} has no field {part!r}{hint}"
            annotation = fields[part].annotation
        elif typing.get_origin(annotation) is tuple:
            if not part.isdigit():
                return f"{where} is a list: expected an index (0, 1, ...), got {part!r}"
            annotation = typing.get_args(annotation)[0]
        else:
            return f"not a scenario field: {where} is a value, not a table"
    return None


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _assign(data: dict[str, Any], path: str, value: Any) -> str | None:
    """Set ``path`` in a scenario dump to a copy of ``value``; say why not if it cannot."""
    parts = path.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            index = int(part)
            if index >= len(node):
                return f"{'.'.join(parts[:depth])} has {len(node)} items, no item {index}"
            if last:
                node[index] = copy.deepcopy(value)
                return None
            node = node[index]
        else:
            if last:
                node[part] = copy.deepcopy(value)
                return None
            if node.get(part) is None:
                return f"{where} is not configured in the base scenario"
            node = node[part]
    return None


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` in a scenario dump, or None where there is none."""
    node: Any = data
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _round_half_up(value: float) -> int:
    # round() goes to the even neighbour (round(2.5) == 2): surprising for headcounts.
    return int(math.floor(value + 0.5))


def _reserved_name(name: str) -> bool:
    return name in RUN_COLUMNS or is_kpi(name)


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _capped(problems: list[str], limit: int = 25) -> list[str]:
    if len(problems) <= limit:
        return problems
    return problems[:limit] + [f"... and {len(problems) - limit} more problems like these"]
