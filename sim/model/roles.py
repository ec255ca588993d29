"""The people and what they do with a lead, as SimPy processes.

A lead walks its route like a baton in a relay: a lead-gen rep prospects it,
hands it to a qualifier, who hands it to a closer, who hands the new customer
to an account manager (in All-In one generalist runs every leg). At each leg
the lead waits for a rep (queue), takes the rep's time (effort), then waits
for the customer (lag, the rep is free meanwhile); then its pre-drawn coin says
whether it passes. Between two different people the baton can be dropped,
can lie on the track for a while (delay), and loses some context (a lower pass
probability at the next leg). A lead that waits goes cold, and past its
patience it leaves unworked.

Every role (lead gen, qualifier, closer, account manager, generalist) runs the
same ``stage_work`` process with its own parameters: roles differ in numbers,
not in mechanics, which is what lets the plain-queueing limit be checked
against theory.

People: a ``Rep`` is a seat. The person in it has a level (pace, skill, pay),
an individual skill score with performance spread on, and a tenure (a new
hire ramps up). With turnover on, ``seat_turnover`` makes
the person resign now and then: the seat stops taking work once the task in
hand is done, the leads and accounts the leaver owned go to colleagues (or the
leads are lost), and after a hiring lag a new hire starts at tenure 0.

Time unit: days.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.config.scenario import ROLES, STAGES, AccountsConfig, HandoffConfig, Scenario
from sim.model.lead_table import (
    ACCOUNT_RELAY,
    COMPETITOR_DAY,
    DEAL_VALUE,
    EFFORT_UNIT,
    GO_LIVE_UNIT,
    HANDOFF_DELAY_UNIT,
    HANDOFF_U,
    LAG_UNIT,
    OVERFLOW_DELAY_UNIT,
    OVERFLOW_U,
    PASS_PROB,
    PASS_U,
    PATIENCE_UNIT,
    TIER,
    lead_table,
    per_stage,
    referral_table,
)
from sim.model.leads import LeadStream, referral_chances
from sim.model.people import (
    coaching_factors,
    initial_tenure,
    period_edges,
    person_factors,
    ramp_factor,
    role_levels,
)
from sim.model.pools import Pool, PriorityPool
from sim.model.records import (
    ACCOUNT_DROPPED,
    ACTIVE,
    CHURNED,
    COMPETITOR,
    DROPPED,
    FAILED,
    REP_LEFT,
    WENT_COLD,
    WON,
    LeadLog,
    ReferralLeads,
    RepLog,
    credit_and_quota,
)
from sim.model.seeding import keyed_rng

ACCOUNT_PRIORITY = 0  # lower is served first by a PriorityPool
SALES_PRIORITY = 1
SEAT_BLOCK_PRIORITY = -1  # a leaver's empty seat takes the next free slot before any work
OWNER_LEFT = "owner_left"
"""What ``stage_work`` returns when the owner a task waited for resigned meanwhile."""
HANDOFF_POINT_NAMES = ("handoff_to_qualification", "handoff_to_closing")
REFERRAL_BRANCH = 1
"""Key suffix of an account's referral stream: ``keyed_rng(accounts, *lead_key, 1)``."""


class Rep:
    """One seat: a capacity of one rep-day per day, a queue, and the person in it.

    Attributes:
        record: the current person's log (a leaver's until the new hire starts).
        level_pass, level_effort: the current person's pass-probability and effort
            multipliers once ramped (level, individual skill, free-riding, coaching).
        coaching: the coaching multiplier on pass probability in the current period.
        hires: how many people have held the seat before the current one.
        present: False from the person's resignation until the new hire starts.
        departure: fires when the current person resigns; the work they own
            waits on it so it can move to a colleague.
        open_deals, accounts, book_value: what the seat carries now (load for
            least-loaded assignment; annual value of the accounts held).
    """

    __slots__ = (
        "rep_id", "record", "resource", "level_pass", "level_effort", "ramp_days", "present",
        "departure", "leaving", "left_work", "open_deals", "accounts", "book_value", "role_seat",
        "coaching", "hires",
    )  # fmt: skip

    def __init__(self, env: simpy.Environment, rep_id: int, own_queue: bool):
        self.rep_id = rep_id
        self.record: RepLog | None = None  # set by ``Model.seat_person``
        # Reps of a pooled team share the team's queue and need no queue of their own.
        self.resource = PriorityPool(env, capacity=1) if own_queue else None
        self.level_pass = 1.0
        self.level_effort = 1.0
        self.ramp_days = 0.0
        self.role_seat = 0  # this seat's number among the structure's seats of its role
        self.coaching = 1.0
        self.hires = 0
        self.present = True
        self.departure = env.event()
        self.leaving = False
        self.left_work: simpy.Event | None = None
        self.open_deals = 0
        self.accounts = 0
        self.book_value = 0.0


