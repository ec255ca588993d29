"""Outbound lead generation: prospecting reps create leads in their idle time.

Like an SDR desk between inbound calls: a lead-generation rep (or an All-In
generalist, who hunts for themselves) with no inbound task waiting spends a
block of ``block_hours`` contacting prospects; at the end of the block each
prospect who answered has booked a meeting and becomes a lead that enters the
funnel at qualification, its prospecting stage credited to the rep. The rule:
a prospecting block is a task at the lowest priority of the rep's queue
(``teams.PROSPECTING_PRIORITY``), so it starts only when no inbound task, and
in an owner-assigned team no account review, waits for the rep; it is never
interrupted, so inbound work that arrives meanwhile waits for at most one
block. In a pod with versatility an idle lead-gen rep covers a colleague's
waiting task before prospecting.

Common random numbers, as for the inbound stream: touch ``n`` of a run (in
the order touches are made) has two pre-drawn uniforms, whether the prospect
answers and which of the rep's segments the prospect is in, and the ``k``-th
prospect who answers in segment ``s`` is a whole lead drawn up front (tier,
value, quality, every coin of its journey: ``leads.draw_lead_luck``), both
from ``Streams.outbound`` keyed by their numbers, in chunks. So every hour of
prospecting yields the same answers in every structure, and outbound lead
``(s, k)`` is the same lead wherever it exists; a structure with more
prospecting hours reaches more of them. Its arrival day (competitor deadline,
value drift) is the day the meeting was booked. The inbound stream's draws
are untouched.

A touch uses up a prospect of its segment when ``pool_size`` is set (shared
out by segment share); a rep whose segments are used up stops prospecting.
Pods prospect their own segments; other structures the whole market, by
segment share. Prospecting is not counted as busy time (utilisation stays the
time spent on leads and accounts) and runs at one pace whatever the rep's
level or ramp (an assumption).

Time unit: days.
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections.abc import Generator
from dataclasses import replace
from typing import Any

import numpy as np
import simpy

from sim.config.market import deal_value_drift
from sim.config.scenario import WORKING_HOURS_PER_DAY, Scenario
from sim.model.journey import Deal, lead_journey
from sim.model.lead_table import ReferralChance, lead_table, table_row
from sim.model.leads import LeadStream, draw_lead_luck
from sim.model.seeding import keyed_rng
from sim.model.state import Run
from sim.model.teams import PROSPECTING_PRIORITY, Rep, Team

CHUNK = 1024
"""Touches, or prospects of one segment, drawn at a time."""
TOUCH_BRANCH, PROSPECT_BRANCH = 0, 1
"""Keys under ``Streams.outbound``: touches ``(0, chunk)``, prospects ``(1, segment, chunk)``."""
OUTBOUND_KEY = 2**32
"""First item of an outbound lead's seed key (``LeadBook.key``): above every inbound lead id."""


