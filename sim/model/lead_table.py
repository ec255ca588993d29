"""What a lead's journey reads, one float row per lead, with named columns.

Like a case file handed to whoever works the lead next: its pass
probabilities, the coins already tossed for it, its deal value, the day a
competitor decides. The stream (``leads.py``) is kept column by column; a
journey wants one lead's facts at once, so they are packed in one (n, 27)
float64 matrix and a lead takes its own row on arrival as an ``array("d")``
(one copy of 216 bytes; a list of 27 Python floats would take 920). Only
leads in flight hold their row, which keeps memory per lead small and the
garbage collector's work flat. The matrix is built a block of
``TABLE_BLOCK_LEADS`` leads at a time, as they arrive: the stream already
holds every draw, so a whole-run matrix would only hold them twice (216
bytes per lead, a fifth of a million-lead run's peak).

The columns are named here, once: ``row[EFFORT_UNIT + s]`` is the effort
unit of stage ``s``, ``row[DEAL_VALUE]`` the deal value. A field with one
value per stage (or per relay point) spans three columns from its name;
``per_stage`` gives their slice for whole-table arithmetic. Named offsets
into one plain matrix rather than a numpy structured array or one array per
field: a row stays one contiguous copy whose items read as plain Python
floats, which the journey's arithmetic needs (a structured row's fields are
numpy scalars, ten times slower in Python arithmetic, and separate arrays
cost a conversion per field per lead).

``LeadBook`` serves the rows of one structure run and holds the referral
leads that arrive during it. Time unit: days.
"""

from __future__ import annotations

from array import array
from typing import NamedTuple

import numpy as np

from sim.config.scenario import STAGES, Scenario
from sim.model.leads import LeadMix, LeadStream
from sim.model.luck import HANDOFF_POINTS
from sim.model.records import ReferralLeads

N_STAGES = len(STAGES)
N_RELAYS = len(HANDOFF_POINTS)

# The first column of each field of a lead's row; a field's width is what the next adds.
PASS_PROB = 0  # per stage: pass probability before structure effects (quality-shifted)
PASS_U = PASS_PROB + N_STAGES  # per stage: uniform deciding the stage's outcome
HANDOFF_U = PASS_U + N_STAGES  # per relay point: uniform deciding a drop
HANDOFF_DELAY_UNIT = HANDOFF_U + N_RELAYS  # per relay point: unit-mean relay delay
PATIENCE_UNIT = HANDOFF_DELAY_UNIT + N_RELAYS  # per stage: unit-mean patience in the queue
EFFORT_UNIT = PATIENCE_UNIT + N_STAGES  # per stage: unit-mean rep effort
LAG_UNIT = EFFORT_UNIT + N_STAGES  # per stage: unit-mean customer lag
DEAL_VALUE = LAG_UNIT + N_STAGES  # first-year contract value if won (currency)
COMPETITOR_DAY = DEAL_VALUE + 1  # day a competitor decides; infinity when none pursues it
TIER = COMPETITOR_DAY + 1  # size tier index (a whole number stored as a float)
OVERFLOW_U = TIER + 1  # uniform deciding a drop when Pods pass the lead to another pod
OVERFLOW_DELAY_UNIT = OVERFLOW_U + 1  # unit-mean delay of that relay
GO_LIVE_UNIT = OVERFLOW_DELAY_UNIT + 1  # unit-mean implementation effort if won
LEAD_TABLE_WIDTH = GO_LIVE_UNIT + 1

TABLE_BLOCK_LEADS = 4096
"""Leads per block of ``lead_table`` that ``LeadBook`` builds (under 1 MB each)."""

ACCOUNT_RELAY = HANDOFF_POINTS.index("account")
"""Relay point of the handover to the account; relay point ``s - 1`` leads into stage ``s``."""


Row = array
"""One lead's ``lead_table`` row, ``array("d")``: indexed like a list of floats."""


def table_row(table: np.ndarray, index: int) -> Row:
    """Row ``index`` of a ``lead_table`` as a ``Row`` (a copy: the table may go)."""
    return array("d", table[index].tobytes())


