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

from sim.leads import LeadStream
from sim.records import (
    ACCOUNT_DROPPED,
    ACTIVE,
    CHURNED,
    DROPPED,
    FAILED,
    WENT_COLD,
    WON,
    LeadLog,
    RepLog,
)
from sim.scenario import STAGES, AccountsConfig, HandoffConfig, Scenario
from sim.seeding import account_rng

ACCOUNT_PRIORITY = 0  # lower is served first by a PriorityResource
SALES_PRIORITY = 1
HANDOFF_POINT_NAMES = ("handoff_to_qualification", "handoff_to_closing")


class Rep:
    """One rep: a capacity of one rep-day per day, a queue, a record."""

    __slots__ = ("rep_id", "record", "resource")

    def __init__(self, env: simpy.Environment, record: RepLog, own_queue: bool):
        self.rep_id = record.rep_id
        self.record = record
        # Reps of a pooled team share the team's queue and need no queue of their own.
        self.resource = simpy.PriorityResource(env, capacity=1) if own_queue else None


class Team:
    """Reps of one role (in one pod) and how work is routed to them.

    A *pooled* team has one shared first-come-first-served queue and whichever
    rep frees up first takes the next lead (an M/M/c queue when times are
    exponential). Other teams give each lead (or account) an owner on arrival,
    round-robin or to the least-loaded rep, and the lead queues for that rep.
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        role: str,
        pod: str,
        records: list[RepLog],
        pooled: bool,
        owner_assignment: str,
    ):
        self.name = name
        self.role = role
        self.pod = pod
        self.pooled = pooled
        self.owner_assignment = owner_assignment
        self.reps = [Rep(env, record, own_queue=not pooled) for record in records]
        self.resource = simpy.Resource(env, capacity=len(self.reps)) if pooled else None
        # Longest-idle rep takes the next lead, which spreads work evenly.
        self.idle = deque(self.reps) if pooled else None
        self.next_owner = 0
        self.waiting = 0
        self.in_service = 0
        self.context_switch_cost = 0.0
        self.max_context_switch_factor = 1.0

    def assign_owner(self) -> Rep:
        """Pick the rep who will own a new lead or account."""
        if self.owner_assignment == "round_robin":
            rep = self.reps[self.next_owner % len(self.reps)]
            self.next_owner += 1
            return rep
        return min(self.reps, key=rep_load)

    @property
    def open_deals(self) -> int:
        """Deals currently owned by this team's reps (owner-assigned teams only)."""
        return sum(rep.record.open_deals for rep in self.reps)


def rep_load(rep: Rep) -> int:
    """What least-loaded assignment minimises: open deals plus accounts held."""
    return rep.record.open_deals + rep.record.accounts


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
    """

    teams: tuple[Team, Team, Team]
    account_team: Team
    handoff: HandoffConfig
    pass_factor: tuple[float, float, float]
    effort_factor: tuple[float, float, float]
    pod: int = -1


class Model:
    """Everything the processes of one structure run share."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        leads: LeadStream,
        accounts_seed: Any,
        log: LeadLog,
    ):
        self.env = env
        self.scenario = scenario
        self.leads = leads
        self.accounts_seed = accounts_seed
        self.log = log
        self.horizon_days = scenario.horizon_days
        self.warmup_days = scenario.warmup_days
        self.patience_days = scenario.decay.mean_patience_days
        self.half_life_days = scenario.decay.half_life_days
        self.mean_effort_days = [scenario.stages.get(s).mean_effort_days for s in STAGES]
        self.mean_lag_days = [scenario.stages.get(s).mean_lag_days for s in STAGES]
        self.tier_effort = [t.effort_multiplier for t in scenario.leads.tiers]
        self.tier_complexity = [t.complexity for t in scenario.leads.tiers]
        self.pass_prob = lead_pass_probabilities(leads, scenario)

    def busy_overlap(self, start: float, end: float) -> float:
        """Part of [start, end] inside the measured window [warm-up, horizon]."""
        return max(0.0, min(end, self.horizon_days) - max(start, self.warmup_days))


def lead_pass_probabilities(leads: LeadStream, scenario: Scenario) -> list[list[float]]:
    """Each lead's pass probability per stage before structure effects.

    Latent quality shifts the stage probability on the logit scale
    (``quality_weight`` per standard deviation); with weight 0 every lead has
    the stage's probability.
    """
    base = np.array([scenario.stages.get(s).pass_prob for s in STAGES])
    weight = scenario.leads.quality_weight
    if weight == 0 or len(leads) == 0:
        return np.broadcast_to(base, (len(leads), len(STAGES))).tolist()
    with np.errstate(divide="ignore"):
        logit = np.log(base) - np.log1p(-base)
    shifted = 1.0 / (1.0 + np.exp(-(logit[None, :] + weight * leads.quality[:, None])))
    # 0 and 1 are certainties that quality cannot change.
    return np.where((base > 0) & (base < 1), shifted, base).tolist()


