"""A switch of structure at a day: who moves where, and what happens to work in flight.

Like a sales floor that is rearranged over a weekend: on the switch day the
new teams exist, new leads go to them, and every person of the old teams
clears their desk (the task in hand and their queue, as a leaver finishes
the task in hand) and then takes a seat in the new structure, or leaves if
there is none. The mechanism, each rule stated once:

- **Seats.** The destination's seats are filled in turn across its teams
  (the first seat of every team, then the second, ...), each by a person of
  the same role if one is left (they keep their tenure), else by the next
  person in the old teams' order, who re-ramps: they start at tenure such
  that their pace is ``retained_productivity`` of a ramped person's
  (``retained_tenure``). Seats nobody fills are hired with the hiring lag
  (``people.turnover.hiring_lag_days``); people left over leave once their
  desk is clear. A mover keeps their level, skill and person id.
- **Open deals.** A deal moves at its next step after the switch. A deal due
  for a relay anyway lands with the destination's team for that stage. A
  deal its person would have worked on follows them if they now work that
  stage in the new structure; otherwise it is handed over through the
  destination's relay into that stage (``reorganise.relay`` overrides its
  costs), and a drop is lost at ``reorganisation``.
- **Accounts.** At its next review an account moves to the destination's
  account team for its segment: to its holder if they moved there, else to
  a new holder, and then the review's churn chance is multiplied by
  ``reorganise.churn_multiplier`` (the relationship changed hands).
- **Hires.** The starting structure's planned hires that start before the
  switch are made; the destination's that start from the switch on.

``structures.build_run`` builds the destination at day 0 with every seat
empty, so no seat, id or draw of the starting structure changes: before the
switch day, the run is the starting structure's run event for event.

Time unit: days.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Generator
from typing import Any

import simpy

from sim.config.scenario import RelayCosts, ReorganiseConfig, Scenario
from sim.model.journey import relay_outcome
from sim.model.lead_table import HANDOFF_DELAY_UNIT, HANDOFF_U, LeadBook
from sim.model.people import role_levels
from sim.model.records import RepLog
from sim.model.staffing import Staffing, plan_hires, seat_filled, seat_turnover
from sim.model.state import Run
from sim.model.teams import REVIEW_LAST_PRIORITY, Org, Rep, Route, Team, relay

CLEAR_DESK_PRIORITY = REVIEW_LAST_PRIORITY + 1
"""A mover's last request at their old desk: served after every task queued there."""


class EmptySeats:
    """Stands in for ``Staffing`` while the destination's teams are built: seats, no people.

    A ``Team`` seats a person in each seat it makes; here each seat gets a
    placeholder log that only carries the seat's level (from the role's mix),
    and nobody joins the run's people until a mover or a hire takes it.
    """

    def __init__(self, staffing: Staffing):
        self.staffing = staffing
        self.clock = staffing.clock
        self.scenario = staffing.scenario
        self.performance = staffing.performance
        self.turnover = staffing.turnover

    def number_seats(self, role: str, count: int) -> int:
        """Seats numbered after the starting structure's, as ``Staffing.number_seats``."""
        return self.staffing.number_seats(role, count)

    def seat_person(self, rep: Rep, team: Team, level: str, hired_day: float, initial: bool):
        """No person yet: a placeholder log with the seat's level."""
        periods = self.clock.last_period + 1
        rep.record = RepLog(
            rep.rep_id, -1, team.role, team.name, team.pod, level, math.nan, periods, True
        )