def block_row(block: array, index: int) -> Row:
    """Row ``index`` of a ``lead_table`` kept row after row in one ``array("d")``.

    A slice of it is one copy, where ``table_row`` takes a view, its bytes and
    then the copy: the cheaper way when many rows of one table are read.
    """
    start = index * LEAD_TABLE_WIDTH
    return block[start : start + LEAD_TABLE_WIDTH]


class ReferralChance(NamedTuple):
    """One of an advocate's referral chances: the prospect it would bring, if taken.

    Attributes:
        day: the day it comes up.
        segment, tier: codes of the prospect's segment and size tier.
        deal_value, quality: as in the lead stream.
        row: its ``referral_table`` row.
    """

    day: float
    segment: int
    tier: int
    deal_value: float
    quality: float
    row: Row


def referral_chance_list(
    chances: LeadStream, scenario: Scenario, mix: LeadMix | None = None
) -> list[ReferralChance]:
    """An account's referral chances one by one (a few a year: no arrays of their own)."""
    rows = array("d", referral_table(chances, scenario, mix).tobytes())
    return [
        ReferralChance(day, segment, tier, deal_value, quality, block_row(rows, j))
        for j, (day, segment, tier, deal_value, quality) in enumerate(
            zip(
                chances.arrival_day.tolist(),
                chances.segment.tolist(),
                chances.tier.tolist(),
                chances.deal_value.tolist(),
                chances.quality.tolist(),
                strict=True,
            )
        )
    ]


def per_stage(first: int) -> slice:
    """The three columns of a per-stage (or per-relay-point) field, from its first column."""
    return slice(first, first + N_STAGES)


def lead_pass_probabilities(
    leads: LeadStream, scenario: Scenario, mix: LeadMix | None = None
) -> np.ndarray:
    """Each lead's pass probability per stage before structure effects, (n, 3).

    Latent quality shifts the stage probability on the logit scale
    (``quality_weight`` per standard deviation); with weight 0 every lead has
    the stage's probability. ``mix``: the scenario's, worked out once.
    """
    mix = LeadMix.of(scenario) if mix is None else mix
    base, logit = mix.pass_prob, mix.pass_logit
    weight = scenario.leads.quality_weight
    if weight == 0 or len(leads) == 0:
        return np.broadcast_to(base, (len(leads), len(STAGES)))
    shifted = 1.0 / (1.0 + np.exp(-(logit[None, :] + weight * leads.quality[:, None])))
    # 0 and 1 are certainties that quality cannot change.
    return np.where(mix.pass_uncertain, shifted, base)


def lead_table(leads: LeadStream, scenario: Scenario, mix: LeadMix | None = None) -> np.ndarray:
    """Everything a lead's journey reads, one float row per lead (columns named above).

    Optional draws a stream lacks (a hand-built stream in a test) read as 1:
    a unit-mean unit, a uniform that never drops. A stream whose luck is a
    recipe has it drawn (``LeadStream.whole``): ``LeadBook`` asks for a block.
    """
    return _side_by_side(_table_fields(leads.whole(), scenario, mix))


def referral_table(
    chances: LeadStream, scenario: Scenario, mix: LeadMix | None = None
) -> np.ndarray:
    """The ``lead_table`` of an account's referral chances: they convert better, move faster."""
    cfg = scenario.referrals
    fields = _table_fields(chances.whole(), scenario, mix)
    fields[PASS_PROB] = np.minimum(1.0, fields[PASS_PROB] * cfg.pass_prob_factor)
    fields[EFFORT_UNIT] = fields[EFFORT_UNIT] * cfg.cycle_factor
    fields[LAG_UNIT] = fields[LAG_UNIT] * cfg.cycle_factor
    return _side_by_side(fields)


def _table_fields(
    leads: LeadStream, scenario: Scenario, mix: LeadMix | None
) -> dict[int, np.ndarray]:
    """Each field of the lead table by its first column: (n, 3) or (n,) values."""
    n = len(leads)
    competition = scenario.competition
    competitor_day = (
        leads.competitor_deadlines(competition.contested_share, competition.mean_decision_days)
        if competition.enabled
        else np.full(n, np.inf)
    )
    fields = {
        PASS_PROB: lead_pass_probabilities(leads, scenario, mix),
        PASS_U: leads.pass_u,
        HANDOFF_U: leads.handoff_u,
        HANDOFF_DELAY_UNIT: leads.handoff_delay_units,
        PATIENCE_UNIT: leads.patience_units,
        EFFORT_UNIT: leads.effort_units,
        LAG_UNIT: leads.lag_units,
        DEAL_VALUE: leads.deal_value,
        COMPETITOR_DAY: competitor_day,
        TIER: leads.tier,
        OVERFLOW_U: leads.overflow_u,
        OVERFLOW_DELAY_UNIT: leads.overflow_delay_units,
        GO_LIVE_UNIT: leads.go_live_units,
    }
    return {column: np.ones(n) if v is None else v for column, v in fields.items()}