class Team:
    """Reps of one role (in one pod) and how work is routed to them.

    A *pooled* team has one shared first-come-first-served queue and whichever
    rep frees up first takes the next lead (an M/M/c queue when times are
    exponential). Other teams give each lead (or account) an owner on arrival,
    round-robin or to the least-loaded rep, and the lead queues for that rep.
    """

    def __init__(
        self,
        model: Model,
        name: str,
        role: str,
        pod: str,
        first_rep_id: int,
        headcount: int,
        pooled: bool,
        owner_assignment: str,
    ):
        env = model.env
        people = model.scenario.people
        self.name = name
        self.role = role
        self.pod = pod
        self.pooled = pooled
        self.owner_assignment = owner_assignment
        ramp = people.ramp
        ramp_days = ramp.days.get(role) if ramp.enabled else 0.0
        self.ramp_start = ramp.start_productivity
        self.ramp_pass_start = ramp.start_pass_prob_factor
        self.people_effects = (
            people.levels.enabled
            or (ramp.enabled and ramp_days > 0)
            or model.performance is not None
        )
        first_in_role = model.role_seats.get(role, 0)
        model.role_seats[role] = first_in_role + headcount
        levels = role_levels(people.levels.mix.get(role), first_in_role, headcount)
        # Tenure is a fact about the team whether or not ramp-up slows anyone down.
        tenures = [
            initial_tenure(first_rep_id + k, ramp.days.get(role), ramp.initial_ramped_share)
            for k in range(headcount)
        ]
        self.coaching_rest = 1.0  # coaching of a rep who is not a poor performer, this period
        self.reps = []
        for k in range(headcount):
            rep = Rep(env, first_rep_id + k, own_queue=not pooled)
            rep.ramp_days = ramp_days
            rep.role_seat = first_in_role + k
            model.seat_person(rep, self, levels[k], hired_day=0.0 - tenures[k], initial=True)
            self.reps.append(rep)
        # A leaver's seat is blocked with a top-priority request, which a pooled
        # team's first-come-first-served Pool cannot express; without turnover it stays one
        # (a queue append per waiting request instead of a sorted insert).
        self.priority_pool = pooled and model.turnover is not None
        if pooled:
            kind = PriorityPool if self.priority_pool else Pool
            self.resource = kind(env, capacity=headcount)
        else:
            self.resource = None
        # Longest-idle rep takes the next lead, which spreads work evenly.
        self.idle = deque(self.reps) if pooled else None
        self.next_owner = 0
        self.vacancies = 0
        self.waiting = 0
        self.in_service = 0
        self.context_switch_cost = 0.0
        self.max_context_switch_factor = 1.0

    def assign_owner(self) -> Rep:
        """Pick the rep who will own a new lead or account (a present one if any)."""
        reps = self.reps
        if self.vacancies:
            reps = [rep for rep in self.reps if rep.present] or self.reps
        if self.owner_assignment == "round_robin":
            rep = reps[self.next_owner % len(reps)]
            self.next_owner += 1
            return rep
        return min(reps, key=rep_load)

    def take_owner(self) -> tuple[Rep, simpy.Event]:
        """Assign an owner and count the deal in their pipeline."""
        owner = self.assign_owner()
        owner.open_deals += 1
        return owner, owner.departure

    @property
    def open_deals(self) -> int:
        """Deals currently owned by this team's reps (owner-assigned teams only)."""
        return sum(rep.open_deals for rep in self.reps)


def rep_load(rep: Rep) -> int:
    """What least-loaded assignment minimises: open deals plus accounts held."""
    return rep.open_deals + rep.accounts


def rep_skill(rep: Rep, now: float, team: Team) -> tuple[float, float]:
    """(effort multiplier, pass-probability multiplier) of the seat's person now."""
    tenure = now - rep.record.hired_day
    if tenure >= rep.ramp_days:
        return rep.level_effort, rep.level_pass
    pace = ramp_factor(tenure, rep.ramp_days, team.ramp_start)
    skill = ramp_factor(tenure, rep.ramp_days, team.ramp_pass_start)
    return rep.level_effort / pace, rep.level_pass * skill


@dataclass(frozen=True)
class Route:
    """The teams a lead meets, and what the relays and skills along it cost.

    Attributes:
        teams: the team working each funnel stage (prospecting, qualification, closing).
        account_team: the team that looks after the account once won.
        handoff: relay costs between two different people.
        pass_factor: per-stage multiplier on pass probability (generalist, expertise).
        effort_factor: per-stage multiplier on effort (generalist).
        pod: pod index, or -1 outside Pods.
        overflow: other pods' routes for this segment (without its expertise), which
            may take a new lead when this pod is overloaded; empty = never.
    """

    teams: tuple[Team, Team, Team]
    account_team: Team
    handoff: HandoffConfig
    pass_factor: tuple[float, float, float]
    effort_factor: tuple[float, float, float]
    pod: int = -1
    overflow: tuple[Route, ...] = ()


