"""The one error of bad input: every problem a user can fix, one line each.

Whatever the user got wrong (a field out of bounds, an unreadable file, an
output folder holding someone else's files), salesim raises a
``ScenarioError`` whose ``problems`` are the lines to print; the command line
prints them and exits with code 2. It lives here, below every layer, so that
reading files and writing folders can raise it as the schema does.
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """Input that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems
