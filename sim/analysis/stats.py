"""The confidence interval every table of salesim uses: a two-sided Student t interval.

A KPI is measured once per replication; replications are independent, so
their mean is the estimate and the spread between them says how far the true
mean may lie. With ``n`` replications of mean ``m`` and standard deviation
``s`` (``n - 1`` in the denominator), the interval is ``m ± t * s / sqrt(n)``,
``t`` the Student quantile of ``n - 1`` degrees of freedom at ``0.5 +
confidence / 2``. Think of five sales quarters: their average is the
forecast, and the interval widens when the quarters disagree and narrows as
more of them are seen. With fewer than two values there is no spread to
measure, so the half-width and both bounds are NaN.

``t_interval`` takes means, standard deviations and counts (numbers or
arrays, so a grouped table gets all its intervals at once); ``mean_ci``
takes the values themselves, and ``with_ci`` the per-run columns of a table
(``column``, ``column_ci_low``, ``column_ci_high`` for each). Pure numpy and
scipy's ``stdtrit`` (importing ``scipy.stats`` costs seconds).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import stdtr, stdtrit  # Student t; scipy.stats costs seconds to import

CONFIDENCE = 0.95
"""The coverage of every interval salesim prints, unless a caller asks for another."""


class Interval(NamedTuple):
    """A mean with its two-sided t interval (each a number or an array)."""

    mean: float | np.ndarray
    half_width: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray


def t_interval(
    mean: float | np.ndarray,
    sd: float | np.ndarray,
    n: float | np.ndarray,
    confidence: float = CONFIDENCE,
) -> Interval:
    """The t interval of a mean from its sample's standard deviation and size.

    Args:
        mean: sample mean(s).
        sd: sample standard deviation(s), ``ddof=1``.
        n: number(s) of values; fewer than 2 gives NaN half-width and bounds.
        confidence: the coverage, e.g. 0.95.

    Returns:
        ``Interval(mean, half_width, low, high)``, broadcast like the inputs
        (numpy floats for scalar inputs).
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        quantile = np.where(n >= 2, stdtrit(np.maximum(n - 1, 1), 0.5 + confidence / 2), np.nan)
        half = quantile * sd / np.sqrt(n)
    return Interval(mean, half, mean - half, mean + half)