class Prospects:
    """The prospect pool of one structure run: its touches, its answers, what is left.

    Attributes:
        block_days: a prospecting block's length (days of a rep's effort).
        touches_per_block: touches a rep makes in a block (may be fractional:
            the fraction carries to the rep's next block).
        touches: touches made so far in the run.
        answered: outbound leads created so far, per segment.
        left: prospects not yet touched per segment; None = no limit.
        coverage: the segments each prospecting team prospects, by team name.
        carry: the fraction of a touch each rep carries, by rep id.
    """

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence, run: Run):
        cfg = scenario.leads.outbound
        self.scenario = scenario
        self.seed = seed
        self.response_prob = cfg.response_prob
        # A block is working time: a share of a working day of the calendar's hours.
        calendar = scenario.calendar
        hours = calendar.hours_per_day if calendar.enabled else WORKING_HOURS_PER_DAY
        self.block_days = cfg.block_hours / hours
        self.touches_per_block = cfg.touches_per_hour * cfg.block_hours
        self.touches = 0
        segments = scenario.leads.segments
        self.answered = [0] * len(segments)
        self.left: list[int] | None = None
        if cfg.pool_size is not None:
            total = sum(s.share for s in segments)
            self.left = [round(cfg.pool_size * s.share / total) for s in segments]
        self.coverage: dict[str, list[int]] = {}
        for code, route in enumerate(run.org.segment_routes):
            self.coverage.setdefault(route.teams[0].name, []).append(code)
        self.carry: dict[int, float] = {}
        self._touch_draws = (-1, np.empty((0, 2)))
        self._prospect_draws: dict[int, tuple[int, LeadStream]] = {}

    def open(self, segments: list[int]) -> bool:
        """Whether any of ``segments`` has prospects left to touch."""
        return self.left is None or any(self.left[s] > 0 for s in segments)

    def block_touches(self, rep: Rep) -> int:
        """Touches ``rep`` made in the block just ended (whole ones; the rest carries)."""
        due = self.carry.get(rep.rep_id, 0.0) + self.touches_per_block
        whole = int(due)
        self.carry[rep.rep_id] = due - whole
        return whole

    def touch(self, segments: list[int], weights: list[float]) -> int | None:
        """Make the run's next touch: the segment of a prospect who answered, else None.

        The touch's segment is drawn among ``segments`` that have prospects
        left, by their share of the market (``weights``, by segment code).
        """
        chunk, row = divmod(self.touches, CHUNK)
        if self._touch_draws[0] != chunk:
            rng = keyed_rng(self.seed, TOUCH_BRANCH, chunk)
            self._touch_draws = (chunk, rng.uniform(size=(CHUNK, 2)))
        answer_u, segment_u = self._touch_draws[1][row].tolist()
        self.touches += 1
        if self.left is not None:
            segments = [s for s in segments if self.left[s] > 0]
            if not segments:
                return None
        cumulative = list(itertools.accumulate(weights[s] for s in segments))
        index = bisect.bisect_right(cumulative, segment_u * cumulative[-1])
        segment = segments[min(index, len(segments) - 1)]
        if self.left is not None:
            self.left[segment] -= 1
        return segment if answer_u < self.response_prob else None

    def prospect(self, segment: int, day: float) -> tuple[int, ReferralChance]:
        """The segment's next prospect who answered, as a lead arriving on ``day``.

        Returns:
            Its number among the segment's outbound leads and what is known of it.
        """
        k = self.answered[segment]
        self.answered[segment] += 1
        chunk, row = divmod(k, CHUNK)
        held = self._prospect_draws.get(segment)
        if held is None or held[0] != chunk:
            rng = keyed_rng(self.seed, PROSPECT_BRANCH, segment, chunk)
            codes = np.full(CHUNK, segment, dtype=np.int16)
            held = (chunk, draw_lead_luck(self.scenario, np.zeros(CHUNK), codes, rng))
            self._prospect_draws[segment] = held
        one = held[1].part(row, row + 1)
        # Drawn as if on day 0: the value drifts to the day the meeting was booked.
        value = one.deal_value * deal_value_drift(self.scenario.leads, np.array([day]))
        one = replace(one, arrival_day=np.array([day]), deal_value=value)
        chance = ReferralChance(
            day,
            segment,
            int(one.tier[0]),
            float(value[0]),
            float(one.quality[0]),
            table_row(lead_table(one, self.scenario), 0),
        )
        return k, chance


def segment_weights(scenario: Scenario, day: float) -> np.ndarray:
    """Each segment's share of the market on ``day`` (drifting shares interpolated)."""
    segments = scenario.leads.segments
    start = np.array([s.share for s in segments])
    end = np.array([s.share if s.share_at_end is None else s.share_at_end for s in segments])
    progress = min(day / scenario.horizon_days, 1.0)
    return start * (1.0 - progress) + end * progress


def start_prospecting(env: simpy.Environment, run: Run, seed: np.random.SeedSequence) -> None:
    """Start the prospecting of every team whose role prospects (nothing when outbound is off).

    One prospector per seat: an owner-assigned seat's queue is its own, a
    pooled team's prospectors queue for whichever rep frees up. Seats of the
    hiring plan start prospecting when they are filled.
    """
    scenario = run.leads.scenario
    cfg = scenario.leads.outbound
    if not cfg.enabled:
        return
    prospects = Prospects(scenario, seed, run)
    run.log.outbound_leads = array("q")
    for team in run.org.teams:
        if team.role in cfg.roles and team.name in prospects.coverage:
            env.process(team_prospecting(env, run, prospects, team))


