"""Reading and validating a scenario: a file or a mapping in, a frozen Scenario out.

A scenario file is read with ``tomllib`` (through ``sim.files.read``, which
refuses what is not a small text file), ``--set`` overrides are applied, and
pydantic validates the result, like a form checked field by field before it is
filed; ``sim.config.errors`` turns what is wrong into one line per problem.
"""

from __future__ import annotations

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