class Reorganisation:
    """The switch of one run: its day, the destination's teams, and where people move.

    Attributes:
        day: the switch day.
        config: the ``reorganise`` block.
        old_teams: the starting structure's teams.
        destination: the destination's teams and routes (built at day 0, seats empty).
        switched: whether the day has come.
        new_seat: each old seat's person -> the destination seat they move to.
        seat_team: each destination seat -> its team.
    """

    def __init__(
        self, day: float, config: ReorganiseConfig, old_teams: list[Team], destination: Org
    ):
        self.day = day
        self.config = config
        self.old_teams = frozenset(old_teams)
        self.destination = destination
        self.switched = False
        self.new_seat: dict[Rep, Rep] = {}
        self.seat_team = {seat: team for team in destination.teams for seat in team.reps}

    def moves(self, team: Team) -> bool:
        """Whether work at ``team`` moves now (the switch came and the team is an old one)."""
        return self.switched and team in self.old_teams

    def route(self, leads: LeadBook, lead: int) -> Route:
        """The destination's route for the lead's segment."""
        return self.destination.segment_routes[lead_segment(leads, lead)]

    def move_deal(
        self, env: simpy.Environment, run: Run, deal: Any, s: int, relayed: bool, worker: Rep | None
    ) -> Generator[simpy.Event, Any, tuple[Route, Team] | None]:
        """A deal of the old structure at stage ``s`` goes on in the new one.

        Args:
            env: the environment.
            run: the run (its log, its leads).
            deal: the ``journey.Deal``; its owner (if any) is an old seat.
            s: the stage it is about to queue for.
            relayed: whether it just came through a relay (or is starting out).
            worker: who worked its last stage (a pooled team's deal has no owner).

        Returns:
            The destination's route and stage ``s``'s team, or None if the deal
            was dropped in the hand-over (recorded).
        """
        route = self.route(run.leads, deal.lead)
        team = route.teams[s]
        run.log.pod[deal.lead] = route.pod
        person = deal.owner if deal.owner is not None else worker
        deal.release()
        deal.owner = None
        seat = self.new_seat.get(person)
        if not relayed and seat is not None and self.seat_team[seat] is team:
            if not team.pooled:  # the deal follows its person to their new desk
                seat.open_deals += 1
                deal.owner, deal.owner_gone = seat, seat.departure
            return route, team
        if not relayed and not (yield from self.hand_over(env, run, deal, route, s)):
            return None
        if not team.pooled:
            deal.owner, deal.owner_gone = team.take_owner()
        return route, team

    def hand_over(
        self, env: simpy.Environment, run: Run, deal: Any, route: Route, s: int
    ) -> Generator[simpy.Event, Any, bool]:
        """The deal passes to a new person at the switch; False if it was dropped (recorded)."""
        costs = relay_costs(route.relays[s - 1], self.config)
        row = deal.row
        loss, delay = yield from relay(
            env, costs, row[HANDOFF_U + s - 1], row[HANDOFF_DELAY_UNIT + s - 1]
        )
        return relay_outcome(run, deal, loss, delay, "reorganisation")

    def move_account(self, env: simpy.Environment, run: Run, account: Any) -> None:
        """At a review: an old team's account moves to the destination's account team.

        The churn multiplier of a change of holder applies at the review of the
        move and is lifted at the next one.
        """
        if account.move_churn_multiplier != 1.0:
            account.move_churn_multiplier = 1.0
            return
        if not self.moves(account.team):
            return
        team = self.route(run.leads, account.lead).account_team
        holder = account.rep
        if not account.gone.triggered:
            holder.accounts -= 1
            holder.book_value -= account.annual_value
        account.team = team
        seat = self.new_seat.get(holder)
        if seat is not None and self.seat_team[seat] is team:
            account.take(seat, env.now)  # the holder moved to this team: the relationship stays
        else:
            account.take(team.assign_owner(), env.now)
            account.move_churn_multiplier = self.config.churn_multiplier


def relay_costs(destination: RelayCosts, config: ReorganiseConfig) -> RelayCosts:
    """The hand-over's costs: the destination's relay, ``reorganise.relay``'s fields over it."""
    return destination.model_copy(update=config.relay.model_dump(exclude_none=True))


def lead_segment(leads: LeadBook, lead: int) -> int:
    """A lead's segment code (a referral's from the referrals that arrived)."""
    if lead < leads.n_organic:
        return int(leads.stream.segment[lead])
    return int(leads.referrals.segment[lead - leads.n_organic])


