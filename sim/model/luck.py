"""The coins a lead stream's leads toss, kept as a recipe and drawn again chunk by chunk.

Every lead of a stream carries 21 numbers of luck (a uniform deciding each
stage, each relay's drop and delay, its patience, effort and customer lag per
stage, ...): 168 bytes a lead, four fifths of the stream and, held for the
whole run, about a quarter of a million-lead run's peak memory. A journey
only reads its own lead's luck, and leads arrive in order, so the luck of a
run is needed a block at a time (``lead_table.LeadBook``).

So a stream keeps, instead of the draws, where the generator stood before
each chunk of ``LUCK_CHUNK_LEADS`` leads of each draw (``LeadLuck``), and
draws a block's luck again when the block is first needed: the very numbers
the whole-stream draws would have held. That holds because numpy fills an
array element by element from its bit generator, with nothing carried over
between calls: drawing ``n`` values in chunks, one call per chunk, gives the
values of one call of ``n`` and leaves the generator where that call would
(``tests/unit/test_luck.py`` checks every draw kind against the whole draw).

The draws and their order are fixed here, once (``luck_draws``); the eager
path (``draw_luck``, for small streams such as an account's referral
chances) and the chunked one (``LeadLuck.record``) walk the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.config.scenario import STAGES, Scenario

N_STAGES = len(STAGES)
HANDOFF_POINTS: tuple[str, ...] = ("qualification", "closing", "account")
"""Where a relay can happen: into qualification, into closing, into the account."""

LUCK_CHUNK_LEADS = 4096
"""Leads per chunk of a stream's luck: one generator state is kept per chunk and draw."""

PER_STAGE_FIELDS = (
    "pass_u", "handoff_u", "handoff_delay_units", "patience_units", "effort_units", "lag_units",
)  # fmt: skip
"""Luck fields with a column per stage (or per relay point): arrays of shape (n, 3)."""


class LuckDraw(NamedTuple):
    """One call on the generator for every lead of a stream.

    Attributes:
        field: the ``LeadStream`` field it fills.
        column: the column of a per-stage field it fills (None: the whole field).
        kind: "uniform", or a unit-mean shape (``unit_mean_draws``).
        cv: coefficient of variation (gamma only).
        width: values per lead in one call (3 for a whole per-stage field, else 1).
    """

    field: str
    column: int | None
    kind: str
    cv: float = 0.0
    width: int = 1

    def draw(self, leads: int, rng: np.random.Generator) -> np.ndarray:
        """This draw for ``leads`` leads: shape (leads,) or (leads, width)."""
        shape = (leads, self.width) if self.width > 1 else leads
        if self.kind == "uniform":
            # ``rng.uniform(size=shape)`` to the bit (0 + 1 * u), at half the cost per call.
            return rng.random(shape)
        return unit_mean_draws(self.kind, self.cv, shape, rng)


def unit_mean_draws(
    distribution: str, cv: float, size: int | tuple[int, int], rng: np.random.Generator
) -> np.ndarray:
    """Draws with mean 1 in the given shape (exponential, deterministic or gamma)."""
    if distribution == "exponential":
        return rng.standard_exponential(size)
    if distribution == "deterministic":
        return np.ones(size)
    if distribution == "gamma":
        shape = 1.0 / (cv * cv)
        return rng.gamma(shape, 1.0 / shape, size)
    raise ValueError(f"unknown distribution {distribution!r}")


