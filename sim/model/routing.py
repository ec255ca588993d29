"""Routing and priorities: who owns a lead, in what order a queue is served, and the cap.

Like a sales manager's dispatch rules: a key account goes to a senior; the
closers' queue may serve the biggest deal first; no rep carries more than so
many open deals, and a lead that finds everyone full waits for a slot (or is
put in nurture, ``nurture.py``). Every rule is off by default, and then the
journey takes none of these paths (``Routing.owners_limited``, the teams'
``priority_pool``), which keeps today's model and its fast path.

Queue order by value or quality rides on the ``PriorityPool``'s priority: a
sales task's priority is ``SALES_PRIORITY + 0.5 - score`` with a score in
[0, 1] (value: ``v / (v + mean deal value)``; quality: the lead's pass
probability at the stage, before structure effects), so a better lead sits
ahead of a worse one, ties stay first come first served, and every sales
task stays behind an ``accounts_first`` review and ahead of a ``sales_first``
one. An account review at the ``fifo`` level ranks as a lead of score 0.5.

Time unit: days.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

from sim.config.routing import NurtureConfig
from sim.config.scenario import STAGES, Scenario
from sim.model.lead_table import DEAL_VALUE, PASS_PROB, PATIENCE_UNIT
from sim.model.nurture import nurture_visit
from sim.model.pools import PriorityPool
from sim.model.records import NO_FREE_REP, WENT_COLD
from sim.model.teams import SALES_PRIORITY, Org, Rep, Team, rep_load

if TYPE_CHECKING:
    import numpy as np

    from sim.model.journey import Deal
    from sim.model.state import Run

CLOSING = len(STAGES) - 1


class SlotBoard:
    """Leads of one team waiting for an owner with room, in the order they began to wait.

    A waiter is woken when a rep that could take it frees a slot (a deal
    closed, lost or passed on) or a new person takes a seat; it then checks
    again and, if it still finds no room (another lead was quicker), waits
    again at the front.
    """

    __slots__ = ("env", "waiters")

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.waiters: list[tuple[simpy.Event, bool]] = []

    def wait(self, senior: bool, front: bool = False) -> simpy.Event:
        """An event that fires when a rep (a senior, if ``senior``) may have room."""
        event = self.env.event()
        self.waiters.insert(0 if front else len(self.waiters), (event, senior))
        return event

    def wake(self, rep: Rep) -> None:
        """``rep`` may have room now: wake the first waiter it could take."""
        senior = rep.record.level == "senior"
        for k, (event, needs_senior) in enumerate(self.waiters):
            if senior or not needs_senior:
                del self.waiters[k]
                event.succeed()
                return

    def give_up(self, event: simpy.Event) -> None:
        """A waiter's patience ran out: it no longer waits (nor takes a wake-up)."""
        self.waiters = [w for w in self.waiters if w[0] is not event]


@dataclass(frozen=True, slots=True)
class Routing:
    """The run's routing rules (``routing`` and ``nurture`` blocks) and the teams they touch.

    Attributes:
        senior: ``off``, ``prefer`` or ``wait`` (``RoutingConfig.senior_routing``).
        cap: most open deals per rep of an owner-assigned team; None = no cap.
        full_to_nurture: a lead finding every rep full goes to nurture (else it waits).
        owners_limited: whether an owner is chosen here rather than by ``Team.take_owner``.
        closing_teams: the teams that close (where seniors matter).
        priority_policy: the queue order of each team that does not serve first come first.
        mean_deal_value: scale of the value score.
        nurture: the nurture rules; None = a cold lead is lost for good.
        nurture_seed: parent of each lead's nurture draws (keyed by its key and visit).
    """

    senior: str
    cap: int | None
    full_to_nurture: bool
    owners_limited: bool
    closing_teams: frozenset[Team]
    priority_policy: dict[Team, str]
    mean_deal_value: float
    nurture: NurtureConfig | None
    nurture_seed: np.random.SeedSequence

    @classmethod
    def of(
        cls, env: simpy.Environment, scenario: Scenario, org: Org, seed: np.random.SeedSequence
    ) -> Routing:
        """The routing of one structure run; sets up the teams' queues and slot boards."""
        cfg = scenario.routing
        senior = cfg.senior_routing
        owners_limited = cfg.max_open_deals_per_rep is not None or senior != "off"
        policy = {}
        for team in org.teams:
            order = cfg.priority.get(team.role)
            if order != "fifo":
                policy[team] = order
                if team.pooled and not team.priority_pool:
                    # A first-come-first-served Pool cannot rank; the same servers, ranked.
                    team.priority_pool = True
                    team.resource = PriorityPool(env, capacity=len(team.reps))
            if owners_limited and not team.pooled:
                team.slots = SlotBoard(env)
                for rep in team.reps:
                    rep.slots = team.slots
        return cls(
            senior=senior,
            cap=cfg.max_open_deals_per_rep,
            full_to_nurture=cfg.when_full == "nurture",
            owners_limited=owners_limited,
            closing_teams=frozenset(route.teams[CLOSING] for route in org.segment_routes),
            priority_policy=policy,
            mean_deal_value=scenario.leads.mean_deal_value,
            nurture=scenario.nurture if scenario.nurture.enabled else None,
            nurture_seed=seed,
        )

    def sales_priority(self, team: Team, deal: Deal, s: int) -> float:
        """Queue priority of stage ``s``'s task for ``deal`` in ``team`` (lower first)."""
        order = self.priority_policy.get(team)
        if order is None:
            return SALES_PRIORITY
        if order == "value":
            value = deal.row[DEAL_VALUE]
            score = value / (value + self.mean_deal_value)
        else:
            score = deal.row[PASS_PROB + s]
        return SALES_PRIORITY + 0.5 - score

    def needs_senior(self, run: Run, deal: Deal, team: Team) -> bool:
        """Whether routing should give ``deal`` a senior in ``team``."""
        return (
            self.senior != "off"
            and team in self.closing_teams
            and run.tiers.senior_rule[deal.tier] is not None
        )


