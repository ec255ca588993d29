"""The one t interval (``sim.analysis.stats``): by hand, against scipy, and its edge cases."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis import stats as salesim_stats
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


def test_paired_p_value_by_hand_and_against_scipy():
    # [1, 2, 3]: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 3.464 on 2 degrees of freedom.
    assert salesim_stats.paired_p_value([1.0, 2.0, 3.0]) == pytest.approx(0.0742, abs=5e-5)
    draws = np.random.default_rng(3).normal(0.4, 1.0, 12)
    expected = stats.ttest_1samp(draws, 0.0).pvalue
    assert salesim_stats.paired_p_value(draws) == pytest.approx(expected)
    assert math.isnan(salesim_stats.paired_p_value([1.0]))
    assert salesim_stats.paired_p_value([2.0, 2.0]) == 0.0
    assert salesim_stats.paired_p_value([0.0, 0.0]) == 1.0


def test_holm_steps_down_and_stops_at_the_first_failure():
    # Sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2: stop (0.04 is not even tried).
    assert salesim_stats.holm([0.01, 0.04, 0.03, 0.005]).tolist() == [True, False, False, True]
    assert salesim_stats.holm([0.01, math.nan]).tolist() == [True, False]  # m = 1
    assert salesim_stats.holm([0.02, 0.02], alpha=0.05).tolist() == [True, True]  # both <= 0.025


def test_benjamini_hochberg_steps_up():
    # Sorted 0.005, 0.01, 0.03, 0.04 against 0.0125, 0.025, 0.0375, 0.05: the largest passing
    # is the 4th, so all four reject (Holm rejects only two of these).
    assert salesim_stats.benjamini_hochberg([0.01, 0.04, 0.03, 0.005]).all()
    # 0.02 > 0.05/3 but 0.03 <= 2 * 0.05/3: both smallest reject; 0.9 does not.
    assert salesim_stats.benjamini_hochberg([0.9, 0.03, 0.02]).tolist() == [False, True, True]
    assert not salesim_stats.benjamini_hochberg([math.nan]).any()


def test_replications_to_separate_by_hand():
    # d = 1, sd = 2: n = 18 gives t(17) * 2 / sqrt 18 = 2.110 * 0.4714 = 0.9946 < 1,
    # n = 17 gives 2.120 * 2 / 4.123 = 1.028 >= 1.
    assert salesim_stats.replications_to_separate(1.0, 2.0) == 18
    assert salesim_stats.replications_to_separate(-1.0, 2.0) == 18
    assert salesim_stats.replications_to_separate(0.0, 2.0) is None
    assert salesim_stats.replications_to_separate(1e-6, 1.0) is None  # beyond any practical count
    assert salesim_stats.replications_to_separate(1.0, 0.0) == 2


def test_paired_test_leaves_out_undefined_replications():
    # [1, 2, 3] and a NaN: mean 2, sd 1, t = 3.464 on 2 degrees of freedom, 3 replications.
    test = salesim_stats.paired_test([1.0, 2.0, math.nan, 3.0])
    assert (test.difference, test.sd, test.replications) == (2.0, 1.0, 3)
    assert test.p_value == pytest.approx(0.0742, abs=5e-5)
    assert (test.ci_low, test.ci_high) == pytest.approx(mean_ci([1.0, 2.0, 3.0])[1:])