class Model:
    """Everything the processes of one structure run share."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        leads: LeadStream,
        accounts_seed: Any,
        log: LeadLog,
        work_seed: Any = None,
        structure: str = "",
    ):
        self.env = env
        self.structure = structure
        self.scenario = scenario
        self.leads = leads
        self.accounts_seed = accounts_seed
        self.work_seed = work_seed
        self.log = log
        self.horizon_days = scenario.horizon_days
        self.warmup_days = scenario.warmup_days
        self.patience_days = scenario.decay.mean_patience_days
        self.half_life_days = scenario.decay.half_life_days
        self.mean_effort_days = [scenario.stages.get(s).mean_effort_days for s in STAGES]
        self.mean_lag_days = [scenario.stages.get(s).mean_lag_days for s in STAGES]
        self.tier_effort = [t.effort_multiplier for t in scenario.leads.tiers]
        self.tier_complexity = [t.complexity for t in scenario.leads.tiers]
        # Key-account tiers: (pass factor, churn multiplier) without a senior; None = no rule.
        self.tier_senior_rule = [
            (t.without_senior_pass_factor, t.without_senior_churn_multiplier)
            if t.senior_required and scenario.people.levels.enabled
            else None
            for t in scenario.leads.tiers
        ]
        self.competition = scenario.competition.enabled
        self.lead_table = lead_table(leads, scenario)
        self.n_organic = len(leads)
        # Referral leads get ids from n_organic on, in the order they arrive in this run.
        referrals = scenario.referrals
        self.referrals = referrals if referrals.enabled else None
        self.referral_rows: list[list[float]] = []  # their lead_table rows
        self.referral_keys: list[tuple[int, ...]] = []  # their seed keys (see lead_key)
        self.referral_leads = ReferralLeads()
        self.segment_routes: list[Route] = []  # set once the structure is built
        fulfilment = scenario.fulfilment
        self.fulfilment = fulfilment if fulfilment.enabled else None
        self.ops = Pool(env, capacity=fulfilment.ops_staff) if fulfilment.enabled else None
        turnover = scenario.people.turnover
        self.turnover = turnover if turnover.enabled else None
        self.lose_on_departure = turnover.enabled and turnover.open_deals == "lose"
        accounts = scenario.accounts
        # Reviews without effort, churn, expansion or turnover only recognise revenue.
        self.quiet_reviews = (
            accounts.mean_review_effort_days == 0
            and accounts.churn_prob_per_review == 0
            and accounts.expansion_prob_per_review == 0
            and self.turnover is None
            and self.referrals is None
        )
        self.quiet_accounts: list[int] = []  # accounts whose reviews finish_accounts replays
        self.period_days = scenario.quotas.period_days
        self.period_edges = period_edges(scenario.horizon_days, self.period_days)
        self.last_period = len(self.period_edges) - 2
        self.people: list[RepLog] = []  # everyone who ever held a seat, in hiring order
        self.role_seats: dict[str, int] = {}  # seats of each role created so far
        pods = scenario.structures.pods
        self.overflow = pods.overflow if pods is not None else None
        performance = scenario.people.performance
        self.performance = performance if performance.enabled else None
        config = getattr(scenario.structures, structure, None)
        self.weak_can_hide = config is not None and config.weak_can_hide

    def lead_row(self, lead: int) -> list[float]:
        """A lead's ``lead_table`` row as Python floats (a referral's is kept as one)."""
        if lead < self.n_organic:
            return self.lead_table[lead].tolist()
        return self.referral_rows[lead - self.n_organic]

    def lead_key(self, lead: int) -> tuple[int, ...]:
        """The ids that key a lead's own random streams, the same in every structure.

        A lead of the stream is its id; a referral is its referrer's key, the
        referral branch and its number among the referrer's chances.
        """
        if lead < self.n_organic:
            return (lead,)
        return self.referral_keys[lead - self.n_organic]

    def period_of(self, day: float) -> int:
        """Index of the quota period that contains ``day``."""
        period = int(day / self.period_days)
        return period if period < self.last_period else self.last_period

    def add_busy(self, record: RepLog, start: float, end: float) -> None:
        """Credit a person with work done in [start, end], split by quota period."""
        low = start if start >= self.warmup_days else self.warmup_days
        high = end if end <= self.horizon_days else self.horizon_days
        if high <= low:
            return
        period = self.period_of(low)
        edges = self.period_edges
        while period < self.last_period and high > edges[period + 1]:
            record.busy_days[period] += edges[period + 1] - low
            low, period = edges[period + 1], period + 1
        record.busy_days[period] += high - low

    def seat_person(self, rep: Rep, team: Team, level: str, hired_day: float, initial: bool):
        """A person takes a seat (at day 0, or as a new hire): their log and their factors."""
        skill_z = 0.0
        if self.performance is not None:
            # Keyed by role, seat within the role and hire number: the same person in
            # every structure, whoever else is hired meanwhile.
            rng = keyed_rng(self.work_seed, ROLES.index(team.role), rep.role_seat, rep.hires)
            skill_z = float(rng.standard_normal())
        record = RepLog(
            rep_id=rep.rep_id,
            person_id=len(self.people),
            role=team.role,
            team=team.name,
            pod=team.pod,
            level=level,
            hired_day=hired_day,
            periods=self.last_period + 1,
            initial=initial,
            skill_z=skill_z,
        )
        self.people.append(record)
        rep.record = record
        rep.hires += 1
        rep.coaching = team.coaching_rest
        self.set_person_factors(rep, team)

    def set_person_factors(self, rep: Rep, team: Team) -> None:
        """The seat's person's ramped multipliers on pass probability and effort."""
        level = self.scenario.people.levels.get(rep.record.level)
        rep.level_pass, rep.level_effort = person_factors(
            level.pass_prob_factor,
            level.effort_factor,
            rep.record.skill_z,
            self.performance,
            self.weak_can_hide,
        )
        rep.level_pass *= rep.coaching

    def missed_quota(self, rep: Rep) -> bool:
        """Whether the seat's ramped person finished the last whole period under quota."""
        period = self.period_of(self.env.now) - 1
        if period < 0:
            return False
        record = rep.record
        start, end = self.period_edges[period], self.period_edges[period + 1]
        if record.hired_day + rep.ramp_days > start:
            return False  # still ramping (or not yet hired) when the period began
        if self.weak_can_hide:
            return False  # paid on team results, and nobody looks at their own numbers
        annual = self.scenario.quota(self.structure, record.role)
        credit, quota = credit_and_quota(record, period, annual, end - start, 1.0)
        return quota is not None and quota > 0 and credit < quota


