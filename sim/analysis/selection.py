"""Select the best structure with a guarantee: Kim and Nelson's fully sequential procedure.

Choosing the best of a few simulated systems is a solved problem of simulation
output analysis (ranking and selection). The user names the smallest
difference that matters, the *indifference zone* ``delta`` (say 50,000 of
profit), and a confidence ``1 - alpha``. Kim and Nelson's procedure KN (Kim and
Nelson 2001; Goldsman and Nelson's Winter Simulation Conference tutorials)
then guarantees: if the best structure is at least ``delta`` ahead of every
other, it is the one selected with probability at least ``1 - alpha``; if some
are closer than ``delta``, one of those is selected, which by the user's own
measure is as good. It works with common random numbers: every variance it
uses is of a *difference* of two structures in the same replication.

The procedure, for maximisation (a KPI where less is better is negated):

1. First stage: ``n0`` replications of every structure. With ``k``
   structures, ``eta = ((2 alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1) / 2`` and
   ``h2 = 2 eta (n0 - 1)``; ``S2[i, l]`` is the sample variance of the
   differences ``X[i, j] - X[l, j]`` over the first stage.
2. ``N = max floor(h2 S2[i, l] / delta**2)`` bounds the replications: the
   procedure stops by ``N + 1`` at the latest.
3. After ``r`` replications, structure ``i`` stays a contender while its mean
   is at least every other contender's mean less
   ``W[i, l] = max(0, delta / (2 r) * (h2 S2[i, l] / delta**2 - r))``, a
   margin that shrinks as ``r`` grows. One contender left: it is the best. At
   ``r = N + 1``: the contender with the largest mean.

``kn_select`` replays the procedure over the replications simulated so far;
it is a pure function of the numbers, so a run that adds replications in
batches reaches the same decision as one that adds them one at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.analysis.stats import t_interval


def kn_constants(structures: int, first_stage: int, alpha: float) -> tuple[float, float]:
    """``(eta, h2)`` of the procedure for ``structures`` systems and ``first_stage`` replications.

    Raises:
        ValueError: with fewer than two structures or first-stage replications.
    """
    if structures < 2 or first_stage < 2:
        raise ValueError("KN needs at least two structures and two first-stage replications")
    eta = 0.5 * ((2 * alpha / (structures - 1)) ** (-2 / (first_stage - 1)) - 1)
    return eta, 2 * eta * (first_stage - 1)


@dataclass(frozen=True)
class Selection:
    """Where the procedure stands after the replications it was given.

    Attributes:
        decided: True when the procedure has stopped with a best structure.
        best: the selected structure (decided), or the contender with the
            best mean so far.
        contenders: the structures still in contention, in input order.
        eliminated: structure -> the replication count at which it dropped out.
        replications: the replications the procedure used (at the decision,
            or all it was given).
        bound: the procedure stops by this many replications at the latest
            (``N + 1``).
    """

    decided: bool
    best: str
    contenders: tuple[str, ...]
    eliminated: dict[str, int] = field(default_factory=dict)
    replications: int = 0
    bound: int = 0


def kn_select(
    values: dict[str, np.ndarray],
    delta: float,
    alpha: float,
    first_stage: int,
    better: int = 1,
) -> Selection:
    """Run Kim and Nelson's procedure KN on the replications simulated so far.

    Args:
        values: structure -> its KPI per replication (same length for all;
            replication ``j`` of every structure shares its random numbers).
        delta: the indifference zone, in the KPI's unit (> 0).
        alpha: 1 - the probability of correct selection.
        first_stage: ``n0``, replications in the first stage (>= 2).
        better: +1 if more is better, -1 if less is.

    Returns:
        The selection; ``decided`` is False when more replications are needed.

    Raises:
        ValueError: without enough replications for the first stage, or with
            ``delta <= 0`` or NaN values.
    """
    names = list(values)
    data = better * np.vstack([np.asarray(values[n], dtype=float) for n in names])
    total = data.shape[1]
    if delta <= 0 or total < first_stage or np.isnan(data[:, :first_stage]).any():
        raise ValueError("KN needs delta > 0 and a complete first stage")
    if len(names) == 1:
        return Selection(True, names[0], (names[0],), {}, first_stage, first_stage)
    _, h2 = kn_constants(len(names), first_stage, alpha)
    first = data[:, :first_stage]
    spread = np.array(
        [
            [np.var(first[i] - first[j], ddof=1) for j in range(len(names))]
            for i in range(len(names))
        ]
    )
    bound = int(np.max(np.floor(h2 * spread / delta**2))) + 1
    contenders = list(range(len(names)))
    eliminated: dict[str, int] = {}
    for r in range(first_stage, total + 1):
        means = data[:, :r].mean(axis=1)
        if r >= bound:
            best = max(contenders, key=lambda i: means[i])
            return Selection(True, names[best], (names[best],), eliminated, r, bound)
        margin = np.maximum(0.0, delta / (2 * r) * (h2 * spread / delta**2 - r))
        kept = [
            i
            for i in contenders
            if all(means[i] >= means[j] - margin[i, j] for j in contenders if j != i)
        ]
        eliminated.update({names[i]: r for i in contenders if i not in kept})
        contenders = kept
        if len(contenders) == 1:
            return Selection(True, names[kept[0]], (names[kept[0]],), eliminated, r, bound)
    means = data.mean(axis=1)
    leader = max(contenders, key=lambda i: means[i])
    return Selection(
        False, names[leader], tuple(names[i] for i in contenders), eliminated, total, bound
    )


def relative_precision(values: dict[str, np.ndarray], confidence: float = 0.95) -> float:
    """The widest CI half-width relative to its mean, over the structures (inf if undefined)."""
    worst = 0.0
    for series in values.values():
        finite = np.asarray(series, dtype=float)
        finite = finite[np.isfinite(finite)]
        if len(finite) < 2 or finite.mean() == 0:
            return math.inf
        half = float(
            t_interval(finite.mean(), finite.std(ddof=1), len(finite), confidence).half_width
        )
        worst = max(worst, half / abs(finite.mean()))
    return worst
