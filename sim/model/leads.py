"""The lead stream, drawn once per replication with numpy, before any structure runs.

Like a deck of cards dealt face down: each lead arrives with its segment, size
tier, deal value and latent quality, and with every coin it may ever toss
already tossed (will it pass qualification? will it be dropped at the second
relay? how long will the customer take to answer?). A structure only decides
*when* and *by whom* a lead is worked; it never draws the lead's luck. That is
what makes the comparison between structures fair (common random numbers).

Times are in days. Unit-mean draws (``effort_units``, ``lag_units``, ...) are
multiplied by the configured means at run time, so a generalist who is 20 %
slower takes exactly 1.2 times the same lead's specialist effort.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields

import numpy as np

from sim.config.market import arrival_rate, deal_value_drift, peak_shape, shaped
from sim.config.scenario import STAGES, LeadsConfig, Scenario
from sim.model.luck import LeadLuck, LuckDraw, draw_luck, luck_draws

N_STAGES = len(STAGES)


@dataclass(frozen=True, eq=False)
class LeadStream:
    """All leads of one replication, one array row per lead, sorted by arrival.

    A lead's id is its row (arrival order); no column holds it, which would
    cost 8 bytes a lead for the run (the lead table numbers its rows).

    The luck fields (``pass_u`` to ``go_live_units``) are held, or, in a
    stream drawn by ``generate_leads``, kept as a recipe (``luck``) and drawn
    again for the leads of a ``part``: 168 bytes a lead the run does not hold.

    Attributes:
        arrival_day: arrival time (day).
        segment: index into ``segment_names``.
        tier: index into ``tier_names``.
        deal_value: first-year contract value if won (currency).
        quality: latent quality, standard normal.
        pass_u: (n, 3) uniforms deciding each stage's outcome.
        handoff_u: (n, 3) uniforms deciding a drop at each relay point.
        handoff_delay_units: (n, 3) unit-mean exponential relay delays.
        patience_units: (n, 3) unit-mean exponential patience per stage queue.
        effort_units: (n, 3) unit-mean rep effort per stage (stage's shape).
        lag_units: (n, 3) unit-mean customer lag per stage (stage's shape).
        overflow_u: (n,) uniforms deciding a drop if Pods pass the lead to another pod.
        overflow_delay_units: (n,) unit-mean exponential delays of that relay.
        contest_u: (n,) uniforms deciding whether a competitor pursues the lead.
        competitor_units: (n,) unit-mean exponential competitor decision times.
        go_live_units: (n,) unit-mean exponential implementation effort if won.
        luck: the recipe of every luck field, which are then None (``sim.model.luck``).
    """

    segment_names: tuple[str, ...]
    tier_names: tuple[str, ...]
    arrival_day: np.ndarray
    segment: np.ndarray
    tier: np.ndarray
    deal_value: np.ndarray
    quality: np.ndarray
    pass_u: np.ndarray | None = None
    handoff_u: np.ndarray | None = None
    handoff_delay_units: np.ndarray | None = None
    patience_units: np.ndarray | None = None
    effort_units: np.ndarray | None = None
    lag_units: np.ndarray | None = None
    overflow_u: np.ndarray | None = None
    overflow_delay_units: np.ndarray | None = None
    contest_u: np.ndarray | None = None
    competitor_units: np.ndarray | None = None
    go_live_units: np.ndarray | None = None
    luck: LeadLuck | None = None

    def __len__(self) -> int:
        return len(self.arrival_day)

    def part(self, first: int, stop: int) -> LeadStream:
        """Leads ``first`` to ``stop - 1`` as a stream of their own, every luck field held.

        Held fields are views (nothing copied); a chunked stream's luck is drawn again.
        """
        values = {
            f.name: value[first:stop] if isinstance(value, np.ndarray) else value
            for f in fields(self)
            for value in (getattr(self, f.name),)
        }
        if self.luck is not None:
            values |= self.luck.rows(first, stop)
            values["luck"] = None
        return LeadStream(**values)

    def whole(self) -> LeadStream:
        """Every lead, every luck field held (a chunked stream's luck drawn in full)."""
        return self if self.luck is None else self.part(0, len(self))

    def competitor_deadlines(self, contested_share: float, mean_days: float) -> np.ndarray:
        """Day each lead's competitor decides (infinity where no competitor pursues it)."""
        if self.contest_u is None:
            return np.full(len(self), np.inf)
        days = self.arrival_day + mean_days * self.competitor_units
        return np.where(self.contest_u < contested_share, days, np.inf)


def arrival_times(cfg: LeadsConfig, horizon_days: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrival times on [0, horizon), optionally seasonal, sorted.

    Seasonality uses thinning: draw a homogeneous stream at the peak rate and keep
    each arrival with probability rate(t) / peak rate, which gives a
    non-homogeneous Poisson process with rate
    ``arrivals_per_day * (1 + amplitude * cos(2 pi (t - peak_day) / 365))``, times the
    monthly factors, the trend and the campaigns (``market.arrival_shape``) when there
    are some.
    """
    # Without months, a trend or campaigns, the draws are exactly those of a stationary
    # (or only seasonal) stream, so scenarios without them keep their lead streams.
    highest = peak_shape(cfg, horizon_days) if shaped(cfg) else 1.0
    peak_rate = cfg.arrivals_per_day * (1.0 + cfg.seasonality_amplitude) * highest
    count = rng.poisson(peak_rate * horizon_days)
    times = np.sort(rng.uniform(0.0, horizon_days, size=count))
    if cfg.seasonality_amplitude > 0 or shaped(cfg):
        rate = arrival_rate(cfg, times)
        keep = rng.uniform(size=count) * peak_rate < rate
        times = times[keep]
    return times


@dataclass(frozen=True, eq=False)
class LeadMix:
    """What drawing a scenario's leads reads from it, worked out once per run.

    An advocate's referral chances are a lead stream of a few leads, drawn
    the first time each account becomes an advocate: worked out again for
    every draw, the shares, value multipliers and the list of luck draws cost
    more than the draws themselves (issue 20). A structure run works them out
    once (``LeadBook.mix``); functions given no mix work it out from the
    scenario, with the same numbers.

    Attributes:
        scenario: the scenario it is worked out from.
        segment_names, tier_names: the segments' and size tiers' names, by code.
        segment_start_shares: each segment's share at day 0.
        segment_end_shares: each segment's share at the horizon; None without drift.
        segment_cumulative: the segments' cumulative shares at day 0, normalised.
        tier_cumulative: the tiers' cumulative shares, normalised (``_choose``).
        segment_value: each segment's value multiplier, by code.
        tier_value: each tier's value multiplier, by code.
        luck: the luck draws, in order (``luck_draws``).
        pass_prob: each stage's pass probability (``lead_table.lead_pass_probabilities``).
        pass_logit: its logit (infinite at 0 and 1).
        pass_uncertain: whether it is neither 0 nor 1 (certainties quality cannot change).
    """

    scenario: Scenario
    segment_names: tuple[str, ...]
    tier_names: tuple[str, ...]
    segment_start_shares: np.ndarray
    segment_end_shares: np.ndarray | None
    segment_cumulative: np.ndarray
    tier_cumulative: np.ndarray
    segment_value: np.ndarray
    tier_value: np.ndarray
    luck: tuple[LuckDraw, ...]
    pass_prob: np.ndarray
    pass_logit: np.ndarray
    pass_uncertain: np.ndarray

    @classmethod
    def of(cls, scenario: Scenario) -> LeadMix:
        """The mix of ``scenario``'s leads."""
        cfg = scenario.leads
        segments = cfg.segments
        drift = any(s.share_at_end is not None for s in segments)
        end = [s.share if s.share_at_end is None else s.share_at_end for s in segments]
        start = np.array([s.share for s in segments], dtype=float)
        pass_prob = np.array([scenario.stages.get(s).pass_prob for s in STAGES])
        with np.errstate(divide="ignore"):
            pass_logit = np.log(pass_prob) - np.log1p(-pass_prob)
        return cls(
            scenario=scenario,
            segment_names=cfg.segment_names,
            tier_names=tuple(t.name for t in cfg.tiers),
            segment_start_shares=start,
            segment_end_shares=np.array(end, dtype=float) if drift else None,
            segment_cumulative=cumulative_shares(start),
            tier_cumulative=cumulative_shares([t.share for t in cfg.tiers]),
            segment_value=np.array([s.value_multiplier for s in segments]),
            tier_value=np.array([t.value_multiplier for t in cfg.tiers]),
            luck=luck_draws(scenario),
            pass_prob=pass_prob,
            pass_logit=pass_logit,
            pass_uncertain=(pass_prob > 0) & (pass_prob < 1),
        )


def cumulative_shares(shares: list[float] | np.ndarray) -> np.ndarray:
    """Cumulative shares, normalised, as ``Generator.choice`` makes them of its ``p``."""
    weights = np.asarray(shares, dtype=float)
    cumulative = (weights / weights.sum()).cumsum()
    cumulative /= cumulative[-1]
    return cumulative


def _choose(cumulative: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Codes drawn with the shares of ``cumulative``: ``rng.choice(k, size, p=shares)``.

    What ``Generator.choice`` does with ``p`` (one ``rng.random`` per value,
    inverted on the cumulative shares), without checking and summing the
    shares again at each call: the same uniforms, the same codes
    (``tests/unit/test_luck.py`` checks it against ``choice``).
    """
    return cumulative.searchsorted(rng.random(size), side="right").astype(np.int16)


def _segments(
    mix: LeadMix, arrival_day: np.ndarray, horizon_days: float, rng: np.random.Generator
) -> np.ndarray:
    """Each lead's segment; with drift, from the shares interpolated at its arrival day.

    Both branches use one uniform per lead (``_choose`` inverts the
    cumulative shares of a uniform draw), so switching drift on changes
    segments only, never a later draw.
    """
    if mix.segment_end_shares is None:
        return _choose(mix.segment_cumulative, len(arrival_day), rng)
    if len(arrival_day) <= FEW_LEADS:
        return _drifting_segments_of_few(mix, arrival_day, horizon_days, rng)
    return _drifting_segments(mix, arrival_day, horizon_days, rng)


FEW_LEADS = 8
"""Leads for which drifting segments are worked out one by one in Python floats.

An advocate's referral chances are one or two leads: a dozen numpy calls on
arrays of one row cost far more than the arithmetic (issue 20).
"""


def _drifting_segments(
    mix: LeadMix, arrival_day: np.ndarray, horizon_days: float, rng: np.random.Generator
) -> np.ndarray:
    """Segments with drift, for a whole stream at once."""
    start, end = mix.segment_start_shares, mix.segment_end_shares
    progress = (arrival_day / horizon_days)[:, None]
    weights = start[None, :] * (1.0 - progress) + end[None, :] * progress
    cumulative = np.cumsum(weights, axis=1)
    cumulative /= cumulative[:, -1:]
    u = rng.random(len(arrival_day))
    return (cumulative < u[:, None]).sum(axis=1).astype(np.int16)


def _drifting_segments_of_few(
    mix: LeadMix, arrival_day: np.ndarray, horizon_days: float, rng: np.random.Generator
) -> np.ndarray:
    """``_drifting_segments`` lead by lead: the same operations in the same order, the same bits.

    ``tests/unit/test_luck.py`` checks the two against each other.
    """
    start, end = mix.segment_start_shares.tolist(), mix.segment_end_shares.tolist()
    codes = []
    for day, u in zip(arrival_day.tolist(), rng.random(len(arrival_day)).tolist(), strict=True):
        progress = day / horizon_days
        weights = (s * (1.0 - progress) + e * progress for s, e in zip(start, end, strict=True))
        cumulative = list(itertools.accumulate(weights))
        codes.append(sum(c / cumulative[-1] < u for c in cumulative))
    return np.array(codes, dtype=np.int16)


def generate_leads(scenario: Scenario, rng: np.random.Generator) -> LeadStream:
    """Draw the whole lead stream of one replication.

    The order of draws is fixed and independent of every structure setting, so
    changing a team never changes the leads.

    Args:
        scenario: the scenario (lead block, stage shapes, horizon).
        rng: the replication's lead generator (``Streams.leads``).

    Returns:
        The lead stream, sorted by arrival, its luck kept as a recipe (``LeadStream.luck``).
    """
    arrival_day = arrival_times(scenario.leads, scenario.horizon_days, rng)
    return draw_leads(scenario, arrival_day, rng, chunked=True)


def referral_chances(
    scenario: Scenario, rate_per_day: float, rng: np.random.Generator
) -> LeadStream:
    """One account's referral chances over the horizon: Poisson times, a whole lead each.

    Drawn from the account's own generator, so the chances (and the prospects
    they would bring) are the same in every structure; which of them become
    leads depends on when the account is an advocate. All at once here;
    ``referrals.Advocacy`` makes the same draws in two steps (the days, then
    the prospects when the first becomes a lead).
    """
    return draw_leads(scenario, referral_days(scenario, rate_per_day, rng), rng)


def referral_days(scenario: Scenario, rate_per_day: float, rng: np.random.Generator) -> np.ndarray:
    """When an account's referral chances come up: ``referral_chances``' first draws.

    The prospects follow from the same generator (``draw_leads`` on these days),
    so they may be drawn later, when the first of them becomes a lead.
    """
    count = rng.poisson(rate_per_day * scenario.horizon_days)
    # ``uniform(0, horizon, count)`` to the bit (0 + horizon * u), without its argument checks.
    times = scenario.horizon_days * rng.random(count)
    times.sort()
    return times


def draw_leads(
    scenario: Scenario,
    arrival_day: np.ndarray,
    rng: np.random.Generator,
    chunked: bool = False,
    mix: LeadMix | None = None,
) -> LeadStream:
    """Everything about leads arriving on ``arrival_day`` but the arrival, in a fixed order.

    With ``chunked``, the luck is kept as a recipe (``sim.model.luck``), else held.
    """
    mix = LeadMix.of(scenario) if mix is None else mix
    segment = _segments(mix, arrival_day, scenario.horizon_days, rng)
    return draw_lead_luck(scenario, arrival_day, segment, rng, chunked, mix)


def draw_lead_luck(
    scenario: Scenario,
    arrival_day: np.ndarray,
    segment: np.ndarray,
    rng: np.random.Generator,
    chunked: bool = False,
    mix: LeadMix | None = None,
) -> LeadStream:
    """Everything about leads of known arrival days and segments, in a fixed order.

    ``draw_leads`` after the segments; outbound prospects (``sim.model.outbound``)
    draw their own with the segment they are prospected in.
    """
    mix = LeadMix.of(scenario) if mix is None else mix
    cfg = scenario.leads
    n = len(arrival_day)
    tier = _choose(mix.tier_cumulative, n, rng)
    multiplier = mix.segment_value[segment] * mix.tier_value[tier]
    sigma = cfg.deal_value_sigma
    # log-normal with the configured mean: E[exp(N(mu, sigma))] = exp(mu + sigma^2 / 2)
    deal_value = cfg.mean_deal_value * multiplier * rng.lognormal(-0.5 * sigma**2, sigma, n)
    if cfg.deal_value_growth_per_year:  # no draw: the same leads, worth more (or less)
        deal_value = deal_value * deal_value_drift(cfg, arrival_day)
    quality = rng.standard_normal(n)
    draws = mix.luck
    luck = {"luck": LeadLuck.record(draws, n, rng)} if chunked else draw_luck(draws, n, rng)
    return LeadStream(
        segment_names=mix.segment_names,
        tier_names=mix.tier_names,
        arrival_day=arrival_day,
        segment=segment,
        tier=tier,
        deal_value=deal_value,
        quality=quality,
        **luck,
    )
