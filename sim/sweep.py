"""Parameter sweeps: one base scenario, a grid of changes, every structure, every replication.

A sweep answers "when does one structure overtake another?". A sales leader
asks: "our conveyor loses some leads at every handoff; up to what drop rate
does it still beat a team of generalists?" A sweep takes the base scenario,
sets the handoff drop probability to 0, 0.05, ..., 0.3, runs every structure
on every value with several replications, and draws one line per structure
against the drop probability; where two lines cross, the leader changes.

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

A sweep file (TOML, see ``scenarios/sweeps/``) is validated with pydantic
like a scenario, and every grid point's scenario is built and validated
before the first run starts: a bad path or an out-of-bounds value is one
line naming the file and the place in it.

Runs are executed in this process (one worker), in a local process pool
(several workers, the default: all cores), or on Dask (``--scheduler``; an
optional dependency imported only then). Whatever executes them, this process
stores each finished run at once as a one-row parquet part under
``DIR/runs/`` (temporary file, then ``os.replace``), next to ``DIR/sweep.json``
holding a hash of the resolved sweep. Started again, a sweep skips the runs it
finds, so a killed sweep resumes where it stopped; the final tables are always
assembled from the parts in a fixed order, so a resumed sweep's
``sweep.parquet`` is byte-identical to an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import os
import shutil
import sys
import time
import tomllib
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from scipy.special import stdtrit

from sim import metrics
from sim.leads import generate_leads
from sim.scenario import STRUCTURES, Frozen, Scenario, ScenarioError, format_validation_error
from sim.seeding import replication_streams
from sim.structures import run_structure

CONNECT_SECONDS = 10
"""How long to try to reach a Dask scheduler before giving up."""

EXIT_FAILED_RUNS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

KEY_COLUMNS: tuple[str, ...] = ("point", "structure", "replication", "seed")
"""Columns that identify a run in ``sweep.parquet`` (swept values follow ``point``)."""

KPI_DIRECTIONS: dict[str, Literal["higher", "lower"]] = {
    "wins_per_30_days": "higher",
    "conversion": "higher",
    "win_rate_decided": "higher",
    "mean_days_to_close": "lower",
    "p90_days_to_close": "lower",
    "lost_dropped_in_handoff": "lower",
    "lost_went_cold": "lower",
    "bookings": "higher",
    "revenue": "higher",
    "arr_at_end": "higher",
    "cost": "lower",
    "profit": "higher",
    "cost_per_won_deal": "lower",
    "revenue_per_rep": "higher",
    "share_reps_at_quota": "higher",
}
"""KPIs a sweep can rank structures by, and which direction is better."""

DEFAULT_KPIS: tuple[str, ...] = (
    "wins_per_30_days",
    "conversion",
    "mean_days_to_close",
    "profit",
    "arr_at_end",
)
"""The key KPIs plotted, ranked and searched for crossovers unless a sweep names others."""

# KPI columns of metrics.run_kpis; an axis may not take one of these names.
# A test checks this against the columns of a real run.
_KPI_PREFIXES = ("conversion", "lost_", "dropped_", "mean_wait_days_", "utilisation_", "headcount")
_KPI_NAMES = frozenset(
    {
        "leads_in",
        "won",
        "lost",
        "open",
        "win_rate_decided",
        "mean_days_to_close",
        "p50_days_to_close",
        "p90_days_to_close",
        "wins_per_30_days",
        "managers",
        "wins_in_horizon",
        "bookings",
        "revenue",
        "arr_at_end",
        "accounts_churned",
        "accounts_dropped_in_handoff",
        "neglected_reviews",
        "salary_cost",
        "manager_cost",
        "commission_cost",
        "cost",
        "gross_profit",
        "profit",
        "cost_per_won_deal",
        "revenue_per_rep",
        "share_reps_at_quota",
        "wall_seconds",
    }
)

OUTPUT_NAMES: tuple[str, ...] = (
    "sweep.parquet",
    "sweep_summary.csv",
    "crossovers.csv",
    "report.html",
    "plots",
)
"""What a finished sweep writes into its directory besides ``sweep.json`` and ``runs/``."""


# ---------------------------------------------------------------------------
# The sweep file
# ---------------------------------------------------------------------------


class SweepRange(Frozen):
    """Evenly spaced values from ``start`` to ``stop`` (both included)."""

    start: float = Field(description="first value")
    stop: float = Field(description="last value")
    num: int = Field(ge=1, le=1000, description="how many values")
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
    values: tuple[Any, ...] | None = Field(default=None, min_length=1, description="the values")
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
        default=None, min_length=1, description="values that each set several fields"
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
        count = len(self.values) if self.values is not None else self.range.num
        if self.labels is not None and len(self.labels) != count:
            raise ValueError(f"labels has {len(self.labels)} items for {count} values")
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
    def targets(self) -> tuple[str, ...]:
        """The dotted paths a value is set on (none for a case axis)."""
        if self.path is not None:
            return (self.path,)
        return self.paths or ()


class SweepFile(Frozen):
    """A sweep file: a base scenario, what to run, and the grid."""

    name: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="short name; results go to results/sweeps/<name>/",
    )
    description: str = Field(default="", description="the question this sweep answers")
    scenario: str = Field(min_length=1, description="base scenario file, relative to this file")
    structures: tuple[Literal["allin", "two_party", "conveyor", "pods"], ...] | None = Field(
        default=None, min_length=1, description="structures to run (default: all in the scenario)"
    )
    replications: int | None = Field(
        default=None, ge=1, le=10_000, description="replications (default: the scenario's)"
    )
    seed: int | None = Field(default=None, ge=0, description="root seed (default: the scenario's)")
    set: dict[str, Any] = Field(
        default_factory=dict, description="dotted path -> value applied at every grid point"
    )
    kpis: tuple[str, ...] | None = Field(
        default=None, min_length=1, description="key KPIs to plot and rank (default: a handful)"
    )
    grid: tuple[SweepAxis, ...] = Field(min_length=1, description="the swept parameters")

    @field_validator("grid")
    @classmethod
    def _distinct_names(cls, grid: tuple[SweepAxis, ...]) -> tuple[SweepAxis, ...]:
        names = [axis.name for axis in grid]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"axis names must be unique, got {twice} more than once")
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
        from sim import __version__

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
    base_path = path.parent / spec.scenario
    if not base_path.is_file():
        raise ScenarioError([f"{label}: scenario: no such scenario file {str(base_path)!r}"])
    loaded = Scenario.from_file(base_path)
    data = loaded.model_dump(mode="json")
    problems: list[str] = []
    fixed = _merged(data, spec.set)
    if spec.seed is not None:
        fixed.append(("seed", spec.seed))
    if spec.replications is not None:
        fixed.append(("replications", spec.replications))
    for key, value in fixed:
        problem = _schema_problem(key) or _assign(data, key, value)
        if problem:
            problems.append(f"{label}: set.{key}: {problem}")
    if problems:
        raise ScenarioError(problems)
    base = _validated(data, f"{label}: set")
    data = base.model_dump(mode="json")

    axes = []
    for index, axis_spec in enumerate(spec.grid):
        axis, axis_problems = _resolve_axis(axis_spec, data, f"{label}: grid.{index}")
        axes.append(axis)
        problems += axis_problems
    structures = spec.structures or base.structures.names
    for index, name in enumerate(structures):
        if name not in base.structures.names:
            problems.append(
                f"{label}: structures.{index}: {name!r} is not configured in the base scenario "
                f"(configured: {', '.join(base.structures.names)})"
            )
    targets = [
        (axis.name, target)
        for axis in axes
        for target in dict.fromkeys(p for pairs in axis.assignments for p, _ in pairs)
    ]
    for (first, one), (second, other) in itertools.combinations(targets, 2):
        if first != second and (one == other or other.startswith(f"{one}.")):
            problems.append(f"{label}: grid: axes {first!r} and {second!r} both set {other}")
        elif first != second and one.startswith(f"{other}."):
            problems.append(f"{label}: grid: axes {first!r} and {second!r} both set {one}")
    if problems:
        raise ScenarioError(problems)

    points = []
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
    if problems:
        raise ScenarioError(_capped(problems))

    ordered = tuple(name for name in STRUCTURES if name in structures)
    sweep = Sweep(
        name=spec.name,
        description=spec.description,
        file=path,
        base=base,
        structures=ordered,
        axes=tuple(axes),
        points=tuple(points),
        kpis=spec.kpis or DEFAULT_KPIS,
        digest="",
    )
    return _with_digest(sweep)


def _with_digest(sweep: Sweep) -> Sweep:
    return dataclasses.replace(sweep, digest=_digest(sweep.definition()))


def _read_spec(path: Path) -> SweepFile:
    label = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError([f"{path}: no such sweep file"]) from None
    except IsADirectoryError:
        raise ScenarioError([f"{path}: is a directory, expected a .toml sweep file"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{label}: not a UTF-8 text file ({exc.reason})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{label}: TOML syntax error: {exc}"]) from None
    try:
        # Through JSON, as for scenarios: strict mode then accepts arrays for tuples.
        return SweepFile.model_validate_json(json.dumps(raw, default=str))
    except ValidationError as exc:
        raise ScenarioError(_sweep_errors(exc, label)) from None


def _sweep_errors(exc: ValidationError, label: str) -> list[str]:
    """One line per problem; drops "grid: too short" when it only echoes a bad axis."""
    errors = exc.errors(include_url=False)
    lines = format_validation_error(exc, label)
    failed = [tuple(e["loc"]) for e in errors]
    kept = []
    for error, line in zip(errors, lines, strict=True):
        loc = tuple(error["loc"])
        echo = error["type"] == "too_short" and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in failed
        )
        if not echo:
            kept.append(line)
    return kept


def _resolve_axis(spec: SweepAxis, data: dict[str, Any], where: str) -> tuple[Axis, list[str]]:
    """Labels and assignments of one axis, each value validated on the base scenario."""
    problems: list[str] = []
    if spec.cases is not None:
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
        log = False
    else:
        for index, target in enumerate(spec.targets):
            # Checked once here, so a bad path is one line, not one per value.
            problem = _schema_problem(target) or _assign(copy.deepcopy(data), target, None)
            at = f"{where}.path" if spec.path is not None else f"{where}.paths.{index}"
            if problem:
                problems.append(f"{at}: {problem}")
        if problems:
            return Axis(spec.name, (), ()), problems
        values = spec.values if spec.values is not None else spec.range.values()
        labels = spec.labels or tuple(values)
        assignments = []
        for value in values:
            pairs: list[tuple[str, Any]] = []
            for target in spec.targets:
                if spec.relative:
                    base = _lookup(data, target)
                    if not _is_number(base):
                        problems.append(
                            f"{where}.relative: {target} is {base!r} in the base scenario, "
                            "not a number to multiply"
                        )
                        continue
                    scaled = base * value
                    pairs.append(
                        (target, _round_half_up(scaled) if isinstance(base, int) else scaled)
                    )
                else:
                    pairs.extend(_pairs(data, target, value))
            assignments.append(tuple(pairs))
        if spec.values is not None:
            places = [f"{where}.values.{i}" for i in range(len(values))]
        else:
            places = [f"{where}.range (value {v!r})" for v in values]
        log = spec.scale == "log" or (spec.range is not None and spec.range.scale == "log")
    repeated = sorted({str(x) for x in labels if labels.count(x) > 1})
    if repeated:
        problems.append(f"{where}: each value once; repeated: {', '.join(repeated)}")
    if not (all(_is_number(x) for x in labels) or all(isinstance(x, str) for x in labels)):
        problems.append(f"{where}: labels must be all numbers or all text, got {list(labels)}")
    if problems:
        return Axis(spec.name, tuple(labels), tuple(assignments), log), problems
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
    return Axis(spec.name, tuple(labels), tuple(assignments), log), problems


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
    return name in KEY_COLUMNS or name in _KPI_NAMES or name.startswith(_KPI_PREFIXES)


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _capped(problems: list[str], limit: int = 25) -> list[str]:
    if len(problems) <= limit:
        return problems
    return problems[:limit] + [f"... and {len(problems) - limit} more problems like these"]


# ---------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------


def run_one(task: RunTask) -> pd.DataFrame:
    """Simulate one run and return its KPI row.

    Runs in a worker process (or on a Dask worker); depends on its argument only.

    Returns:
        One row: point, structure, replication, seed, every KPI of
        ``metrics.run_kpis`` and ``wall_seconds`` (kept out of ``sweep.parquet``).
    """
    started = time.perf_counter()
    scenario = task.scenario
    streams = replication_streams(scenario.seed, task.replication)
    leads = generate_leads(scenario, np.random.default_rng(streams.leads))
    tables = run_structure(task.structure, leads, scenario, streams)
    kpis = metrics.run_kpis(tables.leads, tables.reps, scenario)
    if len(kpis) != 1:
        raise RuntimeError(f"expected one KPI row, got {len(kpis)} (did any lead arrive?)")
    row = kpis.drop(columns=["structure", "replication"])
    row.insert(0, "seed", scenario.seed)
    row.insert(0, "replication", task.replication)
    row.insert(0, "structure", task.structure)
    row.insert(0, "point", task.point)
    row["wall_seconds"] = time.perf_counter() - started
    return row.reset_index(drop=True)


# ---------------------------------------------------------------------------
# Executing runs: in this process, a process pool, or Dask
# ---------------------------------------------------------------------------


class SweepSetupError(RuntimeError):
    """The runs cannot be started (Dask missing, scheduler unreachable): one line."""


Outcome = tuple[RunTask, "pd.DataFrame | BaseException"]


def execute(tasks: Sequence[RunTask], workers: int, scheduler: str | None = None) -> Runs:
    """Start ``tasks``; iterate over the result for ``(task, row or exception)`` as each finishes.

    The workers are started here, before anything else of the sweep starts a
    thread (a progress bar), and the returned object must be closed
    (``contextlib.closing``): closing before every run finished (an exception
    or Ctrl-C in the caller) cancels the runs not yet done.

    Args:
        tasks: the runs to do.
        workers: processes to use locally (1 runs them in this process).
        scheduler: None for this machine; ``"local"`` for a Dask LocalCluster of
            ``workers`` processes; an address such as ``tcp://host:8786`` for a
            running Dask cluster.
    """
    if scheduler is not None:
        return DaskRuns(tasks, workers, scheduler)
    if workers <= 1 or len(tasks) <= 1:
        return Runs(tasks)
    return PoolRuns(tasks, min(workers, len(tasks)))


class Runs:
    """Runs done one after the other in this process (one worker)."""

    def __init__(self, tasks: Sequence[RunTask]):
        self.tasks = list(tasks)

    def __iter__(self) -> Iterator[Outcome]:
        for task in self.tasks:
            try:
                result: pd.DataFrame | BaseException = run_one(task)
            except Exception as exc:  # a failed run is reported; the others go on
                result = exc
            yield task, result

    def close(self) -> None:
        """Nothing to stop."""


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C back while child processes start, so that they never see it.

    SIGINT is blocked, not ignored: here it stays pending and is delivered as
    KeyboardInterrupt on leaving, once the children are up and told to ignore it.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _ignore_sigint() -> None:
    # Ctrl-C reaches every process of the terminal's group: only the parent handles it.
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread of its process: nothing to do
        pass


def _pool_worker_init(parent_pid: int) -> None:
    """Set up a pool worker: leave Ctrl-C to the parent, and die with it.

    A parent killed outright (SIGKILL, OOM killer) cannot stop its workers;
    they would wait for work forever. A watchdog thread ends the worker once
    it has been handed to another parent.
    """
    import threading

    _ignore_sigint()

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="salesim-parent-watch", daemon=True).start()


class PoolRuns(Runs):
    """Runs in a local process pool, one run per task."""

    def __init__(self, tasks: Sequence[RunTask], workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        super().__init__(tasks)
        # fork on Linux: a worker starts at once with the model already imported
        # (forkserver and spawn re-import pandas, SciPy and SimPy in every worker,
        # seconds on a busy 2-core machine). Forking is safe only without other
        # threads (the command line starts its progress bar after this).
        import threading

        methods = multiprocessing.get_all_start_methods()
        if sys.platform.startswith("linux") and threading.active_count() == 1:
            method = "fork"
        else:
            method = "forkserver" if "forkserver" in methods else "spawn"
        self.executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_pool_worker_init,
            initargs=(os.getpid(),),
        )
        self.finished = False
        self.futures: dict[Any, RunTask] = {}
        try:
            for task in self.tasks:
                self.futures[self.executor.submit(run_one, task)] = task
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[Outcome]:
        from concurrent.futures import as_completed

        for future in as_completed(self.futures):
            error = future.exception()
            yield self.futures[future], error if error is not None else future.result()
        self.finished = True

    def close(self) -> None:
        """Stop the pool; unless every run finished, cancel the rest and stop the workers."""
        if not self.finished:
            for future in self.futures:
                future.cancel()
            # Runs in flight are abandoned, not awaited: a run may take minutes.
            for process in list(getattr(self.executor, "_processes", {}).values()):
                process.terminate()
        self.executor.shutdown(wait=True, cancel_futures=True)


class DaskRuns(Runs):
    """Runs on Dask distributed: a LocalCluster or a running scheduler."""

    def __init__(self, tasks: Sequence[RunTask], workers: int, scheduler: str):
        try:
            import logging

            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepSetupError(
                "--scheduler needs Dask: pip install 'salesim[dask]' (on every worker too)"
            ) from None
        super().__init__(tasks)
        self.cluster = None
        self.futures: list[Any] = []
        try:
            if scheduler == "local":
                # Ctrl-C reaches the whole terminal group; only this process must act on
                # it (cancel, close the cluster), so the cluster's processes ignore it.
                with _sigint_deferred():
                    self.cluster = LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                    self.client = Client(self.cluster)
                    self.client.run(_ignore_sigint, nanny=True)
                    self.client.run(_ignore_sigint)
            else:
                self.client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise SweepSetupError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        # Keys name the run, plus a token so that two sweeps on one cluster never share results.
        token = os.urandom(4).hex()
        keys = [f"salesim-{t.point}-{t.structure}-{t.replication}-{token}" for t in self.tasks]
        self.futures = self.client.map(run_one, self.tasks, key=keys, pure=False)
        self.by_key = {f.key: t for f, t in zip(self.futures, self.tasks, strict=True)}

    def __iter__(self) -> Iterator[Outcome]:
        from distributed import as_completed

        for future in as_completed(self.futures):
            try:
                result: pd.DataFrame | BaseException = future.result()
            except Exception as exc:
                result = exc
            yield self.by_key[future.key], result
            future.release()

    def close(self) -> None:
        """Cancel what is left, disconnect, and stop a LocalCluster."""
        self.client.cancel(self.futures)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ---------------------------------------------------------------------------
# Storage: the manifest, one parquet part per finished run
# ---------------------------------------------------------------------------


class RunStore:
    """The runs stored in a sweep directory: ``sweep.json`` and one part per run.

    ``DIR/sweep.json`` records the sweep's digest; ``DIR/runs/`` holds one
    parquet part per finished run, named after its key.
    """

    def __init__(self, out_dir: Path, sweep: Sweep):
        self.out_dir = Path(out_dir)
        self.sweep = sweep
        self.runs_dir = self.out_dir / "runs"
        self.manifest_path = self.out_dir / "sweep.json"

    def prepare(self, fresh: bool = False) -> None:
        """Make the directory ready to store this sweep's runs.

        A directory holding another sweep (another digest) is refused unless
        ``fresh`` is set, which first deletes its runs and outputs; a non-empty
        directory that holds no sweep is always refused.

        Raises:
            ScenarioError: one line saying why the directory cannot be used.
        """
        out_dir, sweep = self.out_dir, self.sweep
        if out_dir.exists() and not out_dir.is_dir():
            raise ScenarioError([f"{out_dir}: exists and is not a directory"])
        if out_dir.is_dir() and any(out_dir.iterdir()) and not self.manifest_path.exists():
            raise ScenarioError(
                [f"{out_dir}: exists and holds no sweep (no sweep.json); choose another --out"]
            )
        if self.manifest_path.exists():
            stored = _read_manifest(self.manifest_path, fresh)
            if fresh:
                for name in ("runs", "sweep.json", *OUTPUT_NAMES):
                    target = out_dir / name
                    if target.is_dir():
                        shutil.rmtree(target)
                    elif target.exists():
                        target.unlink()
            elif stored.get("digest") != sweep.digest:
                before = stored.get("definition", {})
                now = sweep.definition()
                changed = [k for k in now if before.get(k) != now[k]] or ["the sweep"]
                raise ScenarioError(
                    [
                        f"{out_dir}: holds runs of a different sweep definition "
                        f"({', '.join(changed)} changed); use --fresh to start over "
                        "or --out for another directory"
                    ]
                )
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.runs_dir.glob(".*.tmp-*"):  # left by a killed writer
            stale.unlink(missing_ok=True)
        _write_atomic(self.manifest_path, (json.dumps(self.manifest(), indent=2) + "\n").encode())

    def manifest(self) -> dict[str, Any]:
        """What ``sweep.json`` holds."""
        sweep = self.sweep
        return {
            "name": sweep.name,
            "description": sweep.description,
            "sweep_file": str(sweep.file),
            "digest": sweep.digest,
            "definition": sweep.definition(),
            "runs": len(sweep.points) * len(sweep.structures) * sweep.replications,
            "base_scenario": sweep.base.model_dump(mode="json"),
        }

    def part_path(self, key: tuple[int, str, int]) -> Path:
        """Where the part of run ``key`` lives."""
        point, structure, replication = key
        return self.runs_dir / f"p{point:05d}-{structure}-r{replication:05d}.parquet"

    def stored(self) -> set[tuple[int, str, int]]:
        """Keys of the runs whose parts are on disk."""
        return {task.key for task in self.sweep.tasks() if self.part_path(task.key).exists()}

    def write(self, task: RunTask, row: pd.DataFrame) -> None:
        """Store one finished run (temporary file, then rename)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self.part_path(task.key)
        tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
        try:
            pq.write_table(pa.Table.from_pandas(row, preserve_index=False), tmp)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def read_all(self) -> pd.DataFrame:
        """Every run's row, in table order.

        Raises:
            ScenarioError: when the directory holds another sweep's runs.
        """
        stored = (
            _read_manifest(self.manifest_path, fresh=False) if self.manifest_path.exists() else {}
        )
        if stored.get("digest") != self.sweep.digest:
            raise ScenarioError([f"{self.out_dir}: holds no runs of this sweep definition"])
        frames = [pd.read_parquet(self.part_path(task.key)) for task in self.sweep.tasks()]
        return pd.concat(frames, ignore_index=True)


