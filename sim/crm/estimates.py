"""An estimate with its 95 % confidence interval and sample size, and the estimators.

A number measured from 40 leads deserves less trust than one measured from
4,000, as a win rate from one good month does against one from three years.
So every value calibration reads off an export is an ``Estimate``: the value,
its 95 % confidence interval, how many leads or spells it rests on, and a
note; ``Estimate.comment`` prints all of it for the scenario file.

The estimators: ``wilson`` (a proportion with its Wilson score interval),
``mean_time`` (a mean duration counting time already spent in unfinished
spells, the exponential maximum-likelihood mean), ``exponential_mean`` (from
total time at risk and events, with the chi-square interval) and ``cv`` (a
coefficient of variation). Times are in days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtri  # chi-square quantile; scipy.stats costs seconds to import

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A value with its 95 % confidence interval and sample size."""

    value: float
    low: float
    high: float
    n: int
    note: str = ""

    def covers(self, true_value: float) -> bool:
        """Whether the interval contains a value."""
        return self.low <= true_value <= self.high

    def comment(self, unit: str = "", digits: int = 3) -> str:
        """``95 % CI 0.28-0.32, n = 1,234`` (plus the note)."""
        if self.n == 0:
            text = "not measured"
        elif math.isnan(self.low):
            text = f"n = {self.n:,}"
        else:
            text = f"95 % CI {self.low:.{digits}g}-{self.high:.{digits}g}{unit}, n = {self.n:,}"
        return f"{text}; {self.note}" if self.note else text


def measured(estimate: Estimate) -> float:
    """The estimate's value, 0 when nothing was measured."""
    return estimate.value if estimate.n and not math.isnan(estimate.value) else 0.0


def wilson(successes: int, trials: int) -> Estimate:
    """A proportion with its Wilson score interval."""
    if trials == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    p = successes / trials
    denominator = 1 + Z95**2 / trials
    centre = (p + Z95**2 / (2 * trials)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / trials + Z95**2 / (4 * trials**2)) / denominator
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), trials)


def mean_time(completed: np.ndarray, censored: np.ndarray | None = None) -> Estimate:
    """Mean duration from completed spells plus the time already spent in censored ones.

    The mean is (sum of all time spent) / (completed spells), the exponential
    maximum-likelihood estimate; its CI uses the completed spells' spread.
    """
    completed = completed[~np.isnan(completed)]
    censored = np.zeros(0) if censored is None else censored[~np.isnan(censored)]
    k = len(completed)
    if k == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    value = (completed.sum() + censored.sum()) / k
    spread = completed.std(ddof=1) if k > 1 else value
    half = Z95 * spread / math.sqrt(k)
    return Estimate(value, max(0.0, value - half), value + half, k)


def exponential_mean(exposure: float, events: int) -> Estimate:
    """The mean of an exponential time from total time at risk and the events seen.

    ``exposure / events`` is the maximum-likelihood mean under censoring (each
    spell at risk counts, whether it ended in the event or not); the interval is
    the chi-square one, ``2 T / chi2(2 k)`` at 97.5 % and 2.5 %.
    """
    if events == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    value = exposure / events
    low = 2 * exposure / chdtri(2 * events, 0.025)
    high = 2 * exposure / chdtri(2 * events, 0.975)
    return Estimate(value, float(low), float(high), events)


def cv(values: np.ndarray) -> float:
    """Coefficient of variation (1.0 when it cannot be measured)."""
    values = values[~np.isnan(values)]
    if len(values) < 3 or values.mean() <= 0:
        return 1.0
    return float(values.std(ddof=1) / values.mean())
