"""The lead table's named columns: each holds its field of the lead stream, none is left out."""

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
    TIER,
    lead_pass_probabilities,
    lead_table,
    per_stage,
)
from sim.model.leads import generate_leads

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
    leads = generate_leads(sc, np.random.default_rng(5))
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