def _side_by_side(fields: dict[int, np.ndarray]) -> np.ndarray:
    """The fields in one float matrix, in column order.

    One numpy call, not one per field: for an advocate's one or two referral
    chances, each call costs more than the copy (issue 20).
    """
    ordered = [fields[column] for column in sorted(fields)]
    table = np.concatenate([v if v.ndim == 2 else v[:, None] for v in ordered], axis=1, dtype=float)
    if table.shape[1] != LEAD_TABLE_WIDTH:
        raise ValueError(f"lead table fields span {table.shape[1]} columns, not {LEAD_TABLE_WIDTH}")
    return table


class LeadBook:
    """The leads of one structure run by id: the stream's, then referrals as they arrive.

    A stream lead's row comes from the block of ``lead_table`` that holds it,
    built when a lead of the block first asks (leads arrive in id order, so
    each block is built once and only one is kept). The block is kept as one
    ``array("d")``, so that a lead's row is a slice of it (``block_row``: a
    third of the cost of ``table_row``, for every lead of the run). Referral leads get ids
    from ``n_organic`` on, in the order they arrive in this run;
    ``referrals.referral_arrivals`` adds them (``add_referral``), nothing else
    changes the book.

    Attributes:
        stream: the replication's lead stream (shared by every structure).
        scenario: the scenario, to draw an advocate's referral chances.
        mix: the scenario's lead mix, worked out once for the run's lead tables
            and referral chances.
        n_organic: leads in the stream.
        block_first: id of the first lead of ``block``.
        block: the ``lead_table`` of leads ``block_first`` to ``block_first + TABLE_BLOCK_LEADS``,
            row after row in one ``array("d")``.
        referral_rows: each referral's row.
        referral_keys: each referral's seed key (``key``).
        referrals: what is known of each referral when it arrives (for the lead table).
    """

    __slots__ = (
        "stream", "scenario", "mix", "n_organic", "block_first", "block", "referral_rows",
        "referral_keys", "referrals",
    )  # fmt: skip

    def __init__(self, stream: LeadStream, scenario: Scenario):
        self.stream = stream
        self.scenario = scenario
        self.mix = LeadMix.of(scenario)
        self.n_organic = len(stream)
        self.block_first = -1
        self.block = array("d")
        self.referral_rows: list[Row] = []
        self.referral_keys: list[tuple[int, ...]] = []
        self.referrals = ReferralLeads()

    def row(self, lead: int) -> Row:
        """A lead's ``lead_table`` row (a referral's is kept as one)."""
        if lead >= self.n_organic:
            return self.referral_rows[lead - self.n_organic]
        first = lead - lead % TABLE_BLOCK_LEADS
        if first != self.block_first:
            part = self.stream.part(first, first + TABLE_BLOCK_LEADS)
            table = lead_table(part, self.scenario, self.mix)
            self.block, self.block_first = array("d", table.tobytes()), first
        return block_row(self.block, lead - first)

    def key(self, lead: int) -> tuple[int, ...]:
        """The ids that key a lead's own random streams, the same in every structure.

        A lead of the stream is its id; a referral is its referrer's key, the
        referral branch and its number among the referrer's chances.
        """
        if lead < self.n_organic:
            return (lead,)
        return self.referral_keys[lead - self.n_organic]

    def add_referral(self, key: tuple[int, ...], chance: ReferralChance) -> None:
        """Record the next lead that arrives during the run (a referral or an outbound lead)."""
        self.referral_rows.append(chance.row)
        self.referral_keys.append(key)
        facts = self.referrals
        facts.arrival_day.append(chance.day)
        facts.segment.append(chance.segment)
        facts.tier.append(chance.tier)
        facts.deal_value.append(chance.deal_value)
        facts.quality.append(chance.quality)