def mean_ci(
    values: pd.Series | np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """Mean and two-sided t confidence interval of independent replications.

    NaN values are left out.

    Returns:
        ``(mean, low, high)``; the bounds are NaN with fewer than two values,
        all three with none.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if len(x) < 2:
        return (mean, math.nan, math.nan)
    interval = t_interval(mean, x.std(ddof=1), len(x), confidence)
    return (mean, float(interval.low), float(interval.high))


def with_ci(runs: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, float]:
    """``column``, ``column_ci_low``, ``column_ci_high`` for each column of per-run values."""
    out = {}
    for column in columns:
        mean, low, high = mean_ci(runs[column])
        out.update({column: mean, f"{column}_ci_low": low, f"{column}_ci_high": high})
    return out


def paired_p_value(differences: pd.Series | np.ndarray) -> float:
    """Two-sided p-value of a paired t test that the mean difference is 0.

    NaN values are left out. NaN with fewer than two values; with no spread,
    0 if the mean is not 0 and 1 if it is.
    """
    x = np.asarray(differences, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return math.nan
    sd = float(x.std(ddof=1))
    mean = float(x.mean())
    if sd == 0:
        return 0.0 if mean != 0 else 1.0
    statistic = abs(mean) / (sd / math.sqrt(len(x)))
    return float(2 * stdtr(len(x) - 1, -statistic))


def _sorted_p_values(p_values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The p-values as floats, an all-False reject mask, the finite ones' indices by p.

    Ties keep their input order.
    """
    p = np.asarray(p_values, dtype=float)
    finite = np.flatnonzero(np.isfinite(p))
    return p, np.zeros(len(p), dtype=bool), finite[np.argsort(p[finite], kind="stable")]


def holm(p_values: pd.Series | np.ndarray, alpha: float = 1 - CONFIDENCE) -> np.ndarray:
    """Holm's step-down: which of a family of tests reject, at family-wise error ``alpha``.

    Sort the ``m`` p-values; the ``k``-th smallest (from 0) rejects when it and
    every smaller one are at most ``alpha / (m - k)``. The chance that any of
    the family is called significant by luck stays below ``alpha``, whatever
    the tests' dependence. NaN p-values never reject and do not count in ``m``.

    Returns:
        Booleans in the input's order.
    """
    p, reject, ordered = _sorted_p_values(p_values)
    m = len(ordered)
    for k, index in enumerate(ordered):
        if p[index] > alpha / (m - k):
            break
        reject[index] = True
    return reject


def benjamini_hochberg(
    p_values: pd.Series | np.ndarray, rate: float = 1 - CONFIDENCE
) -> np.ndarray:
    """Benjamini and Hochberg's step-up: which tests reject, false discovery rate ``rate``.

    Sort the ``m`` p-values; find the largest ``k`` (from 1) whose ``k``-th
    smallest is at most ``k * rate / m``, and reject those ``k``. Of the
    differences called significant, at most a share ``rate`` are expected to
    be luck (for independent or positively dependent tests, as paired KPIs of
    one run are). NaN p-values never reject and do not count in ``m``.

    Returns:
        Booleans in the input's order.
    """
    p, reject, ordered = _sorted_p_values(p_values)
    m = len(ordered)
    if m == 0:
        return reject
    passing = np.flatnonzero(p[ordered] <= rate * np.arange(1, m + 1) / m)
    if len(passing):
        reject[ordered[: passing[-1] + 1]] = True
    return reject


MAX_REPLICATIONS_TO_SEPARATE = 100_000
"""Beyond this the answer is "practically never": the difference is too small to matter."""


def replications_to_separate(
    difference: float, sd: float, alpha: float = 1 - CONFIDENCE
) -> int | None:
    """Replications after which a paired difference this large would be told apart from 0.

    The smallest ``n`` whose two-sided t interval ``t(1 - alpha / 2, n - 1) *
    sd / sqrt(n)`` is narrower than ``|difference|``: the count a sales leader
    needs if the difference is as large as measured and the pairs vary as much.
    It is a planning figure, not a promise: the next replications move both.

    Returns:
        ``n`` (at least 2), or None when the difference is 0 or undefined or
        ``n`` would exceed ``MAX_REPLICATIONS_TO_SEPARATE``.
    """
    if not (math.isfinite(difference) and math.isfinite(sd)) or difference == 0:
        return None
    if sd == 0:
        return 2
    quantile = float(stdtrit(1e9, 1 - alpha / 2))  # the normal's: a lower bound for any n
    n = max(2, math.ceil((quantile * sd / abs(difference)) ** 2))
    while n <= MAX_REPLICATIONS_TO_SEPARATE:
        if float(stdtrit(n - 1, 1 - alpha / 2)) * sd / math.sqrt(n) < abs(difference):
            return n
        n += 1
    return None


class PairedTest(NamedTuple):
    """A paired comparison: the mean difference, its t interval, t test and spread."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    sd: float
    replications: int


def paired_test(differences: pd.Series | np.ndarray, confidence: float = CONFIDENCE) -> PairedTest:
    """Mean, t interval, two-sided p-value and standard deviation of per-replication differences.

    NaN values (a KPI undefined in a replication) are left out; ``replications``
    counts the rest.
    """
    x = np.asarray(differences, dtype=float)
    x = x[~np.isnan(x)]
    mean, low, high = mean_ci(x, confidence)
    sd = float(x.std(ddof=1)) if len(x) > 1 else math.nan
    return PairedTest(mean, low, high, paired_p_value(x), sd, len(x))


def replications_needed(
    differences: pd.Series, sds: pd.Series, settled: pd.Series, alpha: float
) -> list[float]:
    """``replications_to_separate`` per row of a table, NaN where settled or never."""
    return [
        math.nan if done else (replications_to_separate(d, sd, alpha) or math.nan)
        for d, sd, done in zip(differences, sds, settled, strict=True)
    ]
