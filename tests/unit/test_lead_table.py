"""The lead table's named columns: each holds its field of the lead stream, none is left out."""

from array import array

import numpy as np

from sim.config.scenario import Scenario
from sim.model.lead_table import (
    COMPETITOR_DAY,
    DEAL_VALUE,
    EFFORT_UNIT,
    GO_LIVE_UNIT,
    HANDOFF_DELAY_UNIT,
    HANDOFF_U,
    LAG_UNIT,
    LEAD_TABLE_WIDTH,
    OVERFLOW_DELAY_UNIT,
    OVERFLOW_U,
    PASS_PROB,
    PASS_U,
    PATIENCE_UNIT,
    TABLE_BLOCK_LEADS,
    TIER,
    LeadBook,
    lead_pass_probabilities,
    lead_table,
    per_stage,
    referral_chance_list,
    referral_table,
)
from sim.model.leads import generate_leads, referral_chances

STREAM_FIELDS = {
    PASS_U: "pass_u",
    HANDOFF_U: "handoff_u",
    HANDOFF_DELAY_UNIT: "handoff_delay_units",
    PATIENCE_UNIT: "patience_units",
    EFFORT_UNIT: "effort_units",
    LAG_UNIT: "lag_units",
}
SCALAR_FIELDS = {
    DEAL_VALUE: "deal_value",
    TIER: "tier",
    OVERFLOW_U: "overflow_u",
    OVERFLOW_DELAY_UNIT: "overflow_delay_units",
    GO_LIVE_UNIT: "go_live_units",
}


def test_the_named_columns_cover_the_table_once():
    widths = {first: 3 for first in (PASS_PROB, *STREAM_FIELDS)}
    widths |= {column: 1 for column in (COMPETITOR_DAY, *SCALAR_FIELDS)}
    covered = sorted(c for first, width in widths.items() for c in range(first, first + width))
    assert covered == list(range(LEAD_TABLE_WIDTH))


def test_each_named_column_holds_its_field_of_the_stream():
    sc = Scenario.from_file("scenarios/baseline.toml", ["competition.enabled=true"])
    leads = generate_leads(sc, np.random.default_rng(5)).whole()
    table = lead_table(leads, sc)
    assert table.shape == (len(leads), LEAD_TABLE_WIDTH) and not np.isnan(table).any()
    assert np.array_equal(table[:, per_stage(PASS_PROB)], lead_pass_probabilities(leads, sc))
    for first, name in STREAM_FIELDS.items():
        assert np.array_equal(table[:, per_stage(first)], getattr(leads, name)), name
    for column, name in SCALAR_FIELDS.items():
        assert np.array_equal(table[:, column], getattr(leads, name)), name
    deadlines = leads.competitor_deadlines(
        sc.competition.contested_share, sc.competition.mean_decision_days
    )
    assert np.array_equal(table[:, COMPETITOR_DAY], deadlines)


def test_a_stream_part_is_its_leads_and_nothing_else():
    sc = Scenario.from_file("scenarios/baseline.toml")
    leads = generate_leads(sc, np.random.default_rng(2)).whole()
    part = leads.part(10, 15)
    assert len(part) == 5 and part.segment_names == leads.segment_names
    assert np.array_equal(part.arrival_day, leads.arrival_day[10:15])
    assert np.array_equal(part.effort_units, leads.effort_units[10:15])
    assert np.shares_memory(part.pass_u, leads.pass_u)  # a view: nothing copied
    assert len(leads.part(len(leads) - 2, len(leads) + 100)) == 2


def test_the_lead_book_serves_the_lead_table_block_by_block():
    overrides = ["competition.enabled=true", "leads.arrivals_per_day=20"]
    sc = Scenario.from_file("scenarios/baseline.toml", overrides)
    leads = generate_leads(sc, np.random.default_rng(4))
    assert len(leads) > TABLE_BLOCK_LEADS  # at least two blocks
    table = lead_table(leads, sc)
    book = LeadBook(leads, sc)
    # In arrival order across a block boundary, then back into an earlier block.
    for lead in (0, 1, TABLE_BLOCK_LEADS - 1, TABLE_BLOCK_LEADS, len(leads) - 1, 5):
        row = book.row(lead)
        assert isinstance(row, array) and list(row) == table[lead].tolist(), lead
    # One block is kept, not the whole table.
    assert len(book.block) <= TABLE_BLOCK_LEADS * LEAD_TABLE_WIDTH


def test_referral_chances_one_by_one_hold_the_stream_facts_and_rows():
    sc = Scenario.from_file("scenarios/baseline.toml", ["referrals.enabled=true"])
    chances = referral_chances(sc, 20.0, np.random.default_rng(6))
    listed = referral_chance_list(chances, sc)
    rows = referral_table(chances, sc)
    assert len(listed) == len(chances) > 1
    for j, chance in enumerate(listed):
        assert chance.day == chances.arrival_day[j] and chance.segment == chances.segment[j]
        assert chance.tier == chances.tier[j] and chance.deal_value == chances.deal_value[j]
        assert chance.quality == chances.quality[j] and list(chance.row) == rows[j].tolist()