def team_prospecting(
    env: simpy.Environment, run: Run, prospects: Prospects, team: Team
) -> Generator[simpy.Event, Any, None]:
    """A prospector for each seat of ``team``, now and as planned hires fill new seats."""
    started = 0
    config = getattr(run.leads.scenario.structures, run.staffing.structure)
    lag = run.leads.scenario.people.turnover.hiring_lag_days
    days = sorted(
        {
            hire.start_day(lag)
            for hire in config.hires
            if (f"{hire.pod}/{hire.role}" if hire.pod else hire.role) == team.name
        }
    )
    for day in [0.0, *days]:
        if day > env.now:
            # Planned hires were scheduled before this process: they are seated first.
            yield env.timeout(day - env.now)
        for rep in team.reps[started:]:
            env.process(prospector(env, run, prospects, team, None if team.pooled else rep))
        started = len(team.reps)


def prospector(
    env: simpy.Environment, run: Run, prospects: Prospects, team: Team, seat: Rep | None
) -> Generator[simpy.Event, Any, None]:
    """One seat's prospecting: a block whenever no other work waits, until the pool is used up.

    ``seat`` is the seat whose queue the blocks wait in; None = the pooled
    team's queue, whichever rep frees up first.
    """
    segments = prospects.coverage[team.name]
    pool = team.resource if seat is None else seat.resource
    while prospects.open(segments):
        with pool.request(PROSPECTING_PRIORITY) as grant:
            yield grant
            rep = team.idle.popleft() if seat is None else seat
            start, span_days = env.now, prospects.block_days
            calendar = run.clock.calendar
            if calendar is not None:
                # Prospecting is working time: a block taken at night starts in the morning.
                start, finish = calendar.work_span(rep.rep_id, start, span_days)
                span_days = finish - env.now
            yield env.timeout(span_days)
            if seat is None:
                back_to_pool(team, rep)
        book_meetings(env, run, prospects, team, rep, start)
        # The new leads' journeys (and any task released now) claim the rep first.
        yield env.timeout(0)


def back_to_pool(team: Team, rep: Rep) -> None:
    """A pooled rep ends a block: back among the idle, or out of the seat if resigning."""
    if rep.leaving:
        rep.leaving = False
        rep.left_work.succeed()
    else:
        team.idle.append(rep)


def book_meetings(
    env: simpy.Environment, run: Run, prospects: Prospects, team: Team, rep: Rep, start: float
) -> None:
    """The block's touches: each prospect who answered becomes a lead at qualification."""
    now = env.now
    segments = prospects.coverage[team.name]
    weights = segment_weights(prospects.scenario, now).tolist()
    for _ in range(prospects.block_touches(rep)):
        segment = prospects.touch(segments, weights)
        if segment is not None:
            k, chance = prospects.prospect(segment, now)
            outbound_lead(env, run, team, rep, start, (OUTBOUND_KEY, segment, k), chance)


def outbound_lead(
    env: simpy.Environment,
    run: Run,
    team: Team,
    rep: Rep,
    start: float,
    key: tuple[int, ...],
    chance: ReferralChance,
) -> None:
    """A new outbound lead: prospecting credited to ``rep``, then its journey from qualification."""
    log, clock = run.log, run.clock
    lead = log.add_lead()
    log.outbound_leads.append(lead)
    run.leads.add_referral(key, chance)
    log.stage_queue_day[0][lead] = start
    log.stage_start_day[0][lead] = start
    log.stage_end_day[0][lead] = chance.day
    log.stage_done_day[0][lead] = chance.day
    log.stage_handler[0][lead] = rep.rep_id
    period = clock.period_of(chance.day)
    rep.record.stage_tasks[period] += 1
    rep.record.passes[period] += 1  # a meeting booked: lead generation's credit
    deal = Deal(lead, run.leads.row(lead))
    if not team.pooled:
        # The rep who booked the meeting owns the lead (a leaver's goes to a colleague).
        owner = rep if rep.present else team.assign_owner()
        deal.owner, deal.owner_gone = owner, owner.departure
        owner.open_deals += 1
    route = run.org.segment_routes[chance.segment]
    env.process(lead_journey(env, run, lead, route, deal))