def stage_work(
    env: simpy.Environment,
    model: Model,
    team: Team,
    owner: Rep | None,
    effort_days: float,
    patience_days: float | None,
    priority: int,
) -> Generator[simpy.Event, Any, tuple[Rep, float] | None]:
    """A rep of ``team`` works one task: wait for the rep, then take the rep's time.

    Args:
        env: the environment.
        model: the shared run state.
        team: the team doing the work.
        owner: the rep who owns the task, or None to take the first free rep
            of a pooled team.
        effort_days: effort at a specialist's pace (before context switching).
        patience_days: how long the task waits before it is abandoned; None = forever.
        priority: queue priority on an owner's queue (lower first).

    Returns:
        ``(rep, start_day)`` once the work is done, or None if patience ran out.
    """
    request = team.resource.request() if owner is None else owner.resource.request(priority)
    team.waiting += 1
    with request:
        if patience_days is None:
            yield request
        else:
            yield request | env.timeout(patience_days)
            if not request.triggered:
                team.waiting -= 1
                return None
        team.waiting -= 1
        rep = team.idle.popleft() if owner is None else owner
        record = rep.record
        if team.context_switch_cost > 0:
            # Juggling many deals at different stages costs a generalist time.
            factor = 1.0 + team.context_switch_cost * max(0, record.open_deals - 1)
            effort_days *= min(factor, team.max_context_switch_factor)
        start = env.now
        record.busy_since = start
        team.in_service += 1
        yield env.timeout(effort_days)
        team.in_service -= 1
        record.busy_since = None
        record.busy_days += model.busy_overlap(start, env.now)
        if owner is None:
            team.idle.append(rep)
    return rep, start


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
    _, pass_u, handoff_u, delay_units, patience_units, effort_units, lag_units = model.leads.rows[
        lead
    ]
    log = model.log
    log.pod[lead] = route.pod
    pass_prob = model.pass_prob[lead]
    tier = model.leads.tier[lead]
    complexity = model.tier_complexity[tier]
    effort_tier = model.tier_effort[tier]

    owner: Rep | None = None  # who owns the lead in an owner-assigned team
    previous: Team | None = None
    waited = 0.0  # days spent waiting in queues and relays: what makes a lead go cold
    for s, stage in enumerate(STAGES):
        team = route.teams[s]
        context_loss = 0.0
        if previous is not None and team is not previous:
            release(owner)
            owner = None
            context_loss, delay = yield from relay(
                env, route.handoff, handoff_u[s - 1], delay_units[s - 1]
            )
            if context_loss is None:
                log.lose(lead, env.now, HANDOFF_POINT_NAMES[s - 1], DROPPED)
                return
            context_loss *= complexity
            waited += delay
        if team is not previous and not team.pooled:
            owner = team.assign_owner()
            owner.record.open_deals += 1
        previous = team

        queued = env.now
        log.stage_times[(stage, "queue_day")][lead] = queued
        patience = None if model.patience_days is None else model.patience_days * patience_units[s]
        effort = model.mean_effort_days[s] * effort_units[s] * effort_tier * route.effort_factor[s]
        done = yield from stage_work(env, model, team, owner, effort, patience, SALES_PRIORITY)
        if done is None:
            release(owner)
            log.lose(lead, env.now, stage, WENT_COLD)
            return
        rep, start = done
        rep.record.stage_tasks += 1
        waited += start - queued
        log.handler[stage][lead] = rep.rep_id
        log.stage_times[(stage, "start_day")][lead] = start
        log.stage_times[(stage, "end_day")][lead] = env.now
        lag = model.mean_lag_days[s] * lag_units[s]
        if lag > 0:
            yield env.timeout(lag)
        log.stage_times[(stage, "done_day")][lead] = env.now

        probability = min(1.0, pass_prob[s] * route.pass_factor[s]) * (1.0 - context_loss)
        if model.half_life_days is not None:
            probability *= 0.5 ** (waited / model.half_life_days)
        if pass_u[s] >= probability:
            release(owner)
            log.lose(lead, env.now, stage, FAILED)
            return

    # Won: the rep who closed books the deal and, in All-In, keeps the customer.
    release(owner)
    value = float(model.leads.deal_value[lead])
    log.outcome[lead] = WON
    log.end_day[lead] = env.now
    rep.record.wins += 1
    rep.record.bookings += value
    env.process(account_care(env, model, lead, route, rep, value, handoff_u[2], delay_units[2]))