def stage_work(
    env: simpy.Environment,
    model: Model,
    team: Team,
    owner: Rep | None,
    effort_days: float,
    patience_days: float | None,
    priority: int,
    owner_gone: simpy.Event | None = None,
) -> Generator[simpy.Event, Any, tuple[Rep, float, float] | str | None]:
    """A rep of ``team`` works one task: wait for the rep, then take the rep's time.

    Args:
        env: the environment.
        model: the shared run state.
        team: the team doing the work.
        owner: the rep who owns the task, or None to take the first free rep
            of a pooled team.
        effort_days: effort at a mid-level ramped specialist's pace (before the
            person's level and ramp, and before context switching).
        patience_days: how long the task waits before it is abandoned; None = forever.
        priority: queue priority (lower first).
        owner_gone: the owner's departure event, when turnover is on; the task
            stops waiting if it fires.

    Returns:
        ``(rep, start_day, pass_factor)`` once the work is done (``pass_factor``
        is the person's level and ramp multiplier on pass probability), None
        if patience ran out, ``OWNER_LEFT`` if the owner resigned while it waited.
    """
    if owner is not None:
        request = owner.resource.request(priority)
    else:
        request = team.resource.request(priority) if team.priority_pool else team.resource.request()
    team.waiting += 1
    with request:
        if patience_days is None and owner_gone is None:
            yield request
        else:
            wait: simpy.Event = request
            if patience_days is not None and request.triggered:
                # A rep is free at once, so patience cannot run out: no timeout to
                # arm (it would sit in the event queue until it expired). A
                # condition of the request alone resumes this process at the same
                # point in the event order as ``request | timeout`` would.
                wait = env.any_of([request])
            elif patience_days is not None:
                wait = wait | env.timeout(patience_days)
            if owner_gone is not None:
                wait = wait | owner_gone
            yield wait
            if not request.triggered:
                team.waiting -= 1
                return OWNER_LEFT if owner_gone is not None and owner_gone.triggered else None
        team.waiting -= 1
        rep, start, effort_days, pass_factor = start_work(env, team, owner, effort_days)
        yield env.timeout(effort_days)
        finish_work(env, model, team, rep, start, pooled=owner is None)
    return rep, start, pass_factor


def start_work(
    env: simpy.Environment, team: Team, owner: Rep | None, effort_days: float
) -> tuple[Rep, float, float, float]:
    """A task's wait is over: the rep starts the work now.

    Returns:
        ``(rep, start_day, effort_days, pass_factor)``: the effort after the
        person's level and ramp and context switching, and their multiplier on
        pass probability.
    """
    rep = team.idle.popleft() if owner is None else owner
    pass_factor = 1.0
    if team.people_effects:
        effort_scale, pass_factor = rep_skill(rep, env.now, team)
        effort_days *= effort_scale
    if team.context_switch_cost > 0:
        # Juggling many deals at different stages costs a generalist time.
        factor = 1.0 + team.context_switch_cost * max(0, rep.open_deals - 1)
        effort_days *= min(factor, team.max_context_switch_factor)
    start = env.now
    rep.record.busy_since = start
    team.in_service += 1
    return rep, start, effort_days, pass_factor


def finish_work(
    env: simpy.Environment, model: Model, team: Team, rep: Rep, start: float, pooled: bool
) -> None:
    """The rep finished the work: credit the busy time and free the rep (before the release).

    The person in the seat is the one who started the task: a leaver finishes
    the task in hand before the seat empties (``resign_and_replace``).
    """
    team.in_service -= 1
    record = rep.record
    record.busy_since = None
    model.add_busy(record, start, env.now)
    if pooled:
        if rep.leaving:
            # The leaver finished the task in hand; the seat is now empty.
            rep.leaving = False
            rep.left_work.succeed()
        else:
            team.idle.append(rep)


def lead_arrivals(
    env: simpy.Environment, model: Model, routes: list[Route]
) -> Generator[simpy.Event, Any, None]:
    """The market: start each lead's journey at its pre-drawn arrival time.

    One source process instead of one sleeping process per lead keeps memory
    flat in the number of leads.
    """
    for lead, arrival in enumerate(model.leads.arrival_day.tolist()):
        if arrival > env.now:
            yield env.timeout(arrival - env.now)
        env.process(lead_journey(env, model, lead, routes[lead]))


