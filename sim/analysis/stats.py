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
from scipy.special import stdtrit  # Student t quantile; scipy.stats costs seconds to import

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
