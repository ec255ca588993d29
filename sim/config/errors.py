"""Problems with a scenario, one line each: which file, which field, what is wrong.

pydantic already says which field, which bound and which value; here its errors
become one line each, the way a reviewer marks a form:
``pods.toml: structures.pods.handoff.drop_prob: Input should be less than or
equal to 1 (got 1.5)``. An unknown key names the field it resembles
(``unknown field 'pas_prob'; did you mean 'pass_prob'?``), and one a block
says is elsewhere says where (``NOT_HERE``). The command line
prints the lines and exits with code 2.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.errors import ScenarioError

__all__ = ["ScenarioError", "format_validation_error", "relevant_errors", "error_line"]


def format_validation_error(
    exc: ValidationError, label: str, model: type[BaseModel] | None = None
) -> list[str]:
    """One line per pydantic error: ``label: dotted.path: message (got value)``.

    A list whose item is invalid also reports "too short" (it counts only the
    items that validated): that echo of the item's own line is left out. Given
    the model, an unknown key names the field it resembles.
    """
    return [error_line(error, label, model=model) for error in relevant_errors(exc)]


def relevant_errors(exc: ValidationError) -> list[ErrorDetails]:
    """The validation errors without the "too short" echo of a list whose item failed."""
    errors = exc.errors(include_url=False)
    failed = [tuple(error["loc"]) for error in errors]

    def echo(error: ErrorDetails) -> bool:
        loc = tuple(error["loc"])
        inner = any(len(other) > len(loc) and other[: len(loc)] == loc for other in failed)
        return error["type"] == "too_short" and inner

    return [error for error in errors if not echo(error)]


def dotted(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a dotted path (``leads.segments.0.share``)."""
    return ".".join(str(part) for part in loc)


def error_line(
    error: ErrorDetails,
    prefix: str,
    with_path: bool = True,
    model: type[BaseModel] | None = None,
) -> str:
    """One pydantic error as ``prefix: dotted.path: message (got value)``.

    Args:
        error: one of ``ValidationError.errors()``.
        prefix: what the line is about: a file name, or the ``--set`` that caused it.
        with_path: False when the prefix already names the field.
        model: the model validated; with it, an unknown key gets a did-you-mean.
    """
    loc = tuple(error["loc"])
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    block = block_model(model, loc[:-1]) if model and error["type"] == "extra_forbidden" else None
    known = list(block.model_fields) if block is not None else None
    if known is not None:
        not_here = getattr(block, "NOT_HERE", {}).get(str(loc[-1]))
        message = f"no field {loc[-1]!r} here: {not_here}" if not_here else None
        message = message or unknown_field(str(loc[-1]), known)
    path = dotted(loc) or "(top level)"
    line = f"{prefix}: {path}: {message}" if with_path else f"{prefix}: {message}"
    # A missing field's input is its whole parent table, a list's input the whole
    # list (of up to thousands of items), an unknown field's input a value of no use.
    if (
        error["type"] != "missing"
        and known is None
        and not isinstance(error.get("input"), dict | list)
    ):
        line += f" (got {error['input']!r})"
    return line


SHOWN_FIELDS = 10
"""Fields of a block listed after an unknown key that resembles none of them."""


def unknown_field(name: str, known: list[str]) -> str:
    """``unknown field 'pas_prob'; did you mean 'pass_prob'?``, or the fields there are."""
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"unknown field {name!r}; did you mean {close[0]!r}?"
    if len(known) <= SHOWN_FIELDS:
        return f"unknown field {name!r} (fields here: {', '.join(known)})"
    return f"unknown field {name!r}"


def block_model(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The block type at ``loc`` inside ``model`` (None if it is not a block).

    A block may say why a field someone looks for in it is elsewhere, in a
    ``NOT_HERE`` mapping of field name to reason (a relay another structure has).
    """
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list of blocks: the list's block type holds
        field = model.model_fields.get(part)
        model = nested_model(field.annotation) if field is not None else None
        if model is None:
            return None
    return model


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The block type inside an annotation (``PodsConfig | None``, ``tuple[PodConfig, ...]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = nested_model(arg)
        if found is not None:
            return found
    return None
