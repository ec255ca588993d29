"""``--set dotted.key=value``: changing one field of a scenario from the command line.

Like a sticky note on a printed plan ("closers: 5 instead of 4"), an override
changes one field by its dotted path without editing the file; the result is
validated like the file itself. A problem an override causes is blamed on the
override as typed (``--set structures.conveyor.closers=x: Input should be a
valid integer (got 'x')``), not on the file, which is fine.

Intermediate tables are created when missing, so ``--set decay.half_life_days=60``
works on a file without a ``[decay]`` table, and ``--set
structures.allin.generalists=3`` adds an All-In team. A block that needs more
than the one field (a Conveyor's four headcounts) is reported as missing from
the scenario, with what it holds instead.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.config.errors import ScenarioError, dotted, error_line, relevant_errors


@dataclasses.dataclass(frozen=True)
class Override:
    """One ``dotted.key=value`` assignment, and how the command line showed it."""

    key: str
    """The dotted path of the field (``structures.conveyor.closers``)."""
    value: Any
    """The new value (TOML: ``0.3``, ``true``, ``"text"``, ``[1, 2]``; a bare word is text)."""
    shown: str
    """The option as typed, which problems are blamed on (``--set ...=x``, ``--seed 5``)."""
    created: str | None = None
    """The outermost table the assignment created, where the scenario had none."""
    neighbours: tuple[str, ...] = ()
    """What the parent of that created table held (the structures a scenario has)."""

    @classmethod
    def parse(cls, item: str, flag: str = "--set") -> Override:
        """``dotted.key=value`` as typed after ``flag``; ScenarioError if it is not that."""
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or "" in key.split("."):
            raise ScenarioError([f"{flag} {item}: expected dotted.key=value"])
        return cls(key, _parse_value(text.strip()), f"{flag} {item}")

    def blamed_for(self, loc: str) -> bool:
        """Whether the problem at dotted path ``loc`` is this override's doing."""
        inside = [self.key] + ([self.created] if self.created else [])
        return any(loc == path or loc.startswith(f"{path}.") for path in inside)


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as least_loaded is meant as text


def apply_overrides(
    raw: Mapping[str, Any], overrides: Iterable[str | Override], flag: str = "--set"
) -> dict[str, Any]:
    """Return a deep copy of ``raw`` with ``dotted.key=value`` assignments applied.

    Args:
        raw: the scenario as read from TOML (or dumped).
        overrides: ``dotted.key=value`` strings, or parsed overrides.
        flag: the option a string came with, for the messages.

    Raises:
        ScenarioError: for an assignment without ``=`` or a path through a non-table.
    """
    return applied(raw, overrides, flag)[0]


def applied(
    raw: Mapping[str, Any], overrides: Iterable[str | Override], flag: str = "--set"
) -> tuple[dict[str, Any], list[Override]]:
    """``apply_overrides``, also returning each override with the tables it created."""
    data = json.loads(json.dumps(raw, default=str))
    done, problems = [], []
    for item in overrides:
        try:
            override = item if isinstance(item, Override) else Override.parse(item, flag)
            done.append(_assign(data, override))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return data, done


def _assign(data: dict[str, Any], override: Override) -> Override:
    """Set one override in ``data``; the override, noting a table it had to create."""
    parts = override.key.split(".")
    node, created, neighbours = data, None, ()
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:  # absent, or dumped as None (a structure not configured)
            if created is None:
                created = ".".join(parts[: depth + 1])
                neighbours = tuple(k for k, v in node.items() if v is not None)
            child = node[part] = {}
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise ScenarioError([f"{override.shown}: {where} is a value, not a table"])
        node = child
    node[parts[-1]] = override.value
    return dataclasses.replace(override, created=created, neighbours=neighbours)


def problem_lines(
    exc: ValidationError,
    label: str,
    overrides: Sequence[Override],
    model: type[BaseModel] | None = None,
) -> list[str]:
    """One line per problem: blamed on the override that caused it, else on ``label``.

    The fields missing from a table an override created are one line, saying
    that the scenario has no such block and what it has; a bad value in that
    same override joins that line, so each override still gets one line.
    """
    lines: list[str | int] = []
    missing: dict[int, list[str]] = {}  # override's position -> fields its new table lacks
    also: dict[int, list[str]] = {}  # override's position -> its other problems
    errors = list(relevant_errors(exc))
    creating = {
        i
        for error in errors
        for i, o in enumerate(overrides)
        if _missing_in_created(error, dotted(tuple(error["loc"])), o)
    }
    for error in errors:
        loc = dotted(tuple(error["loc"]))
        blamed = [i for i, o in enumerate(overrides) if loc and o.blamed_for(loc)]
        if not blamed:
            lines.append(error_line(error, label, model=model))
            continue
        override = overrides[blamed[-1]]  # the last assignment is the one that counts
        if _missing_in_created(error, loc, override):
            if blamed[-1] not in missing:
                missing[blamed[-1]] = []
                lines.append(blamed[-1])  # the one line for them all goes here
            missing[blamed[-1]].append(loc.removeprefix(f"{override.created}."))
        elif blamed[-1] in creating:
            line = error_line(error, override.shown, loc != override.key, model)
            also.setdefault(blamed[-1], []).append(line.removeprefix(f"{override.shown}: "))
        else:
            lines.append(error_line(error, override.shown, loc != override.key, model))
    return [
        _no_block_line(overrides[line], missing[line], also.get(line, []))
        if isinstance(line, int)
        else line
        for line in lines
    ]


def _missing_in_created(error: ErrorDetails, loc: str, override: Override) -> bool:
    return (
        error["type"] == "missing"
        and override.created is not None
        and loc.startswith(f"{override.created}.")
    )


def _no_block_line(override: Override, missing: list[str], also: list[str]) -> str:
    parent, _, _ = override.created.rpartition(".")
    has = f" (its {parent}: {', '.join(override.neighbours) or 'none'})" if parent else ""
    besides = "".join(f"; and {problem}" for problem in also)
    return (
        f"{override.shown}: the scenario has no {override.created} block{has}; "
        f"a new one also needs {', '.join(missing)}{besides}"
    )