def senior_first(run: Run, deal: Deal, team: Team, s: int) -> None:
    """A pooled team's key account at closing: a free senior, if any, takes it next.

    Moves the longest-idle senior to the front of the team's idle reps, so
    that the lead's task, if a rep is free now, starts with that senior. A
    lead that must queue takes whoever frees up first: a pooled queue has no
    owner to wait for.
    """
    if s != CLOSING or not run.routing.needs_senior(run, deal, team):
        return
    idle = team.idle
    for k, rep in enumerate(idle):
        if rep.record.level == "senior":
            if k:
                del idle[k]
                idle.appendleft(rep)
            return


def account_owner(run: Run, tier: int, team: Team) -> Rep:
    """Who looks after a new account: a present senior for a key account under senior routing.

    An account cannot wait for care, so ``wait`` acts as ``prefer`` here; with
    no senior present it goes to the team's usual owner (the tier's churn
    penalty applies). A leaver's accounts move to the usual owner.
    """
    if run.routing.senior != "off" and run.tiers.senior_rule[tier] is not None:
        seniors = [rep for rep in team.reps if rep.present and rep.record.level == "senior"]
        if seniors:
            return pick_owner(team, seniors)
    return team.assign_owner()


def candidates(routing: Routing, team: Team, senior: bool) -> list[Rep]:
    """Present reps of ``team`` with room under the cap (seniors only if ``senior``)."""
    cap = routing.cap
    return [
        rep
        for rep in team.reps
        if rep.present
        and (cap is None or rep.open_deals < cap)
        and (not senior or rep.record.level == "senior")
    ]


def pick_owner(team: Team, reps: list[Rep]) -> Rep:
    """One of ``reps`` by the team's owner assignment (round robin or least loaded)."""
    if team.owner_assignment == "round_robin":
        rep = reps[team.next_owner % len(reps)]
        team.next_owner += 1
        return rep
    return min(reps, key=rep_load)


def has_senior(team: Team) -> bool:
    """Whether any seat of ``team`` holds a senior (present or not)."""
    return any(rep.record.level == "senior" for rep in team.reps)


def choose_owner(run: Run, deal: Deal, team: Team) -> tuple[Rep | None, bool]:
    """The owner ``deal`` takes now, or None and whether it waits for a senior."""
    routing = run.routing
    wants_senior = routing.needs_senior(run, deal, team)
    if wants_senior:
        seniors = candidates(routing, team, senior=True)
        if seniors:
            return pick_owner(team, seniors), True
        if routing.senior == "wait" and has_senior(team):
            return None, True
    if routing.cap is None and not team.vacancies:
        return pick_owner(team, team.reps), False
    anyone = candidates(routing, team, senior=False)
    if anyone:
        return pick_owner(team, anyone), False
    if routing.cap is None:  # every seat empty: as ``Team.assign_owner``, the first seat
        return pick_owner(team, team.reps), False
    return None, False


def take_owner(
    env: simpy.Environment, run: Run, deal: Deal, team: Team, s: int
) -> Generator[simpy.Event, Any, bool]:
    """``deal`` takes an owner in ``team`` (waiting for room if need be): False if lost.

    A lead that waits for room waits up to its stage patience (when leads go
    cold), and the wait counts as waiting (decay); a lead that finds every rep
    full goes to nurture instead when ``when_full = "nurture"``. A lost lead
    is recorded.
    """
    routing = run.routing
    patience = None
    if run.rules.patience_days is not None:
        patience = run.rules.patience_days * deal.row[PATIENCE_UNIT + s]
    since, front = env.now, False
    while True:
        owner, wants_senior = choose_owner(run, deal, team)
        if owner is not None:
            deal.waited += env.now - since
            owner.open_deals += 1
            deal.owner, deal.owner_gone = owner, owner.departure
            return True
        if routing.full_to_nurture and not wants_senior:
            return (yield from from_nurture(env, run, deal, team, s, NO_FREE_REP))
        room = team.slots.wait(wants_senior, front)
        if patience is None:
            yield room
        else:
            yield room | env.timeout(max(0.0, since + patience - env.now))
        if not room.triggered:  # went cold waiting for room
            team.slots.give_up(room)
            deal.waited += env.now - since
            if routing.nurture is None:
                run.log.lose(deal.lead, env.now, STAGES[s], WENT_COLD)
                return False
            return (yield from from_nurture(env, run, deal, team, s, WENT_COLD))
        front = True


def from_nurture(
    env: simpy.Environment, run: Run, deal: Deal, team: Team, s: int, reason: int
) -> Generator[simpy.Event, Any, bool]:
    """``deal`` leaves stage ``s`` for nurture: True once it is back in ``team``'s queue.

    It leaves its owner's pipeline; back, it takes an owner again (in an
    owner-assigned team). False if it never comes back (recorded as lost
    for ``reason``, at the stage) or is lost on the way back.
    """
    deal.release()
    deal.owner = None
    if not (yield from nurture_visit(env, run, deal, s, reason)):
        return False
    if team.pooled:
        return True
    if run.routing.owners_limited:
        return (yield from take_owner(env, run, deal, team, s))
    deal.owner, deal.owner_gone = team.take_owner()
    return True