def _read_manifest(path: Path, fresh: bool) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        if fresh:
            return {}
        raise ScenarioError([f"{path}: unreadable sweep manifest ({exc}); use --fresh"]) from None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------
# Running a sweep
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SweepRun:
    """What one invocation did: runs in total, found stored, done now, failed."""

    total: int
    reused: int
    done: int
    failures: tuple[tuple[RunTask, BaseException], ...]
    wall_seconds: float
    run_seconds: float

    @property
    def complete(self) -> bool:
        """True when every run of the sweep is stored."""
        return self.reused + self.done == self.total


def run_sweep(
    sweep: Sweep,
    out_dir: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    fresh: bool = False,
    on_run_stored: Callable[[RunTask], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> SweepRun:
    """Do every run of the sweep not yet stored in ``out_dir``, storing each at once.

    Args:
        sweep: the validated sweep.
        out_dir: the sweep directory (``sweep.json`` and ``runs/``).
        workers: local processes (1: this process); with ``scheduler="local"``,
            Dask worker processes.
        scheduler: None, ``"local"`` or a Dask scheduler address.
        fresh: delete stored runs first instead of resuming.
        on_run_stored: called after each run is stored (progress; a test may
            raise here to interrupt the sweep).
        on_start: called with (runs in total, runs already stored) before running.

    Returns:
        Counts, failures and timings; the tables are written by ``write_outputs``.
    """
    store = RunStore(out_dir, sweep)
    store.prepare(fresh)
    stored = store.stored()
    tasks = [task for task in sweep.tasks() if task.key not in stored]
    total = len(sweep.points) * len(sweep.structures) * sweep.replications
    failures = []
    done = 0
    run_seconds = 0.0
    started = time.perf_counter()
    with contextlib.closing(execute(tasks, workers, scheduler)) as runs:
        if on_start is not None:
            on_start(total, len(stored))
        for task, result in runs:
            if isinstance(result, BaseException):
                failures.append((task, result))
                continue
            store.write(task, result)
            done += 1
            run_seconds += float(result["wall_seconds"].iloc[0])
            if on_run_stored is not None:
                on_run_stored(task)
    return SweepRun(
        total=total,
        reused=len(stored),
        done=done,
        failures=tuple(failures),
        wall_seconds=time.perf_counter() - started,
        run_seconds=run_seconds,
    )


# ---------------------------------------------------------------------------
# Tables: the sweep table, the summary, crossovers
# ---------------------------------------------------------------------------


def sweep_table(sweep: Sweep, rows: pd.DataFrame) -> pd.DataFrame:
    """The tidy sweep table: one row per run, swept values after ``point``.

    Args:
        sweep: the sweep.
        rows: every run's row (``RunStore.read_all``), in table order.

    Returns:
        Columns point, one per axis, structure (categorical, report order),
        replication, seed, then every KPI; sorted by point, structure, replication.
    """
    table = rows.drop(columns=["wall_seconds"], errors="ignore")
    table = sweep.point_table().merge(table, on="point", how="right", validate="one_to_many")
    table["structure"] = pd.Categorical(
        table["structure"].astype(str), categories=list(sweep.structures)
    )
    table = table.sort_values(["point", "structure", "replication"], ignore_index=True)
    for column in ("point", "replication", "seed"):
        table[column] = table[column].astype("int64")
    return table


def summarise_sweep(table: pd.DataFrame, sweep: Sweep, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t confidence interval of every KPI per grid point and structure.

    Returns:
        One row per (point, structure, KPI): point, the swept values,
        structure, kpi, mean, ci_low, ci_high, replications (non-missing
        values); bounds are NaN with fewer than two values, as in
        ``metrics.mean_ci``.
    """
    axis_names = [axis.name for axis in sweep.axes]
    ids = ["point", *axis_names, "structure"]
    kpis = [c for c in table.columns if c not in (*ids, "replication", "seed")]
    long = table.melt(id_vars=ids, value_vars=kpis, var_name="kpi", value_name="value")
    long["value"] = long["value"].astype(float)
    grouped = long.groupby([*ids, "kpi"], observed=True, sort=False)["value"]
    summary = grouped.agg(mean="mean", sd="std", replications="count").reset_index()
    n = summary["replications"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        quantile = np.where(n >= 2, stdtrit(np.maximum(n - 1, 1), 0.5 + confidence / 2), np.nan)
        half = quantile * summary["sd"].to_numpy(dtype=float) / np.sqrt(n)
    summary["ci_low"] = summary["mean"] - half
    summary["ci_high"] = summary["mean"] + half
    order = {kpi: i for i, kpi in enumerate(kpis)}
    summary["kpi_order"] = summary["kpi"].map(order)
    summary = summary.sort_values(["point", "structure", "kpi_order"], ignore_index=True)
    summary["replications"] = summary["replications"].astype("int64")
    return summary[[*ids, "kpi", "mean", "ci_low", "ci_high", "replications"]]


def crossovers(summary: pd.DataFrame, sweep: Sweep) -> pd.DataFrame:
    """Where one structure overtakes another along a numeric axis, for the key KPIs.

    Along each numeric axis (the other axes held at each of their values),
    the difference of two structures' means is interpolated linearly between
    neighbouring grid values (in log space on a log axis); where it changes
    sign, the leader changes.

    Returns:
        One row per crossing: kpi, parameter, at (the other axes' values,
        e.g. ``pods=2``; empty with one axis), value (the parameter value of
        the crossing), kpi_mean (both means there), leader_before and
        leader_after (the better structure below and above the crossing).
    """
    columns = [
        "kpi",
        "parameter",
        "at",
        "value",
        "kpi_mean",
        "leader_before",
        "leader_after",
    ]
    rows = []
    structures = list(sweep.structures)
    for axis in sweep.axes:
        if not axis.numeric or len(axis.labels) < 2:
            continue
        others = [a.name for a in sweep.axes if a is not axis]
        for kpi in sweep.kpis:
            direction = KPI_DIRECTIONS.get(kpi, "higher")
            picked = summary[summary["kpi"] == kpi]
            groups = picked.groupby(others, sort=False) if others else [((), picked)]
            for held, group in groups:
                held = held if isinstance(held, tuple) else (held,)
                at = ", ".join(f"{n}={v}" for n, v in zip(others, held, strict=True))
                wide = group.pivot_table(
                    index=axis.name, columns="structure", values="mean", observed=True
                ).sort_index()
                x = wide.index.to_numpy(dtype=float)
                position = np.log(x) if axis.log else x
                for first, second in itertools.combinations(structures, 2):
                    if first not in wide or second not in wide:
                        continue
                    a = wide[first].to_numpy(dtype=float)
                    b = wide[second].to_numpy(dtype=float)
                    for value, mean, before, after in _crossings(position, a, b):
                        better_before = _better(first, second, before, direction)
                        better_after = _better(first, second, after, direction)
                        rows.append(
                            {
                                "kpi": kpi,
                                "parameter": axis.name,
                                "at": at,
                                "value": float(np.exp(value)) if axis.log else value,
                                "kpi_mean": mean,
                                "leader_before": better_before,
                                "leader_after": better_after,
                            }
                        )
    return pd.DataFrame(rows, columns=columns)


def _crossings(
    x: np.ndarray, a: np.ndarray, b: np.ndarray
) -> list[tuple[float, float, float, float]]:
    """Sign changes of ``a - b`` along ``x``: (x, mean there, diff before, diff after)."""
    diff = a - b
    found = []
    known = [i for i in range(len(x)) if np.isfinite(diff[i])]
    nonzero = [i for i in known if diff[i] != 0]
    for left, right in itertools.pairwise(nonzero):
        if np.sign(diff[left]) == np.sign(diff[right]):
            continue
        between = [i for i in known if left < i < right]  # exact ties in between
        if between:
            at = between[0]
            found.append((float(x[at]), float(a[at]), float(diff[left]), float(diff[right])))
            continue
        share = diff[left] / (diff[left] - diff[right])
        crossing = x[left] + share * (x[right] - x[left])
        mean = a[left] + share * (a[right] - a[left])
        found.append((float(crossing), float(mean), float(diff[left]), float(diff[right])))
    return found


def _better(first: str, second: str, diff: float, direction: str) -> str:
    """Which of two structures is ahead when ``mean(first) - mean(second) == diff``."""
    ahead = diff > 0 if direction == "higher" else diff < 0
    return first if ahead else second


def winners(summary: pd.DataFrame, sweep: Sweep, kpi: str) -> pd.DataFrame:
    """The best structure of one KPI at every grid point.

    Returns:
        One row per point: point, the swept values, winner, best (its mean),
        runner_up, margin (how far ahead, in the KPI's unit) and clear (True
        when the two 95 % CIs do not overlap; False when they do or are unknown).
    """
    higher = KPI_DIRECTIONS.get(kpi, "higher") == "higher"
    picked = summary[summary["kpi"] == kpi]
    rows = []
    names = [axis.name for axis in sweep.axes]
    for point, group in picked.groupby("point", sort=True):
        ranked = group.dropna(subset=["mean"]).sort_values(
            "mean", ascending=not higher, kind="stable"
        )
        row = {"point": point, **{n: group[n].iloc[0] for n in names}}
        row.update(winner="", best=math.nan, runner_up="", margin=math.nan, clear=False)
        if len(ranked):
            best = ranked.iloc[0]
            row.update(winner=str(best["structure"]), best=float(best["mean"]))
        if len(ranked) > 1:
            second = ranked.iloc[1]
            if higher:
                apart = float(best["ci_low"]) > float(second["ci_high"])
            else:
                apart = float(best["ci_high"]) < float(second["ci_low"])
            row.update(
                runner_up=str(second["structure"]),
                margin=abs(float(best["mean"]) - float(second["mean"])),
                clear=bool(apart),  # NaN bounds compare False: not clear
            )
        rows.append(row)
    return pd.DataFrame(rows)


def write_outputs(
    sweep: Sweep,
    out_dir: Path,
    plots: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Assemble the stored runs into the sweep's tables, plots and report.

    Every file is written to a temporary name and renamed into place.

    Returns:
        The sweep table, the summary and the crossovers.
    """
    from sim import __version__
    from sim.output import write_parquet

    step = on_step or (lambda _: None)
    out_dir = Path(out_dir)
    store = RunStore(out_dir, sweep)
    step("assembling the sweep table")
    table = sweep_table(sweep, store.read_all())
    provenance = {
        "salesim_version": __version__,
        "sweep": sweep.name,
        "digest": sweep.digest,
        "seed": sweep.seed,
        "replications": sweep.replications,
        "structures": list(sweep.structures),
        "grid": [{"name": a.name, "labels": list(a.labels)} for a in sweep.axes],
        "base_scenario": sweep.base.model_dump(mode="json"),
    }
    tmp = out_dir / f".sweep.parquet.tmp-{os.getpid()}"
    try:
        write_parquet(table, tmp, provenance)
        os.replace(tmp, out_dir / "sweep.parquet")
    finally:
        tmp.unlink(missing_ok=True)
    summary = summarise_sweep(table, sweep)
    crossing = crossovers(summary, sweep)
    _write_atomic(out_dir / "sweep_summary.csv", summary.to_csv(index=False).encode())
    _write_atomic(out_dir / "crossovers.csv", crossing.to_csv(index=False).encode())
    if plots:
        step("drawing plots and report.html")
        from sim import sweep_report

        sweep_report.write_report(sweep, summary, crossing, out_dir)
    return table, summary, crossing


# ---------------------------------------------------------------------------
# Progress and the command
# ---------------------------------------------------------------------------


class SweepProgress:
    """Runs done of total and time left: a tqdm bar on a terminal, else a line every few seconds."""

    def __init__(self, stream: Any = None, every_seconds: float = 5.0):
        self.stream = stream if stream is not None else sys.stderr
        self.every_seconds = every_seconds
        self.total = self.done = self.reused = 0
        self.started = self.last = time.monotonic()
        self.bar = None

    def start(self, total: int, reused: int) -> None:
        """The sweep has ``total`` runs of which ``reused`` are already stored."""
        self.total, self.reused, self.done = total, reused, reused
        self.started = self.last = time.monotonic()
        if reused:
            print(f"  resuming: {reused}/{total} runs already stored", file=self.stream)
        if self.stream.isatty():
            try:
                from tqdm import tqdm

                self.bar = tqdm(
                    total=total, initial=reused, unit="run", file=self.stream, leave=False
                )
            except ImportError:  # never fail on a progress bar
                self.bar = None

    def step(self, task: RunTask) -> None:
        """One more run stored."""
        self.done += 1
        if self.bar is not None:
            self.bar.update()
            return
        now = time.monotonic()
        if now - self.last >= self.every_seconds or self.done == self.total:
            self.last = now
            elapsed = now - self.started
            new = self.done - self.reused
            left = (self.total - self.done) * elapsed / new if new else math.nan
            print(
                f"  {self.done}/{self.total} runs ({100 * self.done / self.total:.0f} %), "
                f"{elapsed:.0f} s elapsed, ~{left:.0f} s left",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cmd_sweep(args: Any) -> int:
    """``python -m sim sweep``: validate, run (resuming), write tables, plots and report."""
    if args.scheduler is not None and not (args.scheduler == "local" or "://" in args.scheduler):
        raise ScenarioError(
            [
                "--scheduler: expected 'local' or an address like tcp://host:8786, "
                f"got {args.scheduler!r}"
            ]
        )
    sweep = load_sweep(args.file)
    out_dir = args.out or Path("results") / "sweeps" / sweep.name
    workers = args.workers or default_workers()
    where = f"Dask {args.scheduler}" if args.scheduler else f"{workers} local worker(s)"
    print(
        f"salesim sweep {sweep.name}: {len(sweep.points)} grid points x "
        f"{len(sweep.structures)} structures x {sweep.replications} replications, "
        f"seed {sweep.seed}, on {where}",
        file=sys.stderr,
    )
    progress = SweepProgress()
    try:
        try:
            result = run_sweep(
                sweep,
                out_dir,
                workers=workers,
                scheduler=args.scheduler,
                fresh=args.fresh,
                on_run_stored=progress.step,
                on_start=progress.start,
            )
        finally:
            progress.close()
    except SweepSetupError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        stored = len(list((out_dir / "runs").glob("*.parquet")))
        print(
            f"interrupted: {stored} runs stored in {out_dir}/runs/; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if result.done:
        print(
            f"{result.done} runs in {result.wall_seconds:.1f} s "
            f"({result.done / result.wall_seconds:.2f} runs/s; "
            f"{result.run_seconds / result.done:.2f} s per run inside the workers)",
            file=sys.stderr,
        )
    if result.failures:
        for task, error in result.failures[:20]:
            print(
                f"run failed: point {task.point} {task.structure} replication "
                f"{task.replication}: {type(error).__name__}: {error}",
                file=sys.stderr,
            )
        print(
            f"{len(result.failures)} of {result.total} runs failed; the others are stored in "
            f"{out_dir}/runs/, so running the same command again retries only the failed ones",
            file=sys.stderr,
        )
        return EXIT_FAILED_RUNS
    try:
        _, summary, crossing = write_outputs(
            sweep,
            out_dir,
            plots=not args.no_plots,
            on_step=lambda what: print(f"  {what}", file=sys.stderr),
        )
    except KeyboardInterrupt:
        print(
            f"interrupted while writing the tables; every run is stored in {out_dir}/runs/: "
            "run the same command again to write them",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(headline(summary, sweep))
    if len(crossing):
        print("\ncrossovers (where the leader changes, by linear interpolation):")
        print(crossing.to_string(index=False))
    print(f"\nresults in {out_dir}/")
    return 0


def headline(summary: pd.DataFrame, sweep: Sweep) -> str:
    """The first key KPI per grid point and structure, as text for the terminal."""
    kpi = sweep.kpis[0]
    picked = summary[summary["kpi"] == kpi]
    names = [axis.name for axis in sweep.axes]
    table = picked.pivot_table(
        index=names, columns="structure", values="mean", observed=True, sort=False
    )
    table.columns = [str(c) for c in table.columns]
    return f"{kpi} (mean over {sweep.replications} replications):\n{table.to_string()}"