def luck_draws(scenario: Scenario) -> tuple[LuckDraw, ...]:
    """Every luck draw of a stream, in the order they are made (fixed: results depend on it)."""
    draws = [
        LuckDraw("pass_u", None, "uniform", width=N_STAGES),
        LuckDraw("handoff_u", None, "uniform", width=len(HANDOFF_POINTS)),
        LuckDraw("handoff_delay_units", None, "exponential", width=len(HANDOFF_POINTS)),
        LuckDraw("patience_units", None, "exponential", width=N_STAGES),
    ]
    for column, stage in enumerate(STAGES):
        cfg = scenario.stages.get(stage)
        draws.append(LuckDraw("effort_units", column, cfg.effort_distribution, cfg.effort_cv))
        draws.append(LuckDraw("lag_units", column, cfg.lag_distribution, cfg.lag_cv))
    # Drawn last, so that adding them left every earlier draw (and result) unchanged.
    draws += [
        LuckDraw("overflow_u", None, "uniform"),
        LuckDraw("overflow_delay_units", None, "exponential"),
        LuckDraw("contest_u", None, "uniform"),
        LuckDraw("competitor_units", None, "exponential"),
        LuckDraw("go_live_units", None, "exponential"),
    ]
    return tuple(draws)


def _fields(draws: tuple[LuckDraw, ...], values: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Each draw's values in its field: the whole field, or a column of a per-stage field.

    The columns of a per-stage field are stacked in one call (not written one
    by one into an empty field): an advocate's referral chances are a stream
    of one or two leads, where each numpy call costs more than its arithmetic.
    """
    luck: dict[str, np.ndarray] = {}
    columns: dict[str, dict[int, np.ndarray]] = {}
    for draw, drawn in zip(draws, values, strict=True):
        if draw.column is None:
            luck[draw.field] = drawn
        else:
            columns.setdefault(draw.field, {})[draw.column] = drawn
    for field, by_column in columns.items():
        luck[field] = np.column_stack([by_column[column] for column in sorted(by_column)])
    return luck


def draw_luck(
    draws: tuple[LuckDraw, ...], leads: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Every luck field for ``leads`` leads at once, by field name."""
    return _fields(draws, [draw.draw(leads, rng) for draw in draws])


@dataclass(frozen=True, eq=False)
class LeadLuck:
    """A stream's luck as a recipe: the generator's state before each chunk of each draw.

    Attributes:
        draws: the draws, in order (``luck_draws``).
        leads: leads in the stream.
        states: per draw, the generator's state before each of its chunks.
    """

    draws: tuple[LuckDraw, ...]
    leads: int
    states: tuple[tuple[dict, ...], ...]

    @classmethod
    def record(cls, draws: tuple[LuckDraw, ...], leads: int, rng: np.random.Generator) -> LeadLuck:
        """Make every draw chunk by chunk, keeping the states and dropping the values.

        ``rng`` ends where ``draw_luck`` would leave it, so later draws are unchanged.
        """
        states = []
        for draw in draws:
            chunks = []
            for first in range(0, leads, LUCK_CHUNK_LEADS):
                chunks.append(rng.bit_generator.state)
                draw.draw(min(LUCK_CHUNK_LEADS, leads - first), rng)
            states.append(tuple(chunks))
        return cls(draws, leads, tuple(states))

    def rows(self, first: int, stop: int) -> dict[str, np.ndarray]:
        """Every luck field of leads ``first`` to ``stop - 1``, drawn again."""
        stop = min(stop, self.leads)
        if first >= stop:
            return draw_luck(self.draws, 0, np.random.default_rng(0))  # no leads: nothing drawn
        first_chunk = first // LUCK_CHUNK_LEADS
        chunk_starts = range(first_chunk * LUCK_CHUNK_LEADS, stop, LUCK_CHUNK_LEADS)
        rng = np.random.Generator(getattr(np.random, self.states[0][0]["bit_generator"])())
        values = []
        for draw, states in zip(self.draws, self.states, strict=True):
            pieces = []
            for chunk, start in enumerate(chunk_starts, first_chunk):
                rng.bit_generator.state = states[chunk]
                pieces.append(draw.draw(min(LUCK_CHUNK_LEADS, self.leads - start), rng))
            offset = first - chunk_starts.start
            values.append(np.concatenate(pieces)[offset : offset + stop - first])
        return _fields(self.draws, values)