def retained_tenure(share: float, ramp_days: float, start: float) -> float:
    """The tenure at which a ramping person's pace is ``share`` of a ramped one's.

    The inverse of ``people.ramp_factor`` (linear from ``start`` at 0 to 1 at
    ``ramp_days``): a share at or below the ramp's start is tenure 0, a share
    of 1 (or no ramp) is fully ramped.
    """
    if ramp_days <= 0 or share >= 1.0:
        return ramp_days
    if share <= start:
        return 0.0
    return ramp_days * (share - start) / (1.0 - start)


def seats_in_turn(teams: list[Team]) -> list[tuple[Team, Rep]]:
    """The destination's seats in the order they are filled: each team's first, then second..."""
    longest = max(len(team.reps) for team in teams)
    return [(team, team.reps[k]) for k in range(longest) for team in teams if k < len(team.reps)]


def match_seats(
    people: list[tuple[Team, Rep]], seats: list[tuple[Team, Rep]]
) -> tuple[dict[Rep, tuple[Team, Rep]], list[tuple[Team, Rep]]]:
    """Who takes which seat: same role first, then in turn; and the seats left to hire."""
    free = list(seats)
    matched: dict[Rep, tuple[Team, Rep]] = {}
    for team, rep in people:
        same = next(
            (k for k, (seat_team, _) in enumerate(free) if seat_team.role == team.role), None
        )
        if same is not None:
            matched[rep] = free.pop(same)
    others = [rep for _, rep in people if rep not in matched]
    for rep, seat in zip(others, free, strict=False):
        matched[rep] = seat
    return matched, free[len(others) :]


def empty_seat(team: Team, seat: Rep) -> None:
    """A destination seat stays empty (and takes no work) until someone sits in it."""
    seat.present = False
    team.vacancies += 1
    if team.pooled:
        team.idle.remove(seat)
        taken = team.resource.take()
    else:
        taken = seat.resource.take()
    assert taken, "a seat is emptied at day 0, before any work"


def add_seat(staffing: Staffing, team: Team, seat: Rep, day: float) -> None:
    """A planned seat of the destination that starts before the switch: one more seat at it.

    Its level is the role mix's for its number, as a planned hire's.
    """
    level = role_levels(staffing.scenario.people.levels.mix.get(team.role), seat.role_seat, 1)[0]
    periods = staffing.clock.last_period + 1
    seat.record = RepLog(
        seat.rep_id, -1, team.role, team.name, team.pod, level, math.nan, periods, True
    )
    team.reps.append(seat)
    seat.opened_day = day  # a seat at the switch, like the destination's others
    if team.pooled:
        team.idle.append(seat)
        team.resource.release()  # one more server, taken at once by the empty seat
    empty_seat(team, seat)


def open_seat(env: simpy.Environment, staffing: Staffing, team: Team, seat: Rep) -> None:
    """Someone sat down in an empty destination seat: it takes work from now."""
    seat_filled(team, seat)
    if staffing.turnover is not None:
        env.process(seat_turnover(env, staffing, team, seat))


def plan_reorganisation(
    env: simpy.Environment,
    run: Run,
    scenario: Scenario,
    name: str,
    build_destination: Callable[[EmptySeats], tuple[Org, int]],
) -> Run:
    """The run with its switch to ``name`` planned: the destination built empty, the day set.

    Args:
        env: the environment (at day 0).
        run: the starting structure's run, built.
        scenario: the scenario.
        name: the destination structure (its block has ``reorganise``).
        build_destination: builds the destination's teams on the seats given, numbered
            after the starting structure's; returns them and the next seat id.
    """
    config = getattr(scenario.structures, name)
    plan = config.reorganise
    destination, next_rep_id = build_destination(EmptySeats(run.staffing))
    day = plan.switch_day(scenario.horizon_days)
    for team in destination.teams:
        for seat in team.reps:
            seat.opened_day = day  # the destination's seats exist from the switch on
            empty_seat(team, seat)
    hire_days = (day, run.clock.horizon_days)
    plan_hires(
        env,
        run.staffing,
        destination.teams,
        next_rep_id,
        config.hires,
        hire_days,
        lambda team, seat: add_seat(run.staffing, team, seat, day),
    )
    reorganisation = Reorganisation(day, plan, list(run.org.teams), destination)
    moved = dataclasses.replace(run, reorganisation=reorganisation)
    env.process(switch_structure(env, moved))
    return moved


