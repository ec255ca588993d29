"""The cycle's shape: customer lags fitted so the simulated won cycle matches history.

An export without stage dates shows only when a deal was engaged and when
it closed; one with stage dates but no ``worked`` timestamps shows each
stage's time, but not which part of it the rep worked and which part the
customer held the deal. Splitting that time evenly over the stages and adding the queues
the simulation makes on top gives the right mean at best, and the wrong
shape: a median above the mean, or a long tail, is lost. So, like a tailor
taking in a suit after the first fitting, ``fit_cycle`` simulates the team as
it was over the export's period and adjusts two numbers until the won
deals' simulated cycle (arrival to win) has history's median and 90th
percentile: a scale on every stage's customer lag (the time the customer
holds the deal, which the export cannot separate from the rest) and the
lags' coefficient of variation (their shape). The lost deals' cycle is
reported beside it, not fitted: it depends on where deals are lost, which
such an export does not say.

Secant steps on common random numbers (the same seed every time, so that a
change in the result comes from the change in the lags, not from luck):
first the scale on the median, then the shape on the ratio of the 90th
percentile to the median, twice over, and the scale on the median once more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from sim.config.scenario import STAGES, Scenario
from sim.crm.calibrate import Calibration
from sim.crm.estimates import Estimate
from sim.crm.read import closed_cycles

FIT_REPLICATIONS = 2
"""Replications per evaluation: twice the export's wins to measure each cycle on."""
FIT_ROUNDS = 2
"""Rounds of (scale on the median, then shape on the tail)."""
SECANT_STEPS = 4
CLOSE_ENOUGH = 0.02
"""A secant stops within 2 % of its target (the back-test allows 15 % on the median)."""
MIN_SCALE, MAX_SCALE = 0.01, 20.0
MIN_CV, MAX_CV = 0.05, 1.5
"""The lags' coefficient of variation stays at most 1.5: a gamma with a larger one draws
mostly lags near 0, the median cycle then hardly moves with the lags' scale, and the
scale's secant runs away (a Pipedrive-shaped export's fit ended 73 % off at cv 2.9)."""


@dataclass(frozen=True)
class CycleFit:
    """History's won and lost cycles against the fitted simulation's (days)."""

    won_history: tuple[float, float]
    won_simulated: tuple[float, float]
    lost_history: tuple[float, float]
    lost_simulated: tuple[float, float]
    scale: float
    lag_cv: float

    def lines(self) -> list[str]:
        """The fit in words: median and 90th percentile, history against simulation."""

        def pair(values: tuple[float, float]) -> str:
            return f"median {values[0]:.1f}, p90 {values[1]:.1f}"

        return [
            f"cycle of won deals (days): history {pair(self.won_history)}; fitted simulation "
            f"{pair(self.won_simulated)} (lags x {self.scale:.3g}, lag_cv {self.lag_cv:.2f})",
            f"cycle of lost deals (days, not fitted): history {pair(self.lost_history)}; "
            f"simulation {pair(self.lost_simulated)}",
        ]


def cycle_quantiles(leads, outcome: str) -> tuple[float, float]:
    """Median and 90th percentile of arrival to close of the leads with ``outcome``."""
    cycle = closed_cycles(leads, outcome).to_numpy(dtype=float)
    if len(cycle) == 0:
        return math.nan, math.nan
    return float(np.median(cycle)), float(np.quantile(cycle, 0.9))


def fit_cycle(cal: Calibration, scenario: Scenario) -> Calibration | None:
    """The calibration with its lags fitted to history's won cycle (None when nothing to fit).

    Args:
        cal: the estimates (lags split evenly over the stages, no stage dates).
        scenario: the scenario written from them (``calibrated_scenario``).
    """
    target = cycle_quantiles(cal.history.leads, "won")
    if any(math.isnan(v) for v in target) or target[0] <= 0:
        return None
    base = scenario.replace(
        [f"horizon_days={max(1.0, math.ceil(cal.history.as_of_day))}",
         f"replications={FIT_REPLICATIONS}"]
    )  # fmt: skip
    lags = {s: scenario.stages.get(s).mean_lag_days for s in STAGES}
    scale, shape = 1.0, scenario.stages.get(STAGES[0]).lag_cv

    def run(scale: float, shape: float):
        return _simulated_leads(base, cal.structure, lags, scale, shape)

    for _ in range(FIT_ROUNDS):
        scale = _secant(partial(_median_error, run, shape, target), scale, MIN_SCALE, MAX_SCALE)
        shape = _secant(partial(_tail_error, run, scale, target), shape, MIN_CV, MAX_CV)
    # The median last: the back-test holds it to 15 %, the tail only shows.
    scale = _secant(partial(_median_error, run, shape, target), scale, MIN_SCALE, MAX_SCALE)
    leads = run(scale, shape)
    fit = CycleFit(
        target, cycle_quantiles(leads, "won"), cycle_quantiles(cal.history.leads, "lost"),
        cycle_quantiles(leads, "lost"), scale, shape,
    )  # fmt: skip
    note = f"fitted: the won cycle's median and p90 (lags x {scale:.3g})"
    return replace(
        cal,
        lag_days={
            s: Estimate(lags[s] * scale, math.nan, math.nan, cal.lag_days[s].n, note)
            for s in STAGES
        },
        lag_cv=dict.fromkeys(STAGES, shape),
        cycle_fit=fit,
    )


def _median_error(run, shape: float, target: tuple[float, float], scale: float) -> float:
    """How far the simulated won median is from history's (relative)."""
    return cycle_quantiles(run(scale, shape), "won")[0] / target[0] - 1.0


def _tail_error(run, scale: float, target: tuple[float, float], shape: float) -> float:
    """How far the simulated p90 / median ratio of won cycles is from history's (relative)."""
    median, p90 = cycle_quantiles(run(scale, shape), "won")
    return (p90 / median) / (target[1] / target[0]) - 1.0 if median > 0 else math.nan


def _simulated_leads(base: Scenario, structure: str, lags: dict, scale: float, shape: float):
    from sim.model.runner import simulate

    changes = [f"stages.{s}.mean_lag_days={min(365.0, lags[s] * scale)!r}" for s in STAGES]
    changes += [f"stages.{s}.lag_cv={shape!r}" for s in STAGES]
    return simulate(base.replace(changes), (structure,)).leads


def _secant(error, start: float, low: float, high: float) -> float:
    """A root of ``error`` near ``start`` in [low, high], by secant steps on a log scale.

    Returns the best point it evaluated: a simulated error is noisy (a change
    of lags reorders the queues), so the last step's point, never evaluated,
    could land far off (a European export's fit ended 22 % short that way).
    """
    x0 = start
    f0 = error(x0)
    best = (abs(f0), x0)
    if abs(f0) < CLOSE_ENOUGH:
        return x0
    x1 = min(high, max(low, x0 * (1.2 if f0 < 0 else 0.8)))
    for _ in range(SECANT_STEPS):
        f1 = error(x1)
        if math.isnan(f1) or f1 == f0:
            break
        best = min(best, (abs(f1), x1))
        if abs(f1) < CLOSE_ENOUGH:
            break
        step = f1 * (math.log(x1) - math.log(x0)) / (f1 - f0)
        x0, f0 = x1, f1
        x1 = min(high, max(low, x1 * math.exp(max(-1.0, min(1.0, -step)))))
    return best[1]
