"""The scenario's vocabulary and the base of every block: stages, roles, structures, bounds.

A scenario names things (the three funnel stages, the five roles, the four
structures) and sets numbers within sane bounds, the way a sales handbook fixes
its terms before any plan: "closing" means demo to signature, "a closer" the
rep who does it. Every block of the file is a ``Frozen`` model: immutable,
strict about types, finite, and refusing unknown keys.

Time is measured in days throughout: one day of *effort* is one rep's whole
working capacity for one calendar day; *lag* is calendar time during which the
customer, not the rep, holds the deal.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sim.config.names import STRUCTURE_NAMES

STAGES: tuple[str, ...] = ("prospecting", "qualification", "closing")
"""The funnel stages in order; a lead that passes closing is won."""

NAME_MAX_LENGTH = 100
"""Longest scenario name: it becomes a folder name (and part of temporary names), and
file systems allow 255 bytes per name."""
RESERVED_NAMES = frozenset({"sweeps", "bench"})
"""Folders under results/ that other commands own (sweeps, make bench)."""


def folder_name(name: str, where: str) -> str:
    """``name`` if it can name a folder under results/, else ValueError saying why.

    No separators and no leading dot: ".", ".." and hidden names are not folders
    a user means, and salesim's own temporary folders start with a dot.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", name):
        raise ValueError(
            "use letters, digits, '_', '.' and '-', not starting with '.' "
            f"(the name becomes the folder {where})"
        )
    if name.lower() in RESERVED_NAMES:
        raise ValueError(
            f"{name!r} is reserved: results/{name}/ holds other outputs "
            f"(reserved: {', '.join(sorted(RESERVED_NAMES))})"
        )
    return name


STRUCTURES: tuple[str, ...] = STRUCTURE_NAMES
"""The organisation structures this package knows, in report order."""

ROLES: tuple[str, ...] = ("generalist", "lead_gen", "qualifier", "closer", "account_manager")
"""Every role a rep can have."""

Role = Literal["generalist", "lead_gen", "qualifier", "closer", "account_manager"]
"""A role's name, as a type (``ROLES`` in order)."""

STAGE_ROLES: dict[str, tuple[str, str, str, str]] = {
    # role working prospecting, qualification, closing, then the account
    "allin": ("generalist", "generalist", "generalist", "generalist"),
    "two_party": ("lead_gen", "closer", "closer", "account_manager"),
    "conveyor": ("lead_gen", "qualifier", "closer", "account_manager"),
    "pods": ("lead_gen", "qualifier", "closer", "account_manager"),
}
"""Which role does each step in each structure; one rep keeps consecutive steps of one role."""

Distribution = Literal["exponential", "deterministic", "gamma"]
DelayDistribution = Literal["exponential", "deterministic"]
Assignment = Literal["pooled", "round_robin", "least_loaded"]
OwnerAssignment = Literal["round_robin", "least_loaded"]


# Bounds that no real scenario reaches, so that a slip of the keyboard (1e308,
# inf, a row of extra zeros) is refused before a run instead of overflowing,
# or running for ever, after one.
MAX_CURRENCY = 1e12
"""Largest amount of money in one field (currency): a trillion is above a
ten-million-dollar deal or salary in any currency (in Indonesian rupiah that is
1.6e11), and sums over millions of deals stay far from float overflow."""
MAX_COUNT_PER_YEAR = 1e6
"""Largest count quota (meetings or opportunities per rep and year): 2,700 a day."""
MAX_SHARE = 1e9
"""Largest relative weight of a mix (shares are normalised): percentages and lead
counts taken from any CRM fit; their sum stays finite."""
MAX_VALUE_MULTIPLIER = 1e6
"""Largest deal-value multiplier of a segment or tier: a thousand-fold span
each way covers a 1,000 SMB deal beside a billion-size key account."""
MAX_HORIZON_DAYS = 3650.0
"""Longest simulated time (days): ten years of one sales organisation."""
MAX_WAIT_DAYS = 36_500.0
"""Longest waiting time a setting may name (days): a century is 'never' here."""
MAX_SEED = 2**63 - 1
"""Largest root seed: seeds are stored in int64 columns and combined with a
structure's name in ``seeding.independent_seed``; numpy's SeedSequence itself
takes any non-negative integer."""
MAX_ITEMS = 1000
"""Most segments, tiers or pods: a per-lead draw builds a table of leads x segments."""

LEVELS: tuple[str, ...] = ("junior", "mid", "senior")
"""Seniority levels a rep can have, least experienced first."""


class Frozen(BaseModel):
    """Base for every scenario block: immutable, strict, finite, no unknown keys."""

    # strict: "0.5" or true where a number is expected is a mistake, not a value.
    # allow_inf_nan=False: inf or nan passes every bound check (nan compares false)
    # and surfaces only as a crash or a NaN after the whole simulation.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class ByRole(Frozen):
    """A block with one field per role."""

    def get(self, role: str) -> Any:
        """The value for one role."""
        return getattr(self, role)


def value_at(data: Any, path: str) -> Any:
    """The value at a dotted path of a dumped scenario (list items by index); None where none.

    ``value_at(dump, "structures.pods.pods.0.closers")``. A field whose value is
    None reads the same as a missing one: neither holds a value to read.
    """
    node = data
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node