def switch_structure(env: simpy.Environment, run: Run) -> Generator[simpy.Event, Any, None]:
    """On the switch day: new leads take the new routes, people clear their desks and move."""
    reorganisation = run.reorganisation
    yield env.timeout(reorganisation.day)
    reorganisation.switched = True
    teams = run.org.teams  # the list the monitor, quota periods and the horizon's count read
    old = list(teams)
    run.staffing.closed.update(old)
    run.org.segment_routes[:] = reorganisation.destination.segment_routes
    teams.extend(reorganisation.destination.teams)
    people = [(team, rep) for team in old for rep in team.reps if rep.present]
    for team in old:
        for rep in team.reps:
            if not rep.present and rep.record is not None:
                rep.record.seat_closed_day = env.now  # an empty old seat is retired now
    matched, to_hire = match_seats(people, seats_in_turn(reorganisation.destination.teams))
    reorganisation.new_seat.update({rep: seat for rep, (_, seat) in matched.items()})
    for team, rep in people:
        env.process(clear_desk(env, run, team, rep, matched))
    start_day = env.now + run.staffing.scenario.people.turnover.hiring_lag_days
    if start_day < run.clock.horizon_days:
        for team, seat in to_hire:
            env.process(hire_into(env, run.staffing, team, seat, start_day))


def clear_desk(
    env: simpy.Environment,
    run: Run,
    team: Team,
    rep: Rep,
    matched: dict[Rep, tuple[Team, Rep]],
) -> Generator[simpy.Event, Any, None]:
    """A person of an old team works out their desk, then takes their new seat or leaves.

    In a pooled team the desk is the team's queue: each request here frees
    the next rep to come free, whoever it is.
    """
    if team.pooled:
        request = (
            team.resource.request(CLEAR_DESK_PRIORITY)
            if team.priority_pool
            else team.resource.request()
        )
        yield request
        rep = team.idle.popleft()
    else:
        yield rep.resource.request(CLEAR_DESK_PRIORITY)
    person = rep.record
    person.left_day = env.now
    person.seat_closed_day = env.now  # the old seat is retired with its desk cleared
    rep.present = False
    team.vacancies += 1
    if rep in matched:
        take_new_seat(env, run, person, *matched[rep])


def take_new_seat(env: simpy.Environment, run: Run, person: RepLog, team: Team, seat: Rep) -> None:
    """A mover sits down in their destination seat: same person, re-ramping in a new role."""
    staffing = run.staffing
    if person.role == team.role:
        hired_day = person.hired_day  # the same job in a new team: their tenure stands
    else:
        share = run.reorganisation.config.retained_productivity
        hired_day = env.now - retained_tenure(share, seat.ramp_days, team.ramp_start)
    staffing.seat_person(seat, team, person.level, hired_day, initial=True)
    record = seat.record
    record.person_id = person.person_id
    record.skill_z = person.skill_z
    record.seated_day = env.now
    staffing.set_person_factors(seat)
    open_seat(env, staffing, team, seat)


def hire_into(
    env: simpy.Environment, staffing: Staffing, team: Team, seat: Rep, start_day: float
) -> Generator[simpy.Event, Any, None]:
    """A destination seat nobody moved into is hired: the new hire starts after the lag."""
    yield env.timeout(start_day - env.now)
    staffing.seat_person(seat, team, seat.record.level, env.now, initial=False)
    open_seat(env, staffing, team, seat)
