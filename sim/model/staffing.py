"""The people in the seats: who sits where, how good they are, when they leave.

Like a staffing plan on a whiteboard: each seat (``teams.Rep``) is held by a
person with a level (pace, skill, pay), an individual skill score with
performance spread on, and a tenure (a new hire ramps up). With turnover on,
``seat_turnover`` makes the person resign now and then: the seat stops taking
work once the task in hand is done, the leads and accounts the leaver owned
go to colleagues (or the leads are lost), and after a hiring lag a new hire
starts at tenure 0. At each quota period's start, ``quota_periods`` notes
each person's book of accounts and shares out the manager's coaching time.

``Staffing`` is the part of a run's state that seats people; it alone
appends to the list of everyone who ever held a seat (``people``).

Time unit: days.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from sim.config.scenario import ROLES, HireConfig, PerformanceConfig, Scenario, TurnoverConfig
from sim.model.people import coaching_factors, person_factors, role_levels
from sim.model.records import RepLog, credit_and_quota
from sim.model.seeding import keyed_rng
from sim.model.state import Clock
from sim.model.teams import SEAT_BLOCK_PRIORITY, Rep, Team


class Staffing:
    """Who holds each seat of one structure run, and the rules that make them who they are.

    Attributes:
        clock: the run's calendar.
        scenario: the scenario (people, levels, quotas).
        structure: the structure's name (its quotas, whether the weak can hide).
        work_seed: parent of each seat's own generators (skill, turnover).
        performance: the individual-performance rules, None when off.
        turnover: the turnover rules, None when off.
        weak_can_hide: paid on team results with nobody watching individual numbers.
        people: everyone who ever held a seat, in hiring order (their logs).
        role_seats: seats of each role numbered so far (``number_seats``).
    """

    def __init__(
        self, clock: Clock, scenario: Scenario, structure: str, work_seed: np.random.SeedSequence
    ):
        self.clock = clock
        self.scenario = scenario
        self.structure = structure
        self.work_seed = work_seed
        performance = scenario.people.performance
        self.performance: PerformanceConfig | None = performance if performance.enabled else None
        turnover = scenario.people.turnover
        self.turnover: TurnoverConfig | None = turnover if turnover.enabled else None
        config = getattr(scenario.structures, structure, None)
        self.weak_can_hide = config is not None and config.weak_can_hide
        self.people: list[RepLog] = []
        self.role_seats: dict[str, int] = {}
        self.closed: set[Team] = set()  # teams a reorganisation closed: nobody is hired into them

    def number_seats(self, role: str, count: int) -> int:
        """Number ``count`` new seats of ``role`` across the structure; returns the first."""
        first = self.role_seats.get(role, 0)
        self.role_seats[role] = first + count
        return first

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
            periods=self.clock.last_period + 1,
            initial=initial,
            skill_z=skill_z,
        )
        record.seat_opened_day = rep.opened_day
        self.people.append(record)
        rep.record = record
        rep.hires += 1
        rep.coaching = team.coaching_rest
        self.set_person_factors(rep)
        if team.slots is not None:  # a new person has room: a lead waiting for one may take it
            rep.slots = team.slots
            team.slots.wake(rep)

    def set_person_factors(self, rep: Rep) -> None:
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
        clock = self.clock
        period = clock.period_of(clock.env.now) - 1
        if period < 0:
            return False
        record = rep.record
        start, end = clock.period_edges[period], clock.period_edges[period + 1]
        if record.hired_day + rep.ramp_days > start:
            return False  # still ramping (or not yet hired) when the period began
        if self.weak_can_hide:
            return False  # paid on team results, and nobody looks at their own numbers
        annual = self.scenario.quota(self.structure, record.role)
        credit, quota = credit_and_quota(record, period, annual, end - start, 1.0)
        return quota is not None and quota > 0 and credit < quota


def seat_turnover(
    env: simpy.Environment, staffing: Staffing, team: Team, rep: Rep
) -> Generator[simpy.Event, Any, None]:
    """The people in one seat: each resigns after a random time and is replaced.

    The time to resignation is exponential at the role's attrition rate, times
    ``under_quota_multiplier`` while the person missed quota last period. The
    varying rate is drawn exactly by thinning: candidate times at the highest
    rate, each kept with probability (current rate / highest rate).
    """
    cfg = staffing.turnover
    rate_per_day = cfg.attrition_per_year.get(team.role) / 365.0
    if rate_per_day <= 0:
        return
    highest = cfg.under_quota_multiplier
    # Keyed by role and seat within the role: closer k meets the same turnover luck in
    # every structure, and adding a rep of another role shifts nobody's draws.
    rng = keyed_rng(staffing.work_seed, ROLES.index(team.role), rep.role_seat)
    while True:
        yield env.timeout(rng.exponential(1.0 / (rate_per_day * highest)))
        if team in staffing.closed:
            return  # the team was closed at a reorganisation: its people moved or left
        current = highest if staffing.missed_quota(rep) else 1.0
        if rng.uniform() * highest >= current:
            continue
        yield from resign_and_replace(env, staffing, team, rep)
        if not cfg.backfill:
            return  # the seat stays empty: nobody left in it to resign


def resign_and_replace(
    env: simpy.Environment, staffing: Staffing, team: Team, rep: Rep
) -> Generator[simpy.Event, Any, None]:
    """A person resigns: finish the task in hand, leave, and after the hiring lag, a new hire."""
    leaver = rep.record
    resigned = env.now
    rep.present = False
    team.vacancies += 1
    # The leaver's deals and accounts no longer count as theirs; each moves on when it next
    # needs its owner (``Deal.owner_gone`` / ``Account.gone``).
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
    if not staffing.turnover.backfill:
        return  # a hiring freeze: the seat stays blocked and empty to the horizon
    yield env.timeout(max(0.0, staffing.turnover.hiring_lag_days - (env.now - resigned)))
    if team in staffing.closed:
        return  # closed at a reorganisation meanwhile: the hire is cancelled
    staffing.seat_person(rep, team, leaver.level, env.now, initial=False)
    seat_filled(team, rep)


def seat_filled(team: Team, rep: Rep) -> None:
    """Someone sat down in an empty, blocked seat: it takes work again (the block is let go)."""
    rep.present = True
    team.vacancies -= 1
    if team.pooled:
        team.idle.append(rep)
        team.resource.release()
    else:
        rep.resource.release()


def plan_hires(
    env: simpy.Environment,
    staffing: Staffing,
    teams: list[Team],
    first_rep_id: int,
    hires: tuple[HireConfig, ...] | None = None,
    days: tuple[float, float] | None = None,
    early: Callable[[Team, Rep], None] | None = None,
) -> int:
    """The structure's hiring plan: each planned seat is filled at its start day.

    The seats are numbered after every seat of day 0 (rep id, seat within
    the role), so a plan changes none of the draws or levels of the team in
    post; a hire starting at or after the horizon changes nothing at all.

    Args:
        env: the run's environment (at day 0).
        staffing: the run's people.
        teams: the teams hired into.
        first_rep_id: the next seat id.
        hires: the plan; None = the staffing structure's ``hires``.
        days: [first, last) start days of the hires made (a reorganisation's
            structures each hire in their own part of the run); None = [0, horizon).
        early: called with each seat whose start falls before ``days`` (a
            reorganisation's destination adds them to its seats at the switch).

    Returns:
        The id after the last planned seat.
    """
    if hires is None:
        hires = getattr(staffing.scenario.structures, staffing.structure).hires
    first_day, last_day = (0.0, staffing.clock.horizon_days) if days is None else days
    lag = staffing.scenario.people.turnover.hiring_lag_days
    by_name = {team.name: team for team in teams}
    rep_id = first_rep_id
    for hire in hires:
        team = by_name[f"{hire.pod}/{hire.role}" if hire.pod else hire.role]
        start_day = hire.start_day(lag)
        for _ in range(hire.count):
            rep = team.planned_seat(staffing, rep_id)
            rep.opened_day = hire.day  # a vacancy from the requisition on
            rep_id += 1
            if first_day <= start_day < last_day:
                env.process(_start_planned_hire(env, staffing, team, rep, start_day))
            elif early is not None and start_day < first_day:
                early(team, rep)
    return rep_id


def _start_planned_hire(
    env: simpy.Environment, staffing: Staffing, team: Team, rep: Rep, start_day: float
) -> Generator[simpy.Event, Any, None]:
    """A planned hire starts: a new seat in the team, its person at tenure 0."""
    yield env.timeout(start_day)
    mix = staffing.scenario.people.levels.mix.get(team.role)
    level = role_levels(mix, rep.role_seat, 1)[0]
    staffing.seat_person(rep, team, level, env.now, initial=False)
    team.reps.append(rep)
    if team.pooled:
        team.idle.append(rep)
        team.resource.release()  # one more server for the team's queue
    if staffing.turnover is not None:
        env.process(seat_turnover(env, staffing, team, rep))


def quota_periods(
    env: simpy.Environment, staffing: Staffing, teams: list[Team]
) -> Generator[simpy.Event, Any, None]:
    """At each quota period's start, note the book of accounts each person holds.

    With coaching on, the team's manager also shares out coaching time for the
    period among the people present (``people.coaching_factors``).
    """
    performance = staffing.performance
    coaching = performance is not None and performance.coaching_gain > 0
    for period, start in enumerate(staffing.clock.period_edges[:-1]):
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
                    staffing.set_person_factors(rep)


def finish_reps(clock: Clock, teams: list[Team]) -> None:
    """At the horizon: count the busy time of work in progress, and the accounts held."""
    for team in teams:
        for rep in team.reps:
            record = rep.record
            if record.busy_since is not None:
                clock.add_busy(record, record.busy_since, clock.horizon_days)
                record.busy_since = None
            record.accounts_at_end = rep.accounts
