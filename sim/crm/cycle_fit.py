"""The cycle's shape: lags (and where deals are lost) fitted so simulated cycles match history.

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
lags' coefficient of variation (their shape).

The lost deals' cycle is set by where deals are lost: a lost deal fails at
the stage whose pass probability fails, after that stage's wait, effort and
lag. An export with stage dates measures each stage's pass probability, and
the lost cycle is only reported. One without them knows the win rate, not
where the others were lost, nor how long each stage took. Two more numbers
are then fitted to the lost deals' cycle (``sim.crm.calibrate.loss_weights``
shapes both): how the won cycle's time is shared over the stages, on the lost
median (mostly the deals lost at the first stage, so that stage's time), and
how the win rate's losses are shared, on the lost 90th percentile (deals
lost later stretch the tail). The effort from throughput and the team are
recomputed at each split (fewer leads reach the later stages when more are
lost early).

Secant steps on common random numbers (the same seed every time, so that a
change in the result comes from the change in the lags, not from luck):
first the scale on the median, then the shape on the ratio of the 90th
percentile to the median, then (without stage dates) the two splits on the
lost cycle, twice over, and the scale on the won median once more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from sim.config.scenario import STAGES, Scenario
from sim.crm.calibrate import Calibration, loss_weights, with_loss_split
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
MIN_SPLIT, MAX_SPLIT = 0.02, 50.0
"""The split of the win rate over the stages (``loss_weights``): at 0.02 practically every
lost deal fails in prospecting, at 50 in closing."""


@dataclass(frozen=True)
class CycleFit:
    """History's won and lost cycles against the fitted simulation's (days).

    ``lost_at`` is each stage's share of the lost deals the fitted pass
    probabilities imply and ``time_in_work`` each stage's share of the won
    cycle's time, when they were fitted (an export without stage dates), else
    empty: the export's stage dates set them.
    """

    won_history: tuple[float, float]
    won_simulated: tuple[float, float]
    lost_history: tuple[float, float]
    lost_simulated: tuple[float, float]
    scale: float
    lag_cv: float
    lost_at: dict[str, float] = field(default_factory=dict)
    time_in_work: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The fit in words: median and 90th percentile, history against simulation."""

        def pair(values: tuple[float, float]) -> str:
            return f"median {values[0]:.1f}, p90 {values[1]:.1f}"

        if self.lost_at:
            lost = ", ".join(f"{stage} {share:.0%}" for stage, share in self.lost_at.items())
            time = "/".join(f"{share:.0%}" for share in self.time_in_work.values())
            how = f"fitted: lost at {lost}; time in work shared {time}"
        else:
            how = "not fitted: the export's stage dates say where deals are lost"
        return [
            f"cycle of won deals (days): history {pair(self.won_history)}; fitted simulation "
            f"{pair(self.won_simulated)} (lags x {self.scale:.3g}, lag_cv {self.lag_cv:.2f})",
            f"cycle of lost deals (days): history {pair(self.lost_history)}; "
            f"simulation {pair(self.lost_simulated)} ({how})",
        ]


def cycle_quantiles(leads, outcome: str) -> tuple[float, float]:
    """Median and 90th percentile of arrival to close of the leads with ``outcome``."""
    cycle = closed_cycles(leads, outcome).to_numpy(dtype=float)
    if len(cycle) == 0:
        return math.nan, math.nan
    return float(np.median(cycle)), float(np.quantile(cycle, 0.9))


def lost_shares(pass_prob: dict[str, Estimate]) -> dict[str, float]:
    """Each stage's share of the lost deals: reached it, then failed, over all that failed."""
    reach, failed = 1.0, {}
    for stage in STAGES:
        failed[stage] = reach * (1.0 - pass_prob[stage].value)
        reach *= pass_prob[stage].value
    total = sum(failed.values())
    return {s: f / total for s, f in failed.items()} if total > 0 else {}


class _Trials:
    """The calibration at each split of the win rate, simulated with scaled and shaped lags."""

    def __init__(self, cal: Calibration, runs=None) -> None:
        self.cal = cal
        self.runs = runs  # where the replications run (``runner.replication_runs``)
        self.horizon = max(1.0, math.ceil(cal.history.as_of_day))
        self._splits: dict[tuple[float, float], tuple[Calibration, Scenario]] = {}

    def at(self, split: tuple[float, float]) -> tuple[Calibration, Scenario]:
        """The calibration re-split at ``split`` (losses, time), and its scenario."""
        if split not in self._splits:
            from sim.crm.scenario_file import calibrated_scenario

            same = split == (self.cal.loss_split, self.cal.time_split)
            cal = self.cal if same else with_loss_split(self.cal, *split)
            scenario = calibrated_scenario(cal).replace(
                [f"horizon_days={self.horizon}", f"replications={FIT_REPLICATIONS}"]
            )
            self._splits[split] = (cal, scenario)
        return self._splits[split]

    def run(self, scale: float, shape: float, split: tuple[float, float]):
        """The simulated leads of the calibration at ``split``, lags x ``scale``, cv ``shape``."""
        from sim.model.runner import simulate

        base = self.at(split)[1]
        changes = [
            f"stages.{s}.mean_lag_days={min(365.0, base.stages.get(s).mean_lag_days * scale)!r}"
            for s in STAGES
        ]
        changes += [f"stages.{s}.lag_cv={shape!r}" for s in STAGES]
        return simulate(base.replace(changes), (self.cal.structure,), runs=self.runs).leads