def lead_journey(
    env: simpy.Environment, model: Model, lead: int, route: Route
) -> Generator[simpy.Event, Any, None]:
    """One lead from arrival to a win (then an account) or a loss."""
    row = model.lead_row(lead)  # this lead's columns of ``lead_table``
    pass_prob, pass_u = row[per_stage(PASS_PROB)], row[per_stage(PASS_U)]
    handoff_u, delay_units = row[per_stage(HANDOFF_U)], row[per_stage(HANDOFF_DELAY_UNIT)]
    patience_units = row[per_stage(PATIENCE_UNIT)]
    effort_units, lag_units = row[per_stage(EFFORT_UNIT)], row[per_stage(LAG_UNIT)]
    deal_value, competitor_day = row[DEAL_VALUE], row[COMPETITOR_DAY]
    log = model.log
    tier = int(row[TIER])
    complexity = model.tier_complexity[tier]
    effort_tier = model.tier_effort[tier]
    senior_rule = model.tier_senior_rule[tier]
    turnover = model.turnover is not None
    # The model's constants the stages read, as locals.
    mean_effort_days, mean_lag_days = model.mean_effort_days, model.mean_lag_days
    patience_days, half_life_days = model.patience_days, model.half_life_days
    competition = model.competition

    waited = 0.0  # days spent waiting in queues and relays: what makes a lead go cold
    first_loss = 0.0  # context lost before the first stage (passed to another pod)
    if route.overflow:
        chosen = choose_pod(model, route)
        if chosen is not route:
            log.overflowed[lead] = True
            first_loss, delay = yield from relay(
                env, model.overflow.handoff, row[OVERFLOW_U], row[OVERFLOW_DELAY_UNIT]
            )
            if first_loss is None:
                log.lose(lead, env.now, "handoff_to_pod", DROPPED)
                return
            first_loss *= complexity
            waited += delay
            route = chosen
    log.pod[lead] = route.pod

    owner: Rep | None = None  # who owns the lead in an owner-assigned team
    owner_gone: simpy.Event | None = None  # fires if that owner resigns
    previous: Team | None = None
    for s, stage in enumerate(STAGES):
        team = route.teams[s]
        context_loss = first_loss if s == 0 else 0.0
        if previous is not None and team is not previous:
            if owner is not None:
                release(owner, owner_gone)
                owner = None
            handoff = route.handoff
            if handoff.drop_prob == 0 and handoff.mean_delay_days == 0:
                context_loss, delay = handoff.context_loss, 0.0  # a relay that costs no time
            else:
                context_loss, delay = yield from relay(
                    env, handoff, handoff_u[s - 1], delay_units[s - 1]
                )
            if context_loss is None:
                log.lose(lead, env.now, HANDOFF_POINT_NAMES[s - 1], DROPPED)
                return
            context_loss *= complexity
            waited += delay
        if team is not previous and not team.pooled:
            owner, owner_gone = team.take_owner()
        previous = team

        queued = env.now
        log.stage_queue_day[s][lead] = queued
        effort = mean_effort_days[s] * effort_units[s] * effort_tier * route.effort_factor[s]
        if owner is None and patience_days is None:
            # A pooled team and a lead that waits as long as it takes: stage_work's
            # common case written out, which saves a sub-generator per task.
            pool = team.resource
            if not pool.take():  # no rep free: queue for one
                grant = pool.request(SALES_PRIORITY) if team.priority_pool else pool.request()
                team.waiting += 1
                yield grant
                team.waiting -= 1
            rep, start, effort, skill = start_work(env, team, None, effort)
            yield env.timeout(effort)
            finish_work(env, model, team, rep, start, pooled=True)
            pool.release()
        else:
            patience = None if patience_days is None else patience_days * patience_units[s]
            while True:
                if owner is not None and turnover and owner_gone.triggered:
                    # The owner resigned: a colleague takes the lead, or nobody does.
                    if model.lose_on_departure:
                        log.lose(lead, env.now, stage, REP_LEFT)
                        return
                    owner, owner_gone = team.take_owner()
                remaining = None if patience is None else max(0.0, queued + patience - env.now)
                done = yield from stage_work(
                    env,
                    model,
                    team,
                    owner,
                    effort,
                    remaining,
                    SALES_PRIORITY,
                    owner_gone if turnover and owner is not None else None,
                )
                if done is not OWNER_LEFT:
                    break
            if done is None:
                release(owner, owner_gone)
                log.lose(lead, env.now, stage, WENT_COLD)
                return
            rep, start, skill = done
        worker = rep.record
        now = env.now
        period = model.period_of(now)
        worker.stage_tasks[period] += 1
        waited += start - queued
        log.stage_handler[s][lead] = rep.rep_id
        log.stage_start_day[s][lead] = start
        log.stage_end_day[s][lead] = now
        lag = mean_lag_days[s] * lag_units[s]
        if lag > 0:
            yield env.timeout(lag)
            now = env.now
            period = model.period_of(now)
        log.stage_done_day[s][lead] = now
        if competition and now >= competitor_day:
            # The customer answers that they went with the competitor meanwhile.
            release(owner, owner_gone)
            log.lose(lead, now, stage, COMPETITOR)
            return

        probability = min(1.0, pass_prob[s] * route.pass_factor[s] * skill) * (1.0 - context_loss)
        if senior_rule is not None and s == len(STAGES) - 1 and worker.level != "senior":
            probability *= senior_rule[0]  # a key account closed without a senior
        if half_life_days is not None:
            probability *= 0.5 ** (waited / half_life_days)
        if pass_u[s] >= probability:
            release(owner, owner_gone)
            log.lose(lead, now, stage, FAILED)
            return
        worker.passes[period] += 1

    # Won: the deal's owner (or, in a pooled team, the closer who worked it) books it.
    if owner is not None and turnover and owner_gone.triggered:
        if model.lose_on_departure:
            log.lose(lead, env.now, STAGES[-1], REP_LEFT)
            return
        owner, owner_gone = team.take_owner()
    release(owner, owner_gone)
    closer = owner if owner is not None else rep
    log.outcome[lead] = WON
    log.end_day[lead] = env.now
    period = model.period_of(env.now)
    closer.record.wins[period] += 1
    closer.record.bookings[period] += deal_value
    env.process(
        account_care(
            env,
            model,
            lead,
            route,
            closer,
            deal_value,
            handoff_u[ACCOUNT_RELAY],
            delay_units[ACCOUNT_RELAY],
            row[GO_LIVE_UNIT],
            tier,
        )
    )


