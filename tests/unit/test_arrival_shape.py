"""Arrivals that change over time: the months as they were, and a trend."""

import math

import numpy as np
import pytest

from sim.config import potential
from sim.config.market import MONTH_DAYS, arrival_shape
from sim.crm.arrivals import growth_per_year, monthly_factors
from sim.crm.calibrate import calibrate
from sim.crm.read import read_export
from sim.crm.write import export_crm
from sim.model.leads import arrival_times
from sim.model.runner import simulate
from tests.builders import scenario

RAMP = "leads.monthly_factors=[0.25, 0.5, 1.0]"


def test_monthly_factors_shape_the_arrivals_month_by_month():
    sc = scenario("horizon_days=121.75", "leads.arrivals_per_day=20.0", RAMP)
    # Months of 30.44 days at 5, 10, 20 and (the last factor holding) 20 leads a day.
    expected = np.array([0.25, 0.5, 1.0, 1.0]) * 20.0 * MONTH_DAYS
    counts = np.zeros(4)
    for seed in range(40):
        times = arrival_times(sc.leads, sc.horizon_days, np.random.default_rng(seed))
        counts += np.histogram(times, bins=np.arange(5) * MONTH_DAYS)[0]
    mean = counts / 40
    assert np.all(np.abs(mean - expected) < 4 * np.sqrt(expected / 40))
    assert potential.organic_leads(sc) == pytest.approx(expected.sum(), rel=1e-3)


def test_a_trend_compounds_from_the_end_of_the_months():
    sc = scenario("horizon_days=730.0", "leads.growth_per_year=1.0")
    # Doubling every year from day 0: 365 / ln 2 x (2^2 - 1) leads at 1 a day.
    assert potential.organic_leads(sc) == pytest.approx(365 / math.log(2) * 3, rel=1e-4)
    months = scenario("horizon_days=730.0", RAMP, "leads.growth_per_year=1.0").leads
    end = 3 * MONTH_DAYS
    shape = arrival_shape(months, np.array([0.0, end - 1, end + 365.0]))
    assert shape == pytest.approx([0.25, 1.0, 2.0])


def test_without_months_or_trend_the_lead_stream_is_unchanged():
    # Output hashes guard this too; here the draws themselves.
    plain = scenario("horizon_days=200.0", "leads.arrivals_per_day=5.0")
    flat = scenario("horizon_days=200.0", "leads.arrivals_per_day=5.0", "leads.monthly_factors=[]")
    a = arrival_times(plain.leads, 200.0, np.random.default_rng(3))
    b = arrival_times(flat.leads, 200.0, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_a_short_export_with_a_ramp_is_calibrated_month_by_month(tmp_path):
    truth = scenario(
        "horizon_days=304.375",
        "seed=5",
        "leads.arrivals_per_day=10.0",
        "leads.monthly_factors=[0.2, 0.4, 0.6, 0.8, 1.0]",
        "structures.allin.generalists=30",
    )
    leads = simulate(truth, ("allin",)).leads
    export_crm(leads, "leads").to_csv(tmp_path / "export.csv", index=False)
    history = read_export(tmp_path / "export.csv")
    cal = calibrate(history, "allin")
    assert cal.seasonality is None  # under two years: no season from a ramp
    truth_shape = np.array([0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1, 1])
    relative = np.array(cal.monthly_factors) * cal.arrivals_per_day.value / 10.0
    # each month's rate within 4 Poisson standard deviations of the truth
    counts = truth_shape * 10.0 * MONTH_DAYS
    assert np.all(np.abs(relative - truth_shape) * 10.0 * MONTH_DAYS < 4 * np.sqrt(counts))
    growth = growth_per_year(history.leads["arrival_day"].to_numpy(), history.as_of_day)
    assert growth.low > 0  # a ramp reads as growth


def test_monthly_factors_are_empty_from_two_years_on():
    days = np.random.default_rng(1).uniform(0, 800, 4000)
    assert monthly_factors(days, 800.0) == []
    assert len(monthly_factors(days, 700.0)) == math.ceil(700 / MONTH_DAYS)
