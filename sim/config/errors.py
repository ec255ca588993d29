"""Problems with a scenario, one line each: which file, which field, what is wrong.

pydantic already says which field, which bound and which value; here its errors
become one line each, the way a reviewer marks a form:
``pods.toml: structures.pods.handoff.drop_prob: Input should be less than or
equal to 1 (got 1.5)``. The command line prints the lines and exits with code 2.
"""

from __future__ import annotations

from pydantic import ValidationError


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
    errors = exc.errors(include_url=False)
    failed = [tuple(error["loc"]) for error in errors]
    lines = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "too_short" and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in failed
        ):
            continue
        path = ".".join(str(part) for part in loc) or "(top level)"
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        line = f"{label}: {path}: {message}"
        # A missing field's input is its whole parent table, a list's input the whole
        # list (of up to thousands of items): noise, not help.
        if error["type"] != "missing" and not isinstance(error.get("input"), dict | list):
            line += f" (got {error['input']!r})"
        lines.append(line)
    return lines
