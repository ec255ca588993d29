"""The one t interval (``sim.analysis.stats``): by hand, against scipy, and its edge cases."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.stats import mean_ci, t_interval, with_ci


def test_a_hand_computed_interval():
    # 1..5: mean 3, sd sqrt(2.5); t(4 df, 0.975) = 2.7764 from the table: 2.7764 * 0.7071 = 1.9632.
    mean, half, low, high = t_interval(3.0, math.sqrt(2.5), 5)
    assert mean == 3.0
    assert half == pytest.approx(1.96324, abs=1e-5)
    assert (low, high) == pytest.approx((3.0 - 1.96324, 3.0 + 1.96324), abs=1e-5)
    assert mean_ci([1, 2, 3, 4, 5]) == pytest.approx((3.0, 1.03676, 4.96324), abs=1e-5)
    # 2, 4, 9 at 90 %: mean 5, sd sqrt(13); t(2 df, 0.95) = 2.9200: 2.92 * 3.6056 / 1.7321 = 6.0784.
    assert mean_ci([2, 4, 9], confidence=0.90) == pytest.approx((5.0, -1.0784, 11.0784), abs=1e-4)


@pytest.mark.parametrize("n", [2, 3, 5, 30])
@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_agrees_with_scipy(n, confidence):
    values = np.random.default_rng(n).normal(10.0, 3.0, n)
    low, high = stats.t.interval(confidence, n - 1, loc=values.mean(), scale=stats.sem(values))
    mean, got_low, got_high = mean_ci(values, confidence)
    assert mean == pytest.approx(values.mean())
    assert (got_low, got_high) == pytest.approx((low, high), rel=1e-12)


def test_fewer_than_two_values_have_no_interval():
    assert np.isnan(mean_ci([])).all()
    mean, low, high = mean_ci([4.0, math.nan])
    assert mean == 4.0 and math.isnan(low) and math.isnan(high)
    interval = t_interval(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 1.0]), np.array([0, 1, 2]))
    assert np.isnan(interval.half_width[:2]).all() and np.isfinite(interval.half_width[2])
    assert np.isnan(interval.low[:2]).all() and np.isnan(interval.high[:2]).all()


def test_arrays_give_the_scalar_intervals_bit_for_bit():
    rng = np.random.default_rng(1)
    samples = [rng.normal(0, 1, n) for n in (2, 3, 7, 20)]
    means = np.array([s.mean() for s in samples])
    sds = np.array([s.std(ddof=1) for s in samples])
    sizes = np.array([len(s) for s in samples])
    vector = t_interval(means, sds, sizes)
    for k, sample in enumerate(samples):
        _, low, high = mean_ci(sample)
        assert (vector.low[k], vector.high[k]) == (low, high)


def test_with_ci_gives_the_interval_of_each_column():
    runs = pd.DataFrame({"x": [1.0, 2.0, 4.0]})
    row = with_ci(runs, ("x",))
    assert (row["x"], row["x_ci_low"], row["x_ci_high"]) == mean_ci(runs["x"])
