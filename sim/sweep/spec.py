"""The sweep's grid: a validated sweep file resolved into every grid point and run.

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

The file's schema is ``sim.sweep.sweep_file``. Nothing here simulates:
``sim.sweep.backends`` runs the tasks a ``Sweep`` lists.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import itertools
import json
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from sim.config.base import value_at
from sim.config.scenario import (
    STRUCTURES,
    Scenario,
    ScenarioError,
    format_validation_error,
)
from sim.files.read import read_user_toml
from sim.sweep.sweep_file import (
    DEFAULT_KPIS,
    SweepAxis,
    SweepFile,
    is_number,
    round_half_up,
)


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
        return all(is_number(label) for label in self.labels)


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

    @property
    def label(self) -> str:
        """``POINT/STRUCTURE/REPLICATION``: the run's name in Dask keys and test hooks."""
        return f"{self.point}/{self.structure}/{self.replication}"


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
            base = value_at(data, target)
            if not is_number(base):
                problems.append(
                    f"{where}.relative: {target} is {base!r} in the base scenario, "
                    "not a number to multiply"
                )
                continue
            scaled = base * value
            pairs.append((target, round_half_up(scaled) if isinstance(base, int) else scaled))
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
    if not (all(is_number(x) for x in labels) or all(isinstance(x, str) for x in labels)):
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
    if isinstance(value, dict) and value and isinstance(value_at(data, path), dict):
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


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _capped(problems: list[str], limit: int = 25) -> list[str]:
    if len(problems) <= limit:
        return problems
    return problems[:limit] + [f"... and {len(problems) - limit} more problems like these"]
