"""A market that changes: campaigns and step changes in arrivals, deal values drifting."""

import contextlib
import io

import numpy as np
import pytest

from sim.cli.main import main
from sim.config import potential
from sim.config.market import arrival_shape, peak_shape
from sim.model.leads import arrival_times, generate_leads
from tests.builders import scenario

SPRING = "leads.campaigns=[{name='spring', start_day=100.0, end_day=130.0, arrivals_factor=2.0}]"
HALVED = "leads.campaigns=[{name='price_rise', start_day=200.0, arrivals_factor=0.5}]"


def test_a_campaign_multiplies_arrivals_inside_its_window_only():
    sc = scenario("horizon_days=365.0", "leads.arrivals_per_day=10.0", SPRING)
    # 10 a day for 365 days, plus 10 more a day for the campaign's 30 days.
    assert potential.organic_leads(sc) == pytest.approx(3650 + 300, rel=1e-3)
    edges = np.array([0.0, 100.0, 130.0, 365.0])
    expected = np.array([1000.0, 600.0, 2350.0])
    counts = np.zeros(3)
    for seed in range(20):
        times = arrival_times(sc.leads, sc.horizon_days, np.random.default_rng(seed))
        counts += np.histogram(times, bins=edges)[0]
    mean = counts / 20
    assert np.all(np.abs(mean - expected) < 4 * np.sqrt(expected / 20))


def test_a_step_change_without_an_end_lasts_to_the_horizon():
    sc = scenario("horizon_days=365.0", "leads.arrivals_per_day=10.0", HALVED)
    assert potential.organic_leads(sc) == pytest.approx(2000 + 5 * 165, rel=1e-3)
    assert arrival_shape(sc.leads, np.array([199.9, 200.0, 364.0])) == pytest.approx(
        [1.0, 0.5, 0.5]
    )


def test_overlapping_campaigns_multiply():
    both = "leads.campaigns=[{name='a', start_day=10.0, end_day=20.0, arrivals_factor=2.0}, " + (
        "{name='b', start_day=15.0, arrivals_factor=1.5}]"
    )
    sc = scenario("horizon_days=50.0", both)
    shape = arrival_shape(sc.leads, np.array([5.0, 12.0, 17.0, 25.0]))
    assert shape == pytest.approx([1.0, 2.0, 3.0, 1.5])


@pytest.mark.parametrize(
    ("settings", "horizon", "peak"),
    [
        # a ramp peaks at its top month
        (("leads.monthly_factors=[0.25, 0.5, 1.0]",), 100.0, 1.0),
        # ... beaten by a x5 campaign in the first month (5 x 0.25)
        (
            (
                "leads.monthly_factors=[0.25, 0.5, 1.0]",
                "leads.campaigns=[{name='c', start_day=10.0, end_day=20.0, arrivals_factor=5.0}]",
            ),
            100.0,
            1.25,
        ),
        # doubling a year; a x2 campaign ending on day 200 peaks just before its end:
        # 2 x 2^(200/365) = 2.924 > 2^(365/365) = 2 at the horizon
        (
            (
                "leads.growth_per_year=1.0",
                "leads.campaigns=[{name='c', start_day=100.0, end_day=200.0, arrivals_factor=2.0}]",
            ),
            365.0,
            2.0 * 2.0 ** (200 / 365),
        ),
        # shrinking by half a year: the top is day 0
        (("leads.growth_per_year=-0.5",), 365.0, 1.0),
    ],
)
def test_the_peak_of_the_shape_is_exact(settings, horizon, peak):
    sc = scenario(f"horizon_days={horizon}", *settings)
    assert peak_shape(sc.leads, horizon) == pytest.approx(peak, rel=1e-12)
    days = np.linspace(0.0, horizon, 200_001)[:-1]
    assert arrival_shape(sc.leads, days).max() <= peak * (1 + 1e-12)


def test_deal_values_drift_with_the_arrival_day_and_nothing_else_moves():
    plain = scenario("horizon_days=365.0", "leads.arrivals_per_day=5.0")
    drifting = scenario(
        "horizon_days=365.0", "leads.arrivals_per_day=5.0", "leads.deal_value_growth_per_year=0.2"
    )
    a = generate_leads(plain, np.random.default_rng(11)).whole()
    b = generate_leads(drifting, np.random.default_rng(11)).whole()
    np.testing.assert_array_equal(a.arrival_day, b.arrival_day)
    np.testing.assert_array_equal(a.pass_u, b.pass_u)
    np.testing.assert_allclose(b.deal_value / a.deal_value, 1.2 ** (a.arrival_day / 365.0))
    # The quota rule's mean deal value follows: 1.2^(t/365) averaged over a flat year.
    assert potential.mean_value_drift(drifting) == pytest.approx(0.2 / np.log(1.2), rel=1e-6)
    assert potential.mean_value_drift(plain) == 1.0


def test_without_campaigns_or_drift_the_lead_stream_is_unchanged():
    plain = scenario("horizon_days=200.0", "leads.arrivals_per_day=5.0")
    empty = scenario(
        "horizon_days=200.0",
        "leads.arrivals_per_day=5.0",
        "leads.campaigns=[]",
        "leads.deal_value_growth_per_year=0.0",
    )
    a = generate_leads(plain, np.random.default_rng(3)).whole()
    b = generate_leads(empty, np.random.default_rng(3)).whole()
    np.testing.assert_array_equal(a.arrival_day, b.arrival_day)
    np.testing.assert_array_equal(a.deal_value, b.deal_value)


def test_a_campaign_ending_before_it_starts_is_one_line_and_exit_2(tmp_path):
    bad = "leads.campaigns=[{name='c', start_day=50.0, end_day=40.0, arrivals_factor=2.0}]"
    out = tmp_path / "out"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["simulate", "scenarios/allin.toml", "--set", bad, "--out", str(out)])
    assert code == 2
    assert "Traceback" not in err.getvalue()
    lines = [line for line in err.getvalue().splitlines() if "campaign" in line]
    assert len(lines) == 1 and "end_day" in lines[0] and "start_day" in lines[0]
    assert not out.exists()
