"""Quarterly stage-weighted pipeline forecasts against the bookings that came."""

import math

import pandas as pd
import pytest

from sim.analysis import forecast
from tests.builders import scenario

NAN = math.nan


def test_forecast_weights_open_leads_by_their_stage_and_compares_with_bookings():
    sc = scenario(
        "horizon_days=100.0",
        "quotas.period_days=50.0",
        "stages.prospecting.pass_prob=0.5",
        "stages.qualification.pass_prob=0.5",
        "stages.closing.pass_prob=0.5",
    )
    # Weights from a stage: prospecting 0.125, qualification 0.25, closing 0.5.
    leads = pd.DataFrame(
        {
            "arrival_day": [0.0, 0.0, 10.0, 60.0],
            "prospecting_queue_day": [0.0, 0.0, 10.0, 60.0],
            "qualification_queue_day": [NAN, 20.0, 20.0, NAN],
            "closing_queue_day": [NAN, 40.0, NAN, NAN],
            "end_day": [NAN, 70.0, 30.0, NAN],
            "outcome": ["open", "won", "lost", "open"],
            "deal_value": [800.0, 1000.0, 400.0, 999.0],
        }
    ).assign(structure="conveyor", replication=0)
    table = forecast.forecast_table(leads, sc).set_index("period_start_day")
    # Day 0: leads 0 and 1 are open at prospecting: (800 + 1000) x 0.125 = 225, nothing won.
    assert table.loc[0.0, "forecast"] == pytest.approx(225.0)
    assert table.loc[0.0, "actual"] == 0.0 and math.isnan(table.loc[0.0, "error"])
    # Day 50: lead 0 at prospecting (100), lead 1 at closing (500); lead 1's 1,000 is won.
    assert table.loc[50.0, "forecast"] == pytest.approx(600.0)
    assert table.loc[50.0, "actual"] == 1000.0
    assert table.loc[50.0, "error"] == pytest.approx(-0.4)
    kpis = forecast.forecast_kpis(leads, sc)
    assert kpis == pytest.approx({"forecast_abs_error": 0.4, "forecast_bias": -0.4})
