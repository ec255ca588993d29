"""Reading and validating a scenario: a file or a mapping in, a frozen Scenario out.

A scenario file is read with ``tomllib`` (through ``sim.files.read``, which
refuses what is not a small text file), ``--set`` overrides are applied, and
pydantic validates the result, like a form checked field by field before it is
filed; ``sim.config.errors`` turns what is wrong into one line per problem.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sim.config.errors import ScenarioError
from sim.config.overrides import Override, applied, problem_lines
from sim.files.read import read_user_toml

Model = TypeVar("Model", bound=BaseModel)


def load_file(
    model: type[Model], path: str | Path, overrides: Iterable[str | Override] = ()
) -> Model:
    """Read a TOML file, apply ``dotted.key=value`` overrides, validate it as ``model``.

    Raises:
        ScenarioError: one line per problem, each naming the file and the field,
            or the override that caused it.
    """
    path = Path(path)
    try:
        path.stat()
    except FileNotFoundError:
        raise ScenarioError([no_such_file(path)]) from None
    except OSError:
        pass  # read_user_toml says what else is wrong, in one line
    raw = read_user_toml(path, "scenario file")
    return validate(model, raw, path.name, overrides)


def validate(
    model: type[Model],
    raw: Mapping[str, Any],
    label: str,
    overrides: Iterable[str | Override] = (),
) -> Model:
    """Validate a raw mapping (as read from TOML), with overrides applied, as ``model``.

    Raises:
        ScenarioError: one line per problem, prefixed with ``label`` or with the
            override that caused it.
    """
    data, done = applied(raw, overrides)
    try:
        # Through JSON so that strict mode accepts arrays for tuples; TOML
        # values are all JSON-representable except dates, which no field takes.
        return model.model_validate_json(json.dumps(data, default=str))
    except ValidationError as exc:
        raise ScenarioError(problem_lines(exc, label, done, model)) from None


SHOWN_SCENARIOS = 12
"""Scenario files listed after a name that matches none."""


def no_such_file(path: Path) -> str:
    """``path: no such scenario file; did you mean ...? (scenarios there: ...)``.

    The scenarios beside the name are listed, and the closest one named; a bare
    name (``pods``, ``pod.toml``) is also looked for in ``scenarios/``, where
    the shipped ones live.
    """
    line = f"{path}: no such scenario file"
    folders = [path.parent]
    if path.parent == Path(".") and Path("scenarios").is_dir():
        folders.append(Path("scenarios"))
    found = [(folder, _scenario_names(folder)) for folder in folders if folder.is_dir()]
    found = [(folder, names) for folder, names in found if names]
    if not found:
        return line if path.parent.is_dir() else f"{line} (no folder {path.parent})"
    for folder, names in found:
        close = difflib.get_close_matches(path.stem, names, n=1)
        if close:
            line += f"; did you mean {folder / close[0]}.toml?"
            break
    else:
        folder, names = found[0]
    where = "there" if folder == path.parent else f"in {folder}/"
    shown = names[:SHOWN_SCENARIOS] + ["..."] * (len(names) > SHOWN_SCENARIOS)
    return f"{line} (scenarios {where}: {', '.join(shown)})"


def _scenario_names(folder: Path) -> list[str]:
    try:
        return sorted(child.stem for child in folder.glob("*.toml") if child.is_file())
    except OSError:  # a folder nobody may list: no suggestion, the line still says why
        return []
