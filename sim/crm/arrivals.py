"""The arrivals: how many leads a day, and how that changed over the export.

A yearly season fitted to one year of history cannot tell a season from a
trend or from the months a CRM was being adopted, so the season is fitted
only from ``SEASONAL_YEARS`` whole years; a shorter export keeps its months
as they were (``monthly_factors``), and the trend is measured either way
(``growth_per_year``). Times in days since the export's origin.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config.market import MONTH_DAYS
from sim.crm.estimates import Z95, Estimate


def arrival_rate(leads: int, horizon: float) -> Estimate:
    """Leads per day over the observed days (Poisson, normal-approximation CI)."""
    half = Z95 * math.sqrt(leads) / horizon
    return Estimate(leads / horizon, (leads / horizon) - half, (leads / horizon) + half, leads)


SEASONAL_YEARS = 2
"""Whole years an export must cover before a yearly season is fitted; a shorter one gets
its arrivals month by month instead."""


def monthly_factors(arrival_day: np.ndarray, horizon: float) -> list[float]:
    """Each month's arrival rate over the export's mean (months of 365.25 / 12 days).

    The last month may be partial: its rate is over the days it was observed.
    Empty when the export covers two years or more (a season is fitted then).
    """
    if (horizon + 1.0) // 365 >= SEASONAL_YEARS or horizon <= 0:
        return []
    months = max(1, math.ceil(horizon / MONTH_DAYS - 1e-9))
    edges = np.minimum(np.arange(months + 1) * MONTH_DAYS, horizon)
    counts = np.histogram(arrival_day, bins=edges)[0]
    days = np.diff(edges)
    mean_rate = len(arrival_day) / horizon
    return [float(c / d / mean_rate) if d > 0 and mean_rate > 0 else 1.0
            for c, d in zip(counts, days, strict=True)]  # fmt: skip


def growth_per_year(arrival_day: np.ndarray, horizon: float) -> Estimate:
    """The arrival rate's yearly trend: a log-linear Poisson fit over whole months.

    ``log rate = a + b t``, fitted by iteratively reweighted least squares (the
    Poisson maximum likelihood); growth = exp(365 b) - 1, its CI from b's.
    """
    months = int(horizon // MONTH_DAYS)
    edges = np.arange(months + 1) * MONTH_DAYS
    counts = np.histogram(arrival_day, bins=edges)[0].astype(float)
    if months < 3 or counts.sum() < 30 or (counts == 0).any():
        return Estimate(
            0.0, math.nan, math.nan, 0, "not measured: under three whole months of leads"
        )  # fmt: skip
    x = np.column_stack([np.ones(months), (edges[:-1] + MONTH_DAYS / 2) / 365.0])
    beta = np.array([math.log(max(counts.mean(), 0.5)), 0.0])
    for _ in range(25):
        mu = np.exp(x @ beta)
        beta = beta + np.linalg.solve(x.T @ (mu[:, None] * x), x.T @ (counts - mu))
    cov = np.linalg.inv(x.T @ (np.exp(x @ beta)[:, None] * x))
    slope, half = beta[1], Z95 * math.sqrt(cov[1, 1])
    return Estimate(
        math.expm1(slope), math.expm1(slope - half), math.expm1(slope + half), int(counts.sum()),
        f"log-linear fit over {months} whole months",
    )  # fmt: skip


def seasonality(arrival_day: np.ndarray, horizon: float) -> tuple[Estimate, float] | None:
    """Amplitude and peak day of the first yearly harmonic, over whole observed years."""
    years = int((horizon + 1.0) // 365)  # a year observed to the last day counts whole
    if years < SEASONAL_YEARS:  # one year cannot tell a season from a trend or a ramp
        return None
    times = arrival_day[arrival_day < years * 365]
    n = len(times)
    if n < 10:
        return None
    phase = np.exp(2j * np.pi * times / 365.0).sum()
    amplitude = 2 * abs(phase) / n
    half = Z95 * math.sqrt(2 / n)
    peak = (np.angle(phase) / (2 * np.pi) * 365.0) % 365.0
    return Estimate(amplitude, max(0.0, amplitude - half), amplitude + half, n), float(peak)


def busiest_month(
    factors: list[float], season: tuple[Estimate, float] | None, horizon: float
) -> float:
    """The busiest month's arrival rate over the mean, as the calibrated scenario simulates it.

    The largest monthly factor (a last month observed for under half its days
    left out: a few days' arrivals say little), else the seasonal peak
    (1 + amplitude), else 1.
    """
    if factors:
        partial = horizon - (len(factors) - 1) * MONTH_DAYS
        whole = factors[:-1] if partial < MONTH_DAYS / 2 and len(factors) > 1 else factors
        return max(1.0, max(whole))
    if season is not None:
        return 1.0 + season[0].value
    return 1.0
