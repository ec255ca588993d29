"""A lead's journey, as a SimPy process: from arrival to a win or a loss.

A lead walks its route like a baton in a relay: a lead-gen rep prospects it,
hands it to a qualifier, who hands it to a closer, who hands the new customer
to an account manager (in All-In one generalist runs every leg). At each leg
the lead waits for a rep (queue), takes the rep's time (effort), then waits
for the customer (lag, the rep is free meanwhile); then its pre-drawn coin says
whether it passes. Between two different people the baton can be dropped,
can lie on the track for a while (delay), and loses some context (a lower pass
probability at the next leg). A lead that waits goes cold, and past its
patience it leaves unworked.

``lead_journey`` reads as its phases: a pass to another pod (``enter_pod``),
then per stage the relay in (``relay_in``), the work (pooled inline, else
``owned_work``), the customer's answer and the coin (``stage_passes``), and at
the end the booking (``book_win``), which starts the account's care
(``accounts.account_care``).

Time unit: days.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.config.scenario import RELAYS, STAGES, OverflowConfig
from sim.model.accounts import Account, account_care
from sim.model.environment import alone
from sim.model.lead_table import (
    COMPETITOR_DAY,
    DEAL_VALUE,
    EFFORT_UNIT,
    HANDOFF_DELAY_UNIT,
    HANDOFF_U,
    LAG_UNIT,
    OVERFLOW_DELAY_UNIT,
    OVERFLOW_U,
    PASS_PROB,
    PASS_U,
    PATIENCE_UNIT,
    TIER,
    Row,
)
from sim.model.records import COMPETITOR, DROPPED, FAILED, REP_LEFT, WENT_COLD, WON, LeadLog
from sim.model.routing import from_nurture, senior_first, take_owner
from sim.model.state import JourneyRules, Run
from sim.model.teams import Rep, Route, Team, pod_load, relay, relay_costs
from sim.model.work import OWNER_LEFT, Claim, claim_rep, finish_work, stage_work, start_work

HANDOFF_POINT_NAMES = ("handoff_to_qualification", "handoff_to_closing")
"""Where a lead is lost when dropped in the relay into stage 1 and stage 2."""
CLOSING = len(STAGES) - 1
TO_POD = RELAYS.index("to_pod")
# A route's relays into stage s sit at s - 1, as the lead's draws for them do.
assert RELAYS[:CLOSING] == tuple(f"to_{stage}" for stage in STAGES[1:])


class Deal:
    """A lead in flight: its row of ``lead_table``, its owner, what waiting and relays cost it.

    Attributes:
        lead: the lead's id.
        row: the lead's ``lead_table`` row (columns named in ``lead_table``).
        tier: its size tier.
        owner: who owns it in an owner-assigned team (None in a pooled one).
        owner_gone: fires if that owner resigns.
        waited: days spent waiting in queues and relays: what makes a lead go cold.
        context_loss: context lost at the last relay; it weighs on the next stage only.
    """

    __slots__ = ("lead", "row", "tier", "owner", "owner_gone", "waited", "context_loss")

    def __init__(self, lead: int, row: Row):
        self.lead = lead
        self.row = row
        self.tier = int(row[TIER])
        self.owner: Rep | None = None
        self.owner_gone: simpy.Event | None = None
        self.waited = 0.0
        self.context_loss = 0.0

    def release(self) -> None:
        """The owner no longer carries the lead in their pipeline (a leaver's was cleared)."""
        owner = self.owner
        if owner is not None and not self.owner_gone.triggered:
            owner.open_deals -= 1
            if owner.slots is not None:  # a lead waiting for room may take this slot
                owner.slots.wake(owner)

    def lose(self, log: LeadLog, day: float, at: str, reason: int) -> None:
        """The lead leaves the funnel without a win: off its owner's pipeline, into the log."""
        self.release()
        log.lose(self.lead, day, at, reason)


ARRIVAL_BLOCK_LEADS = 4096
"""Leads whose arrival days and segments the market turns into Python values at a time."""


def lead_arrivals(env: simpy.Environment, run: Run) -> Generator[simpy.Event, Any, None]:
    """The market: start each lead's journey at its pre-drawn arrival time.

    One source process instead of one sleeping process per lead keeps memory
    flat in the number of leads; so does reading the stream a block at a
    time (a whole-stream ``tolist`` holds 32 bytes per lead for the run).
    """
    stream, routes = run.leads.stream, run.org.segment_routes
    for first in range(0, len(stream), ARRIVAL_BLOCK_LEADS):
        block = slice(first, first + ARRIVAL_BLOCK_LEADS)  # not ``part``: no luck drawn
        days, segments = stream.arrival_day[block].tolist(), stream.segment[block].tolist()
        for lead, (arrival, segment) in enumerate(zip(days, segments, strict=True), first):
            if arrival > env.now:
                yield env.timeout(arrival - env.now)
            env.process(lead_journey(env, run, lead, routes[segment]))


def lead_journey(
    env: simpy.Environment, run: Run, lead: int, route: Route, outbound: Deal | None = None
) -> Generator[simpy.Event, Any, None]:
    """One lead from arrival to a win (then an account) or a loss.

    An ``outbound`` lead (``outbound.outbound_lead``) was prospected by the
    route's first team already: it starts at the relay into qualification.
    """
    deal = Deal(lead, run.leads.row(lead)) if outbound is None else outbound
    if route.overflow and outbound is None:
        route = yield from enter_pod(env, run, deal, route)
        if route is None:
            return
    log, rules, clock = run.log, run.rules, run.clock
    log.pod[lead] = route.pod
    row = deal.row
    effort_tier = run.tiers.effort[deal.tier]
    previous: Team | None = None if outbound is None else route.teams[0]
    rep: Rep | None = None
    # By index: a reorganisation may change the route under the lead.
    for s in range(0 if outbound is None else 1, len(route.teams)):
        team = route.teams[s]
        relayed = team is not previous
        if relayed:
            if not (yield from join_team(env, run, deal, route, s, first=previous is None)):
                return
            previous = team
        if run.reorganisation is not None and run.reorganisation.moves(team):
            # The structure changed since the lead set out: it goes on in the new one.
            moved = yield from run.reorganisation.move_deal(env, run, deal, s, relayed, rep)
            if moved is None:
                return
            route, team = moved
            previous = team
        queued = env.now
        log.stage_queue_day[s][lead] = queued
        effort = rules.mean_effort_days[s] * row[EFFORT_UNIT + s] * effort_tier
        effort *= route.effort_factor[s]
        if deal.owner is None and team.cover is None and plain_pooled_task(rules, run):
            # A pooled team's task, written out here rather than in ``stage_work``:
            # a sub-generator would add a level to every resume of the journey.
            claim = pooled_claim(env, run, deal, team, s, queued)
            if claim is not None:
                woke = yield claim.event
                if claim.crowded(woke):
                    yield env.timeout(0)
                if not claim.settle():
                    deal.lose(log, env.now, STAGES[s], WENT_COLD)
                    return
            rep, start, effort, skill = start_work(env, clock, team, None, effort)
            yield env.timeout(effort)
            finish_work(env, clock, team, rep, start, pooled=True)
            team.resource.release()
        else:
            done = yield from owned_work(env, run, deal, team, s, queued, effort)
            if done is None:
                return
            rep, start, skill = done
        worker = rep.record
        period, skill = record_work(run, deal, s, rep, queued, start, skill)
        lag = rules.mean_lag_days[s] * row[LAG_UNIT + s]
        if lag > 0:
            yield env.timeout(lag)
            period = clock.period_of(env.now)
        if not customer_answers(run, deal, route, s, skill, worker.level):
            return
        worker.passes[period] += 1
        deal.context_loss = 0.0
    book_win(env, run, deal, route, team, rep)


def join_team(
    env: simpy.Environment, run: Run, deal: Deal, route: Route, s: int, first: bool
) -> Generator[simpy.Event, Any, bool]:
    """The lead reaches stage ``s``'s team: relayed from the last one, then given an owner.

    Returns whether it arrived (a lead dropped in the relay, or finding no owner
    under a cap, is recorded as lost). The relay's delay is waited here, not in
    a generator of its own: one level less on each resume of the journey.
    """
    if not first:
        loss, delay = relay_in(deal, route, s)
        if delay > 0:
            yield env.timeout(delay)
        if not arrived(run, deal, route, s, loss, delay):
            return False
    team = route.teams[s]
    if team.pooled:
        return True
    if not run.routing.owners_limited:
        deal.owner, deal.owner_gone = team.take_owner()
        return True
    return (yield from take_owner(env, run, deal, team, s))


def enter_pod(
    env: simpy.Environment, run: Run, deal: Deal, route: Route
) -> Generator[simpy.Event, Any, Route | None]:
    """Pods with overflow: the lead's own pod, or a relay to a less loaded one.

    Returns:
        The route the lead takes, or None if it was dropped on the way (recorded).
    """
    overflow = run.rules.overflow
    chosen = choose_pod(overflow, route)
    if chosen is route:
        return route
    run.log.overflowed[deal.lead] = True
    row = deal.row
    costs = route.relays[TO_POD]
    loss, delay = yield from relay(env, costs, row[OVERFLOW_U], row[OVERFLOW_DELAY_UNIT])
    return chosen if relay_outcome(run, deal, loss, delay, "handoff_to_pod") else None


def choose_pod(overflow: OverflowConfig, route: Route) -> Route:
    """The route a new lead takes: its own pod's, unless that pod is overloaded.

    Load is the leads waiting for or in work with the pod's lead-gen team per
    rep present. An overloaded pod passes the lead to the least loaded other
    pod, if that one is less loaded.
    """
    own = pod_load(route.teams[0])
    if own <= overflow.threshold_leads_per_rep:
        return route
    other = min(route.overflow, key=lambda r: pod_load(r.teams[0]))
    return other if pod_load(other.teams[0]) < own else route


def relay_outcome(run: Run, deal: Deal, loss: float | None, delay: float, lost_at: str) -> bool:
    """What a relay left of the lead (``teams.relay``'s result): whether it arrived.

    Dropped: lost at ``lost_at`` (recorded). Arrived: the context lost weighs on
    its next stage (scaled by its tier's complexity) and the delay counts as waiting.
    """
    if loss is None:
        deal.lose(run.log, run.clock.env.now, lost_at, DROPPED)
        return False
    deal.context_loss = loss * run.tiers.complexity[deal.tier]
    deal.waited += delay
    return True


def relay_in(deal: Deal, route: Route, s: int) -> tuple[float | None, float]:
    """The lead passes to stage ``s``'s team from another: ``(context_loss, delay_days)``.

    The previous owner lets go of it first; a dropped lead's loss is None.
    """
    deal.release()
    deal.owner = None
    handoff = route.relays[s - 1]
    if handoff.drop_prob == 0 and handoff.mean_delay_days == 0:
        return handoff.context_loss, 0.0  # a relay that costs no time
    row = deal.row
    return relay_costs(handoff, row[HANDOFF_U + s - 1], row[HANDOFF_DELAY_UNIT + s - 1])


def arrived(run: Run, deal: Deal, route: Route, s: int, loss: float | None, delay: float) -> bool:
    """After the relay into stage ``s``: whether the lead arrived (a dropped one is recorded)."""
    if not relay_outcome(run, deal, loss, delay, HANDOFF_POINT_NAMES[s - 1]):
        return False
    if run.routing.senior != "off" and route.teams[s].pooled:
        # A pooled team is entered through a relay (a pooled closer never qualifies).
        senior_first(run, deal, route.teams[s], s)
    return True


def plain_pooled_task(rules: JourneyRules, run: Run) -> bool:
    """Whether a pooled team's task needs none of ``owned_work``'s care.

    Nothing to do there without an owner, unless the task may go cold and
    nurture may bring it back (without patience it never goes cold).
    """
    return rules.patience_days is None or run.routing.nurture is None


def pooled_claim(
    env: simpy.Environment, run: Run, deal: Deal, team: Team, s: int, queued: float
) -> Claim | None:
    """A pooled team's task asks for a rep: None if it takes one now, else what it waits on.

    A lead that waits as long as it takes takes a free rep in this very step
    (``pools.Pool``); otherwise it claims one as ``stage_work`` does, taking a
    free rep when nothing else happens at this instant (``claim_rep``'s first
    step, here before its patience and priority are worked out).
    """
    pool = team.resource
    if pool.free and (run.rules.patience_days is None or alone(env)):
        pool.take()
        return None
    patience = patience_left(run.rules, deal.row, s, queued, env.now)
    priority = run.routing.sales_priority(team, deal, s)
    return claim_rep(env, team, pool, patience, priority)


def owned_work(
    env: simpy.Environment, run: Run, deal: Deal, team: Team, s: int, queued: float, effort: float
) -> Generator[simpy.Event, Any, tuple[Rep, float, float] | None]:
    """Stage ``s``'s work when the lead has an owner or may run out of patience.

    If the owner resigns while the lead waits, a colleague takes it (or
    nobody does, and it is lost).

    Returns:
        ``(rep, start_day, pass_factor)`` as ``stage_work``, or None if the lead
        was lost meanwhile (recorded).
    """
    rules = run.rules
    priority = run.routing.sales_priority(team, deal, s)
    while True:
        if not keep_owner(rules, run.log, deal, team, STAGES[s], env.now):
            return None
        remaining = patience_left(rules, deal.row, s, queued, env.now)
        gone = deal.owner_gone if rules.turnover and deal.owner is not None else None
        done = yield from stage_work(
            env, run.clock, team, deal.owner, effort, remaining, priority, gone
        )
        if done is None and run.routing.nurture is not None:
            # Gone cold: to nurture, and maybe back to this stage's queue later.
            if not (yield from from_nurture(env, run, deal, team, s, WENT_COLD)):
                return None
            queued = env.now
        elif done is not OWNER_LEFT:
            break
    if done is None:
        deal.lose(run.log, env.now, STAGES[s], WENT_COLD)
    return done


def patience_left(rules: JourneyRules, row: Row, s: int, queued: float, now: float) -> float | None:
    """How long the lead queued at ``queued`` for stage ``s`` still waits (None: forever)."""
    if rules.patience_days is None:
        return None
    left = queued + rules.patience_days * row[PATIENCE_UNIT + s] - now
    return left if left > 0.0 else 0.0  # ``max(0.0, left)``, without the call


def keep_owner(
    rules: JourneyRules, log: LeadLog, deal: Deal, team: Team, stage: str, now: float
) -> bool:
    """If the lead's owner resigned, a colleague takes it; False if it is lost instead."""
    if deal.owner is not None and rules.turnover and deal.owner_gone.triggered:
        if rules.lose_on_departure:
            log.lose(deal.lead, now, stage, REP_LEFT)
            return False
        deal.owner, deal.owner_gone = team.take_owner()
    return True


def record_work(
    run: Run, deal: Deal, s: int, rep: Rep, queued: float, start: float, skill: float
) -> tuple[int, float]:
    """Log who worked stage ``s`` and when, count the task (and the deal, for experience).

    Returns:
        The quota period now, and ``skill`` (the worker's pass factor) times
        their experience in the lead's segment when learning is on.
    """
    log, lead, now = run.log, deal.lead, run.clock.env.now
    if run.experience is not None:
        skill *= run.experience.factor(lead, s, rep)
    period = run.clock.period_of(now)
    rep.record.stage_tasks[period] += 1
    deal.waited += start - queued
    log.stage_handler[s][lead] = rep.rep_id
    log.stage_start_day[s][lead] = start
    log.stage_end_day[s][lead] = now
    return period, skill


def customer_answers(run: Run, deal: Deal, route: Route, s: int, skill: float, level: str) -> bool:
    """Stage ``s`` is done and the customer answered: whether the lead goes on (else recorded lost).

    A customer who went with the competitor meanwhile says so; otherwise the
    lead's coin decides (``stage_passes``).
    """
    log, lead, now = run.log, deal.lead, run.clock.env.now
    log.stage_done_day[s][lead] = now
    if run.rules.competition and now >= deal.row[COMPETITOR_DAY]:
        deal.lose(log, now, STAGES[s], COMPETITOR)
        return False
    if not stage_passes(run, deal, route, s, skill, level):
        deal.lose(log, now, STAGES[s], FAILED)
        return False
    return True


def stage_passes(run: Run, deal: Deal, route: Route, s: int, skill: float, level: str) -> bool:
    """Whether the lead passes stage ``s`` now: its pre-drawn coin against its probability.

    The lead's probability, times the route's factor and the worker's skill
    (at most 1), less the context lost at the relay in, less a key account's
    penalty when closed without a senior, halved per half-life of waiting.
    """
    row = deal.row
    probability = min(1.0, row[PASS_PROB + s] * route.pass_factor[s] * skill)
    probability *= 1.0 - deal.context_loss
    senior_rule = run.tiers.senior_rule[deal.tier]
    if senior_rule is not None and s == CLOSING and level != "senior":
        probability *= senior_rule[0]  # a key account closed without a senior
    half_life_days = run.rules.half_life_days
    if half_life_days is not None:
        probability *= 0.5 ** (deal.waited / half_life_days)
    return row[PASS_U + s] < probability


def book_win(
    env: simpy.Environment, run: Run, deal: Deal, route: Route, team: Team, rep: Rep
) -> None:
    """Won: the deal's owner (or, in a pooled team, the closer who worked it) books it.

    Then the deal becomes an account (``accounts.account_care``).
    """
    log = run.log
    if not keep_owner(run.rules, log, deal, team, STAGES[-1], env.now):
        return
    deal.release()
    closer = deal.owner if deal.owner is not None else rep
    value = deal.row[DEAL_VALUE]
    log.outcome[deal.lead] = WON
    log.end_day[deal.lead] = env.now
    period = run.clock.period_of(env.now)
    closer.record.wins[period] += 1
    closer.record.bookings[period] += value
    account = Account.won(deal.lead, deal.tier, value, deal.row, route.account_team)
    env.process(account_care(env, run, account, route, closer))
