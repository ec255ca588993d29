"""Seats, teams and routes: who can work a lead, and how work finds them.

Like a call centre's floor plan: desks (``Rep``, a seat that different people
hold over time), grouped into teams of one role (``Team``), either sharing
one line of callers (pooled: whoever frees up first takes the next) or each
with callers of their own (an owner per lead or account, round-robin or to
the least loaded). A ``Route`` is the sequence of teams a lead meets, and
``Org`` the teams of one structure with the route of each segment. Between
two different people a lead is relayed (``relay``): it can be dropped, can
lie on the desk for a while, and loses some context.

Time unit: days.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

from sim.config.scenario import RelayCosts, VersatilityConfig
from sim.model.people import initial_tenure, ramp_factor, role_levels
from sim.model.pools import Pool, PriorityPool
from sim.model.records import RepLog

if TYPE_CHECKING:
    from sim.model.staffing import Staffing

ACCOUNT_PRIORITY = 0  # lower is served first by a PriorityPool
SALES_PRIORITY = 1
REVIEW_LAST_PRIORITY = 2  # an account review behind every waiting sales task
REVIEW_PRIORITY = {
    "accounts_first": ACCOUNT_PRIORITY,
    "fifo": SALES_PRIORITY,
    "sales_first": REVIEW_LAST_PRIORITY,
}
"""An account review's queue priority under each ``accounts.review_priority``."""
SEAT_BLOCK_PRIORITY = -1  # a leaver's empty seat takes the next free slot before any work
PROSPECTING_PRIORITY = 3  # a block of outbound prospecting: only when nothing else waits


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
        slots: where leads wait for an owner with room (``routing.SlotBoard``), or None.
    """

    __slots__ = (
        "rep_id", "record", "resource", "level_pass", "level_effort", "ramp_days", "present",
        "departure", "leaving", "left_work", "open_deals", "accounts", "book_value", "role_seat",
        "coaching", "hires", "slots", "opened_day",
    )  # fmt: skip

    def __init__(self, env: simpy.Environment, rep_id: int, own_queue: bool):
        self.rep_id = rep_id
        self.record: RepLog | None = None  # set by ``Staffing.seat_person``
        # Reps of a pooled team share the team's queue and need no queue of their own.
        self.resource = PriorityPool(env, capacity=1) if own_queue else None
        self.level_pass = 1.0
        self.level_effort = 1.0
        self.ramp_days = 0.0
        self.role_seat = 0  # this seat's number among the structure's seats of its role
        self.coaching = 1.0
        self.hires = 0
        self.opened_day = 0.0  # when the seat came to be (a planned hire's requisition, a switch)
        self.present = True
        self.departure = env.event()
        self.leaving = False
        self.left_work: simpy.Event | None = None
        self.open_deals = 0
        self.accounts = 0
        self.book_value = 0.0
        self.slots = None  # the team's ``routing.SlotBoard`` when leads may wait for an owner


class Team:
    """Reps of one role (in one pod) and how work is routed to them.

    A *pooled* team has one shared first-come-first-served queue and whichever
    rep frees up first takes the next lead (an M/M/c queue when times are
    exponential). Other teams give each lead (or account) an owner on arrival,
    round-robin or to the least-loaded rep, and the lead queues for that rep.
    """

    def __init__(
        self,
        staffing: Staffing,
        name: str,
        role: str,
        pod: str,
        first_rep_id: int,
        headcount: int,
        pooled: bool,
        owner_assignment: str,
    ):
        env = staffing.clock.env
        people = staffing.scenario.people
        self.slots = None  # where leads wait for an owner with room (set by ``routing``)
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
            or staffing.performance is not None
        )
        first_in_role = staffing.number_seats(role, headcount)
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
            staffing.seat_person(rep, self, levels[k], hired_day=0.0 - tenures[k], initial=True)
            self.reps.append(rep)
        # A leaver's seat is blocked with a top-priority request, which a pooled
        # team's first-come-first-served Pool cannot express; without turnover it stays one
        # (a queue append per waiting request instead of a sorted insert). Prospecting
        # (outbound.py) waits behind every sales task, which also needs priorities.
        prospects = staffing.scenario.leads.outbound.prospects(role)
        self.priority_pool = pooled and (staffing.turnover is not None or prospects)
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
        # Versatility: set when colleagues of other roles in the pod may cover (versatility.py).
        self.cover: VersatilityConfig | None = None

    def planned_seat(self, staffing: Staffing, rep_id: int) -> Rep:
        """A seat of the hiring plan, numbered now, filled (``staffing.plan_hires``) later."""
        ramp = staffing.scenario.people.ramp
        rep = Rep(staffing.clock.env, rep_id, own_queue=not self.pooled)
        rep.ramp_days = ramp.days.get(self.role) if ramp.enabled else 0.0
        rep.role_seat = staffing.number_seats(self.role, 1)
        return rep

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


def pod_load(team: Team) -> float:
    """Leads waiting for or in work with a team, per rep present."""
    present = len(team.reps) - team.vacancies
    return (team.waiting + team.in_service) / max(present, 1)


@dataclass(frozen=True)
class Route:
    """The teams a lead meets, and what the relays and skills along it cost.

    Attributes:
        teams: the team working each funnel stage (prospecting, qualification, closing).
        account_team: the team that looks after the account once won.
        relays: what each relay point costs, in ``scenario.RELAYS`` order (into
            qualification, into closing, to account management, to another pod).
        pass_factor: per-stage multiplier on pass probability (generalist, expertise).
        effort_factor: per-stage multiplier on effort (generalist).
        pod: pod index, or -1 outside Pods.
        overflow: other pods' routes for this segment (without its expertise), which
            may take a new lead when this pod is overloaded; empty = never.
    """

    teams: tuple[Team, Team, Team]
    account_team: Team
    relays: tuple[RelayCosts, ...]
    pass_factor: tuple[float, float, float]
    effort_factor: tuple[float, float, float]
    pod: int = -1
    overflow: tuple[Route, ...] = ()


@dataclass(frozen=True)
class Org:
    """The teams of one structure and the route a new lead of each segment takes."""

    teams: list[Team]
    segment_routes: list[Route]  # by segment code: where a new lead of the segment goes


def relay(
    env: simpy.Environment, handoff: RelayCosts, drop_u: float, delay_unit: float
) -> Generator[simpy.Event, Any, tuple[float | None, float]]:
    """A lead passes between two people: maybe dropped, then delayed.

    Returns:
        ``(context_loss, delay_days)``; context_loss is None when the lead was dropped.
    """
    loss, delay = relay_costs(handoff, drop_u, delay_unit)
    if delay > 0:
        yield env.timeout(delay)
    return loss, delay


def relay_costs(
    handoff: RelayCosts, drop_u: float, delay_unit: float
) -> tuple[float | None, float]:
    """What a relay costs a lead with these draws: ``relay``'s answer, before its delay."""
    if drop_u < handoff.drop_prob:
        return None, 0.0
    delay = handoff.mean_delay_days
    if handoff.delay_distribution == "exponential":
        delay *= delay_unit
    return handoff.context_loss, delay
