"""A scenario written back as TOML: the resolved file, every default filled in.

Like a form handed back with every blank completed, ``to_toml`` writes what a
run will use, in the scenario file's own format, so it can be read, diffed
against the original, or saved and run as it is: loading the text gives an
equal ``Scenario``. TOML has no null: a field left unset (``None``) is left
out when that is its default, and shown as a comment otherwise, since no file
can say it.
"""

from __future__ import annotations

from typing import Any

import tomlkit
from pydantic import BaseModel

from sim.config.schema import Scenario


def to_toml(scenario: Scenario, comment: str | None = None) -> str:
    """The scenario as TOML text that loads back into an equal scenario.

    Args:
        scenario: the validated scenario.
        comment: a line put at the top as a TOML comment (where it came from).

    Returns:
        The TOML text: plain keys first, then one table per block.
    """
    document = tomlkit.document()
    if comment:
        document.add(tomlkit.comment(comment))
    _fill(document, scenario)
    return tomlkit.dumps(document)


def _fill(table: Any, block: BaseModel) -> bool:
    """Add a block's fields to a TOML table: values first, then sub-tables (TOML's order).

    Returns whether anything was added: a block whose fields are all unset is left out.
    """
    values, tables = [], []
    for name, field in type(block).model_fields.items():
        value = getattr(block, name)
        if value is None:
            if field.default is not None:
                values.append(tomlkit.comment(f"{name}: none (a file cannot say none)"))
            continue
        if isinstance(value, BaseModel):
            inner = tomlkit.table()
            if _fill(inner, value):
                tables.append((name, inner))
        elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
            rows = tomlkit.aot()
            for item in value:
                row = tomlkit.table()
                _fill(row, item)
                rows.append(row)
            tables.append((name, rows))
        else:
            values.append((name, _plain(value)))
    for item in values:
        if isinstance(item, tuple):
            table.add(*item)
        else:
            table.add(item)
    for name, inner in tables:
        table.add(name, inner)
    return bool(values or tables)


def _plain(value: Any) -> Any:
    """A TOML value for a scalar or a tuple of scalars."""
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value
