"""The names of the organisation structures, and what a reader calls them.

A structure is how the sales team splits the work on a lead: one generalist
does everything (All-In), lead generation hands over to full-cycle closers
(Two-Party), a production line of specialists (Conveyor), or small
specialist teams each owning a territory (Pods). Scenario files, sweep files,
output tables and command lines use the short name (``two_party``); figures
and reports print the label (``Two-Party``). Both are defined here once, in
report order; every list of structures in salesim is made from this one.
"""

from __future__ import annotations

from enum import StrEnum


class Structure(StrEnum):
    """A structure: its name (the member's value, a plain string) and its ``label``."""

    label: str

    def __new__(cls, name: str, label: str) -> Structure:
        """A member whose value is ``name`` (so it equals and hashes as that string)."""
        member = str.__new__(cls, name)
        member._value_ = name
        member.label = label
        return member

    ALLIN = ("allin", "All-In")
    TWO_PARTY = ("two_party", "Two-Party")
    CONVEYOR = ("conveyor", "Conveyor")
    PODS = ("pods", "Pods")


STRUCTURE_NAMES: tuple[str, ...] = tuple(structure.value for structure in Structure)
"""The structures' names as plain strings, in report order."""

STRUCTURE_LABELS: dict[str, str] = {structure.value: structure.label for structure in Structure}
"""Human name of each structure, by name, as printed on figures and reports."""


def structure_label(name: str) -> str:
    """Human name of a structure (``"two_party"`` -> ``"Two-Party"``; others title-cased)."""
    return STRUCTURE_LABELS.get(name, name.replace("_", " ").title())