def choose_pod(model: Model, route: Route) -> Route:
    """The route a new lead takes: its own pod's, unless that pod is overloaded.

    Load is the leads waiting for or in work with the pod's lead-gen team per
    rep present. An overloaded pod passes the lead to the least loaded other
    pod, if that one is less loaded.
    """
    own = pod_load(route.teams[0])
    if own <= model.overflow.threshold_leads_per_rep:
        return route
    other = min(route.overflow, key=lambda r: pod_load(r.teams[0]))
    return other if pod_load(other.teams[0]) < own else route


def pod_load(team: Team) -> float:
    """Leads waiting for or in work with a team, per rep present."""
    present = len(team.reps) - team.vacancies
    return (team.waiting + team.in_service) / max(present, 1)


def release(owner: Rep | None, owner_gone: simpy.Event | None) -> None:
    """The owner no longer carries the lead in their pipeline (a leaver's was cleared)."""
    if owner is not None and not owner_gone.triggered:
        owner.open_deals -= 1


def relay(
    env: simpy.Environment, handoff: HandoffConfig, drop_u: float, delay_unit: float
) -> Generator[simpy.Event, Any, tuple[float | None, float]]:
    """A lead passes between two people: maybe dropped, then delayed.

    Returns:
        ``(context_loss, delay_days)``; context_loss is None when the lead was dropped.
    """
    if drop_u < handoff.drop_prob:
        return None, 0.0
    delay = handoff.mean_delay_days
    if handoff.delay_distribution == "exponential":
        delay *= delay_unit
    if delay > 0:
        yield env.timeout(delay)
    return handoff.context_loss, delay


class AccountOwner:
    """Who looks after one account, and until when a leaver's handover makes it fragile."""

    __slots__ = ("rep", "gone", "fragile_until", "since")

    def __init__(self, rep: Rep, value: float, now: float):
        self.rep = rep
        self.gone = rep.departure
        self.fragile_until = -math.inf
        self.since = now
        rep.accounts += 1
        rep.book_value += value

    def hand_over(self, model: Model, team: Team, value: float) -> None:
        """The manager resigned: a colleague takes the account, which is at risk for a while."""
        self.rep = team.assign_owner()
        self.gone = self.rep.departure
        self.rep.accounts += 1
        self.rep.book_value += value
        self.fragile_until = model.env.now + model.turnover.leaver_churn_days
        self.since = model.env.now

    def in_book_since(self, model: Model, period: int) -> bool:
        """Whether the holder had the account at the period's start (it counts in their NRR)."""
        return self.since <= model.period_edges[period]


def account_care(
    env: simpy.Environment,
    model: Model,
    lead: int,
    route: Route,
    closer: Rep,
    value: float,
    handoff_u: float,
    delay_unit: float,
    go_live_unit: float,
    tier: int,
) -> Generator[simpy.Event, Any, None]:
    """A won deal as an account: go-live, periodic reviews, churn, expansion, revenue.

    With fulfilment on, the deal first waits for the operations team to
    implement it; then it is handed to its account manager. Revenue is
    recognised daily at the account's current annual value from the handover
    until it churns or the horizon ends (the last stretch is added by
    ``finish_accounts`` when the run stops). With referrals on, a well-served
    account becomes an advocate (``Advocacy``).
    """
    log = model.log
    team = route.account_team
    cfg: AccountsConfig = model.scenario.accounts
    turnover = model.turnover
    late_go_live = False
    if model.ops is not None:
        late_go_live = yield from go_live(env, model, lead, go_live_unit, tier)
    context_loss = 0.0
    if team is route.teams[-1]:
        manager = AccountOwner(
            closer, value, env.now
        )  # All-In: the rep who closed keeps the customer
    else:
        context_loss, _ = yield from relay(env, route.handoff, handoff_u, delay_unit)
        if context_loss is None:
            log.account_outcome[lead] = ACCOUNT_DROPPED
            log.account_end_day[lead] = env.now
            return
        context_loss *= model.tier_complexity[tier]
        manager = AccountOwner(team.assign_owner(), value, env.now)
    started = env.now
    log.account_handler[lead] = manager.rep.rep_id
    log.account_start_day[lead] = started
    log.account_outcome[lead] = ACTIVE
    log.account_value[lead] = value
    reviews_left = math.ceil((model.horizon_days - started) / cfg.review_interval_days) + 1
    priority = ACCOUNT_PRIORITY if cfg.review_priority == "accounts_first" else SALES_PRIORITY
    tier_effort = model.tier_effort[tier]  # key accounts need more care
    log.revenue_until_day[lead] = started
    if model.quiet_reviews and context_loss == 0:
        # Nothing can happen at its reviews but revenue: no process needed.
        model.quiet_accounts.append(lead)
        return
    advocacy = Advocacy(model, lead) if model.referrals is not None else None
    annual_value = value
    for review in range(reviews_left):
        yield env.timeout(cfg.review_interval_days)
        if review == 0:
            # Drawn when first needed: an account won less than one review interval
            # before the horizon never has a review and never pays for a generator.
            churn_u, expand_u, effort_units = account_draws(model, lead, reviews_left)
        if turnover is not None and manager.gone.triggered:
            manager.hand_over(model, team, annual_value)
        neglected = False
        if cfg.mean_review_effort_days > 0:
            queued = env.now
            effort = cfg.mean_review_effort_days * effort_units[review] * tier_effort
            while True:
                gone = manager.gone if turnover is not None else None
                done = yield from stage_work(
                    env, model, team, manager.rep, effort, None, priority, gone
                )
                if done is not OWNER_LEFT:
                    break
                manager.hand_over(model, team, annual_value)
            rep, start, _ = done
            period = model.period_of(env.now)
            rep.record.reviews[period] += 1
            rep.record.review_wait_days[period] += start - queued
            neglected = start - queued > cfg.neglect_after_days
            if neglected:
                log.neglected_reviews[lead] += 1
        log.revenue[lead] += annual_value * (env.now - log.revenue_until_day[lead]) / 365.0
        log.revenue_until_day[lead] = env.now
        churn = cfg.churn_prob_per_review * (cfg.neglect_churn_multiplier if neglected else 1.0)
        fragile = env.now < manager.fragile_until
        if fragile:
            # The relationship left with the previous manager.
            churn *= turnover.leaver_churn_multiplier
        senior_rule = model.tier_senior_rule[tier]
        if senior_rule is not None and manager.rep.record.level != "senior":
            churn *= senior_rule[1]  # a key account looked after without a senior
        if review == 0:
            if late_go_live:
                churn *= model.fulfilment.late_churn_multiplier
            # Context lost at the handover shows up as a shakier first renewal.
            churn = 1.0 - (1.0 - min(churn, 1.0)) * (1.0 - context_loss)
        if advocacy is not None:
            if advocacy.advocate:
                churn *= model.referrals.advocate_churn_multiplier
            well_served = not (neglected or fragile or (review == 0 and late_go_live))
        period = model.period_of(env.now)
        holder = manager.rep
        if churn_u[review] < churn:
            if not manager.gone.triggered:
                holder.accounts -= 1
                holder.book_value -= annual_value
            if manager.in_book_since(model, period):
                holder.record.churned_value[period] += annual_value
            log.account_outcome[lead] = CHURNED
            log.account_end_day[lead] = env.now
            if advocacy is not None:
                advocacy.review(env, False, 0.0)
            return
        if expand_u[review] < cfg.expansion_prob_per_review:
            added = cfg.expansion_fraction * value
            annual_value += added
            if not manager.gone.triggered:
                holder.book_value += added
            if manager.in_book_since(model, period):
                holder.record.expansion_value[period] += added
            log.account_value[lead] = annual_value
        if advocacy is not None:
            advocacy.review(env, well_served, cfg.review_interval_days)