def release(owner: Rep | None) -> None:
    """The owner no longer carries the lead in their pipeline."""
    if owner is not None:
        owner.record.open_deals -= 1


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


def account_care(
    env: simpy.Environment,
    model: Model,
    lead: int,
    route: Route,
    closer: Rep,
    value: float,
    handoff_u: float,
    delay_unit: float,
) -> Generator[simpy.Event, Any, None]:
    """A won deal as an account: periodic reviews, churn, expansion, revenue.

    Revenue is recognised daily at the account's current annual value from the
    day it is handed over until it churns or the horizon ends (the last stretch
    is added by ``finish_accounts`` when the run stops).
    """
    log = model.log
    team = route.account_team
    cfg: AccountsConfig = model.scenario.accounts
    context_loss = 0.0
    if team is route.teams[-1]:
        manager = closer  # All-In: the rep who closed keeps the customer
    else:
        context_loss, _ = yield from relay(env, route.handoff, handoff_u, delay_unit)
        if context_loss is None:
            log.account_outcome[lead] = ACCOUNT_DROPPED
            log.account_end_day[lead] = env.now
            return
        context_loss *= model.tier_complexity[model.leads.tier[lead]]
        manager = team.assign_owner()
    manager.record.accounts += 1
    started = env.now
    log.account_handler[lead] = manager.rep_id
    log.account_start_day[lead] = started
    log.account_outcome[lead] = ACTIVE
    log.account_value[lead] = value
    reviews_left = math.ceil((model.horizon_days - started) / cfg.review_interval_days) + 1
    rng = account_rng(model.accounts_seed, lead)
    churn_u = rng.uniform(size=reviews_left).tolist()
    expand_u = rng.uniform(size=reviews_left).tolist()
    effort_units = rng.standard_exponential(reviews_left).tolist()
    priority = ACCOUNT_PRIORITY if cfg.review_priority == "accounts_first" else SALES_PRIORITY
    tier_effort = model.tier_effort[model.leads.tier[lead]]  # key accounts need more care
    log.revenue_until_day[lead] = started
    annual_value = value
    for review in range(reviews_left):
        yield env.timeout(cfg.review_interval_days)
        neglected = False
        if cfg.mean_review_effort_days > 0:
            queued = env.now
            effort = cfg.mean_review_effort_days * effort_units[review] * tier_effort
            rep, start = yield from stage_work(env, model, team, manager, effort, None, priority)
            rep.record.reviews += 1
            rep.record.review_wait_days += start - queued
            neglected = start - queued > cfg.neglect_after_days
            if neglected:
                log.neglected_reviews[lead] += 1
        log.revenue[lead] += annual_value * (env.now - log.revenue_until_day[lead]) / 365.0
        log.revenue_until_day[lead] = env.now
        churn = cfg.churn_prob_per_review * (cfg.neglect_churn_multiplier if neglected else 1.0)
        if review == 0:
            # Context lost at the handover shows up as a shakier first renewal.
            churn = 1.0 - (1.0 - min(churn, 1.0)) * (1.0 - context_loss)
        if churn_u[review] < churn:
            manager.record.accounts -= 1
            log.account_outcome[lead] = CHURNED
            log.account_end_day[lead] = env.now
            return
        if expand_u[review] < cfg.expansion_prob_per_review:
            annual_value += cfg.expansion_fraction * value
            log.account_value[lead] = annual_value


def finish_accounts(model: Model) -> None:
    """At the horizon: recognise revenue of live accounts up to the last day."""
    log = model.log
    for lead, outcome in enumerate(log.account_outcome):
        if outcome == ACTIVE:
            elapsed = model.horizon_days - log.revenue_until_day[lead]
            log.revenue[lead] += log.account_value[lead] * elapsed / 365.0
            log.revenue_until_day[lead] = model.horizon_days


def finish_busy_time(model: Model, teams: list[Team]) -> None:
    """At the horizon: count the busy time of work still in progress."""
    for team in teams:
        for rep in team.reps:
            if rep.record.busy_since is not None:
                rep.record.busy_days += model.busy_overlap(
                    rep.record.busy_since, model.horizon_days
                )
                rep.record.busy_since = None