def fit_cycle(cal: Calibration, scenario: Scenario, runs=None) -> Calibration | None:
    """The calibration with its lags fitted to history's won cycle (None when nothing to fit).

    Without stage dates, how the won cycle's time and the win rate's losses
    are shared over the stages (``time_split``, ``loss_split``) are fitted to
    the lost deals' median and 90th percentile as well.

    Args:
        cal: the estimates (lags split evenly over the stages).
        scenario: the scenario written from them (``calibrated_scenario``).
        runs: where each trial's replications run (None: in this process, one after
            another); the fit is the same wherever they run.
    """
    target = cycle_quantiles(cal.history.leads, "won")
    if any(math.isnan(v) for v in target) or target[0] <= 0:
        return None
    lost_target = cycle_quantiles(cal.history.leads, "lost")
    fit_split = "funnel" not in cal.history.measured and lost_target[0] > 0
    trials = _Trials(cal, runs)
    scale, shape = 1.0, scenario.stages.get(STAGES[0]).lag_cv
    split = (cal.loss_split, cal.time_split)

    def fitted_scale(shape: float, split: tuple[float, float], scale: float) -> float:
        run = partial(trials.run, split=split)
        return _secant(partial(_median_error, run, shape, target), scale, MIN_SCALE, MAX_SCALE)

    for _ in range(FIT_ROUNDS):
        scale = fitted_scale(shape, split, scale)
        run = partial(trials.run, split=split)
        shape = _secant(partial(_tail_error, run, scale, target), shape, MIN_CV, MAX_CV)
        if fit_split:
            split = _fitted_splits(partial(trials.run, scale, shape), split, lost_target)
    # The won median last: the back-test holds it to 15 %, the rest only shows.
    scale = fitted_scale(shape, split, scale)
    leads = trials.run(scale, shape, split)
    chosen, base = trials.at(split)
    fit = CycleFit(
        target, cycle_quantiles(leads, "won"), lost_target, cycle_quantiles(leads, "lost"),
        scale, shape, lost_shares(chosen.pass_prob) if fit_split else {},
        dict(zip(STAGES, loss_weights(split[1]), strict=True)) if fit_split else {},
    )  # fmt: skip
    note = f"fitted: the won cycle's median and p90 (lags x {scale:.3g})"

    def lag(stage: str) -> Estimate:
        days = base.stages.get(stage).mean_lag_days * scale
        return Estimate(days, math.nan, math.nan, chosen.lag_days[stage].n, note)

    return replace(
        chosen,
        lag_days={s: lag(s) for s in STAGES},
        lag_cv=dict.fromkeys(STAGES, shape),
        cycle_fit=fit,
    )


def _fitted_splits(
    run, split: tuple[float, float], target: tuple[float, float]
) -> tuple[float, float]:
    """The time split on the lost median, then the losses' split on the lost p90.

    The lost median is mostly the deals lost at the first stage, so its time
    sets it; how many are lost later stretches the tail.
    """

    def error(which: int, quantile: int, value: float) -> float:
        trial = (split[0], value) if which == 1 else (value, split[1])
        return cycle_quantiles(run(trial), "lost")[quantile] / target[quantile] - 1.0

    time_split = _secant(partial(error, 1, 0), split[1], MIN_SPLIT, MAX_SPLIT)
    split = (split[0], time_split)
    return _secant(partial(error, 0, 1), split[0], MIN_SPLIT, MAX_SPLIT), time_split


def _median_error(run, shape: float, target: tuple[float, float], scale: float) -> float:
    """How far the simulated won median is from history's (relative)."""
    return cycle_quantiles(run(scale, shape), "won")[0] / target[0] - 1.0


def _tail_error(run, scale: float, target: tuple[float, float], shape: float) -> float:
    """How far the simulated p90 / median ratio of won cycles is from history's (relative)."""
    median, p90 = cycle_quantiles(run(scale, shape), "won")
    return (p90 / median) / (target[1] / target[0]) - 1.0 if median > 0 else math.nan


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