def go_live(
    env: simpy.Environment, model: Model, lead: int, unit: float, tier: int
) -> Generator[simpy.Event, Any, bool]:
    """The operations team implements a new customer; returns whether go-live was late."""
    won = env.now
    effort = model.fulfilment.mean_effort_days * unit * model.tier_effort[tier]
    with model.ops.request() as request:
        yield request
        yield env.timeout(effort)
    model.log.go_live_day[lead] = env.now
    return env.now - won > model.fulfilment.target_days


class Advocacy:
    """Whether one account is an advocate, and the referral leads it brings meanwhile.

    The account's referral chances are drawn from its own keyed stream the
    first time it becomes an advocate (``leads.referral_chances``). After each
    review, a chance that falls before the next review becomes a lead if the
    account is an advocate now: advocacy changes only at reviews.
    """

    __slots__ = ("model", "lead", "streak", "advocate", "chances", "rows", "next_chance")

    def __init__(self, model: Model, lead: int):
        self.model = model
        self.lead = lead
        self.streak = 0
        self.advocate = False
        self.chances: LeadStream | None = None
        self.rows: np.ndarray | None = None  # the chances' referral_table, built with them
        self.next_chance = 0

    def review(self, env: simpy.Environment, well_served: bool, until_next: float) -> None:
        """Update advocacy after a review, and start the referrals due before the next one."""
        model, log = self.model, self.model.log
        cfg = model.referrals
        self.streak = self.streak + 1 if well_served else 0
        self.advocate = self.streak >= cfg.reviews_to_advocate
        log.advocate[self.lead] = self.advocate
        if not self.advocate:
            return
        if math.isnan(log.advocate_day[self.lead]):
            log.advocate_day[self.lead] = env.now
        if self.chances is None:
            rng = keyed_rng(model.accounts_seed, *model.lead_key(self.lead), REFERRAL_BRANCH)
            self.chances = referral_chances(model.scenario, cfg.per_advocate_per_year / 365.0, rng)
            self.rows = referral_table(self.chances, model.scenario)
        days = self.chances.arrival_day
        # Chances while the account was not an advocate have passed unused.
        while self.next_chance < len(days) and days[self.next_chance] <= env.now:
            self.next_chance += 1
        due = []
        end = min(env.now + until_next, model.horizon_days)
        while self.next_chance < len(days) and days[self.next_chance] <= end:
            due.append(self.next_chance)
            self.next_chance += 1
        if due:
            env.process(referral_arrivals(env, model, self.lead, self.chances, self.rows, due))


def referral_arrivals(
    env: simpy.Environment,
    model: Model,
    referrer: int,
    chances: LeadStream,
    rows: np.ndarray,
    due: list[int],
) -> Generator[simpy.Event, Any, None]:
    """Start the journey of each referral chance that came due, at its day."""
    for j in due:
        day = float(chances.arrival_day[j])
        if day > env.now:
            yield env.timeout(day - env.now)
        lead = model.log.add_lead()
        model.log.referred_by[lead] = referrer
        model.referral_rows.append(rows[j].tolist())
        model.referral_keys.append((*model.lead_key(referrer), REFERRAL_BRANCH, j))
        facts = model.referral_leads
        segment = int(chances.segment[j])
        facts.arrival_day.append(day)
        facts.segment.append(segment)
        facts.tier.append(int(chances.tier[j]))
        facts.deal_value.append(float(chances.deal_value[j]))
        facts.quality.append(float(chances.quality[j]))
        env.process(lead_journey(env, model, lead, model.segment_routes[segment]))


