"""``--set dotted.key=value``: changing one field of a scenario from the command line.

Like a sticky note on a printed plan ("closers: 5 instead of 4"), an override
changes one field by its dotted path without editing the file; the result is
validated like the file itself.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from sim.config.errors import ScenarioError


def _parse_override_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as least_loaded is meant as text


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str], label: str) -> dict[str, Any]:
    """Return a deep copy of ``raw`` with ``dotted.key=value`` assignments applied.

    Intermediate tables are created when missing, so ``--set
    structures.conveyor.closers=4`` works on a file without a conveyor block
    (validation then asks for the block's other required fields).

    Raises:
        ScenarioError: for an assignment without ``=`` or a path through a non-table.
    """
    data = json.loads(json.dumps(raw, default=str))
    problems = []
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"{label}: {item!r}: expected dotted.key=value")
            continue
        parts = key.split(".")
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                problems.append(f"{label}: {key}: {where} is a value, not a table")
                break
            node = child
        else:
            node[parts[-1]] = _parse_override_value(text.strip())
    if problems:
        raise ScenarioError(problems)
    return data
