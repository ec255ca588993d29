"""Textbook queueing formulas the simulator is checked against.

Written from the definitions, independent of ``sim``: an M/M/c queue has
Poisson arrivals at rate ``lam``, ``c`` servers and exponential service at rate
``mu`` per server, one shared first-come-first-served queue and unlimited room.
With offered load ``a = lam / mu`` and utilisation ``rho = a / c < 1``, the
probability that an arrival has to wait is Erlang's C formula

    C(c, a) = (a^c / c!) / (1 - rho)
              / (sum_{k=0}^{c-1} a^k / k!  +  (a^c / c!) / (1 - rho))

and the mean wait in queue is ``Wq = C(c, a) / (c mu - lam)``; Little's law
gives the mean number waiting ``Lq = lam Wq``.

An open Jackson network whose stations are M/M/c queues behaves, for the
stationary means, like independent M/M/c queues fed at the network's traffic
rates. In a funnel each stage is visited at most once: stage ``k`` is reached
with probability ``v_k = p_1 ... p_{k-1}`` (the pass probabilities before it),
so its arrival rate is ``lam v_k`` and a lead's mean time in the system is
``sum_k v_k (Wq_k + 1 / mu_k)``.

Time unit: days (any unit works as long as it is the same throughout).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class MMc:
    """Stationary means of an M/M/c queue.

    Attributes:
        lam: arrival rate (per day).
        mu: service rate of one server (per day), 1 / mean service time.
        c: number of servers.
    """

    lam: float
    mu: float
    c: int

    def __post_init__(self) -> None:
        if self.c < 1 or self.lam <= 0 or self.mu <= 0:
            raise ValueError(f"need c >= 1, lam > 0, mu > 0, got {self}")
        if self.rho >= 1:
            raise ValueError(f"unstable queue: rho = {self.rho:.3f} >= 1")

    @property
    def offered_load(self) -> float:
        """a = lam / mu: mean number of busy servers (Erlangs)."""
        return self.lam / self.mu

    @property
    def rho(self) -> float:
        """Utilisation of each server, lam / (c mu)."""
        return self.lam / (self.c * self.mu)

    @property
    def prob_wait(self) -> float:
        """Erlang C: probability that an arriving customer has to queue."""
        a, c, rho = self.offered_load, self.c, self.rho
        # Terms a^k / k! computed in log space so large c cannot overflow.
        log_terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(c + 1)]
        top = math.exp(log_terms[c]) / (1.0 - rho)
        below = sum(math.exp(t) for t in log_terms[:c])
        return top / (below + top)

    @property
    def wq(self) -> float:
        """Mean wait in queue (days)."""
        return self.prob_wait / (self.c * self.mu - self.lam)

    @property
    def w(self) -> float:
        """Mean time in the station, wait plus service (days)."""
        return self.wq + 1.0 / self.mu

    @property
    def lq(self) -> float:
        """Mean number waiting (Little's law, lam Wq)."""
        return self.lam * self.wq

    @property
    def l(self) -> float:  # noqa: E743 - L is the textbook name
        """Mean number in the station, waiting or in service."""
        return self.lam * self.w


def visit_probabilities(pass_probs: Sequence[float]) -> list[float]:
    """Probability that a lead reaches each stage of a funnel: 1, p1, p1 p2, ..."""
    visits, reach = [], 1.0
    for p in pass_probs:
        visits.append(reach)
        reach *= p
    return visits


def funnel_conversion(pass_probs: Sequence[float]) -> float:
    """Probability of passing every stage: the plain funnel-calculator win rate."""
    return float(np.prod(pass_probs))


def tandem_funnel(
    lam: float, pass_probs: Sequence[float], mean_efforts: Sequence[float], servers: Sequence[int]
) -> list[MMc]:
    """The M/M/c queue of each stage of a funnel fed by Poisson arrivals at ``lam``."""
    visits = visit_probabilities(pass_probs)
    return [
        MMc(lam * v, 1.0 / effort, c)
        for v, effort, c in zip(visits, mean_efforts, servers, strict=True)
    ]


def jackson_sojourn(pass_probs: Sequence[float], stations: Sequence[MMc]) -> float:
    """Mean time from arrival to leaving the funnel (won or lost), days."""
    visits = visit_probabilities(pass_probs)
    return sum(v * station.w for v, station in zip(visits, stations, strict=True))


@dataclass(frozen=True)
class Interval:
    """Mean of independent replications with a two-sided t confidence interval."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval."""
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.half_width:.4f} (n={self.n})"


def t_interval(values: Sequence[float], confidence: float) -> Interval:
    """t interval of the mean of independent, identically distributed values."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2 or np.isnan(x).any():
        raise ValueError(f"need at least two finite values, got {x}")
    sem = x.std(ddof=1) / math.sqrt(len(x))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, len(x) - 1) * sem)
    return Interval(float(x.mean()), half, len(x))