def account_draws(
    model: Model, lead: int, reviews: int
) -> tuple[list[float], list[float], list[float]]:
    """An account's own luck for its reviews: churn and expansion uniforms, effort units.

    The generator is keyed by the lead's key (its id, or a referral's origin),
    so the account meets the same luck in every structure that wins the deal.
    """
    rng = keyed_rng(model.accounts_seed, *model.lead_key(lead))
    churn_u = rng.uniform(size=reviews).tolist()
    expand_u = rng.uniform(size=reviews).tolist()
    effort_units = rng.standard_exponential(reviews).tolist()
    return churn_u, expand_u, effort_units


def seat_turnover(
    env: simpy.Environment, model: Model, team: Team, rep: Rep
) -> Generator[simpy.Event, Any, None]:
    """The people in one seat: each resigns after a random time and is replaced.

    The time to resignation is exponential at the role's attrition rate, times
    ``under_quota_multiplier`` while the person missed quota last period. The
    varying rate is drawn exactly by thinning: candidate times at the highest
    rate, each kept with probability (current rate / highest rate).
    """
    cfg = model.turnover
    rate_per_day = cfg.attrition_per_year.get(team.role) / 365.0
    if rate_per_day <= 0:
        return
    highest = cfg.under_quota_multiplier
    # Keyed by role and seat within the role: closer k meets the same turnover luck in
    # every structure, and adding a rep of another role shifts nobody's draws.
    rng = keyed_rng(model.work_seed, ROLES.index(team.role), rep.role_seat)
    while True:
        yield env.timeout(rng.exponential(1.0 / (rate_per_day * highest)))
        current = highest if model.missed_quota(rep) else 1.0
        if rng.uniform() * highest >= current:
            continue
        yield from resign_and_replace(env, model, team, rep)


def resign_and_replace(
    env: simpy.Environment, model: Model, team: Team, rep: Rep
) -> Generator[simpy.Event, Any, None]:
    """A person resigns: finish the task in hand, leave, and after the hiring lag, a new hire."""
    leaver = rep.record
    resigned = env.now
    rep.present = False
    team.vacancies += 1
    # The leaver's deals and accounts no longer count as theirs; each moves on when it next
    # needs its owner (``owner_gone`` / ``AccountOwner.gone``).
    rep.open_deals = 0
    rep.accounts = 0
    rep.book_value = 0.0
    gone, rep.departure = rep.departure, env.event()
    gone.succeed()
    if team.pooled:
        blocker = team.resource.request(SEAT_BLOCK_PRIORITY)
        yield blocker
        if rep in team.idle:
            team.idle.remove(rep)
        else:
            rep.leaving = True
            rep.left_work = env.event()
            yield rep.left_work
    else:
        blocker = rep.resource.request(SEAT_BLOCK_PRIORITY)
        yield blocker  # granted once the task in hand is done
    leaver.left_day = env.now
    yield env.timeout(max(0.0, model.turnover.hiring_lag_days - (env.now - resigned)))
    model.seat_person(rep, team, leaver.level, env.now, initial=False)
    rep.present = True
    team.vacancies -= 1
    if team.pooled:
        team.idle.append(rep)
        team.resource.release()
    else:
        rep.resource.release()


def quota_periods(env: simpy.Environment, model: Model, teams: list[Team]):
    """At each quota period's start, note the book of accounts each person holds.

    With coaching on, the team's manager also shares out coaching time for the
    period among the people present (``people.coaching_factors``).
    """
    performance = model.performance
    coaching = performance is not None and performance.coaching_gain > 0
    for period, start in enumerate(model.period_edges[:-1]):
        if start > env.now:
            yield env.timeout(start - env.now)
        for team in teams:
            for rep in team.reps:
                if rep.present:
                    rep.record.book_start_value[period] = rep.book_value
            if coaching:
                present = [rep for rep in team.reps if rep.present]
                factors, team.coaching_rest = coaching_factors(
                    [rep.record.skill_z for rep in present], performance
                )
                for rep, factor in zip(present, factors, strict=True):
                    rep.coaching = factor
                    model.set_person_factors(rep, team)


def finish_accounts(model: Model) -> None:
    """At the horizon: recognise revenue of live accounts up to the last day."""
    log = model.log
    interval = model.scenario.accounts.review_interval_days
    for lead in model.quiet_accounts:
        # The reviews account_care skipped, with its arithmetic in its order (same bits).
        value, until = log.account_value[lead], log.revenue_until_day[lead]
        day = until + interval
        while day < model.horizon_days:
            log.revenue[lead] += value * (day - until) / 365.0
            until, day = day, day + interval
        log.revenue_until_day[lead] = until
    for lead, outcome in enumerate(log.account_outcome):
        if outcome == ACTIVE:
            elapsed = model.horizon_days - log.revenue_until_day[lead]
            log.revenue[lead] += log.account_value[lead] * elapsed / 365.0
            log.revenue_until_day[lead] = model.horizon_days


def finish_reps(model: Model, teams: list[Team]) -> None:
    """At the horizon: count the busy time of work in progress, and the accounts held."""
    for team in teams:
        for rep in team.reps:
            record = rep.record
            if record.busy_since is not None:
                model.add_busy(record, record.busy_since, model.horizon_days)
                record.busy_since = None
            record.accounts_at_end = rep.accounts
