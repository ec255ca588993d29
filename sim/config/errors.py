"""Problems with a scenario, one line each: which file, which field, what is wrong.

pydantic already says which field, which bound and which value; here its errors
become one line each, the way a reviewer marks a form:
``pods.toml: structures.pods.handoff.drop_prob: Input should be less than or
equal to 1 (got 1.5)``. The command line prints the lines and exits with code 2.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def format_validation_error(exc: ValidationError, label: str) -> list[str]:
    """One line per pydantic error: ``label: dotted.path: message (got value)``.

    A list whose item is invalid also reports "too short" (it counts only the
    items that validated): that echo of the item's own line is left out.
    """
    return [error_line(error, label) for error in relevant_errors(exc)]


def relevant_errors(exc: ValidationError) -> list[ErrorDetails]:
    """Pydantic's errors without the "too short" echo of a list whose item failed."""
    errors = exc.errors(include_url=False)
    failed = [tuple(error["loc"]) for error in errors]
    return [
        error
        for error in errors
        if not (
            error["type"] == "too_short"
            and any(
                len(other) > len(error["loc"]) and other[: len(error["loc"])] == error["loc"]
                for other in failed
            )
        )
    ]


def dotted(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a dotted path (``leads.segments.0.share``)."""
    return ".".join(str(part) for part in loc)


def error_line(error: ErrorDetails, prefix: str, with_path: bool = True) -> str:
    """One pydantic error as ``prefix: dotted.path: message (got value)``.

    Args:
        error: one of ``ValidationError.errors()``.
        prefix: what the line is about: a file name, or the ``--set`` that caused it.
        with_path: False when the prefix already names the field.
    """
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    path = dotted(tuple(error["loc"])) or "(top level)"
    line = f"{prefix}: {path}: {message}" if with_path else f"{prefix}: {message}"
    # A missing field's input is its whole parent table, a list's input the whole
    # list (of up to thousands of items): noise, not help.
    if error["type"] != "missing" and not isinstance(error.get("input"), dict | list):
        line += f" (got {error['input']!r})"
    return line
