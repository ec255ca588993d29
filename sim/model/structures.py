"""Org structures: which teams exist, and which route each lead takes.

A structure is a builder that, given the scenario, creates the teams (reps of
one role, pooled or owner-assigned) and a route per lead: the team at each
funnel stage, the team that looks after the account, and what a relay costs.
Adding a structure means writing one builder and registering it in
``BUILDERS`` (and its roles in ``scenario.STAGE_ROLES``).

``run_structure`` pushes one replication's lead stream through one structure
and returns plain tables; after it, nothing imports SimPy.

Time unit: days.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pandas as pd
import simpy

from sim.config.scenario import (
    RELAYS,
    STAGE_ROLES,
    ConveyorConfig,
    HandoffConfig,
    PodConfig,
    PodsConfig,
    Scenario,
    Structure,
)
from sim.model.accounts import finish_accounts
from sim.model.environment import Environment
from sim.model.expertise import segment_experience
from sim.model.journey import lead_arrivals
from sim.model.lead_table import LeadBook
from sim.model.leads import LeadStream
from sim.model.outbound import start_prospecting
from sim.model.records import (
    LeadLog,
    ReferralLeads,
    RepLog,
    leads_frame,
    reps_frame,
    samples_frame,
)
from sim.model.reorganisation import EmptySeats, plan_reorganisation
from sim.model.routing import Routing
from sim.model.seeding import Streams
from sim.model.staffing import Staffing, finish_reps, plan_hires, quota_periods, seat_turnover
from sim.model.state import AccountsBook, Clock, JourneyRules, Run, TierRules
from sim.model.teams import Org, Route, Team
from sim.model.versatility import enable_cover


@dataclass(frozen=True)
class RunTables:
    """The raw tables of one structure run."""

    leads: pd.DataFrame
    reps: pd.DataFrame
    samples: pd.DataFrame


class TeamFactory:
    """What a builder builds with: numbers reps across teams, applies the generalist rules.

    Attributes:
        scenario: the scenario (the structure's block, generalist rules).
        staffing: seats the people of every team it makes.
        segment_names: the lead stream's segments, in code order.
        teams: the teams made so far.
    """

    def __init__(self, scenario: Scenario, staffing: Staffing, segment_names: tuple[str, ...]):
        self.scenario = scenario
        self.staffing = staffing
        self.segment_names = segment_names
        self.teams: list[Team] = []
        self.next_rep_id = 0

    def team(
        self, role: str, headcount: int, pooled: bool, owner_assignment: str, pod: str = ""
    ) -> Team:
        """A team of ``headcount`` reps of ``role`` (in ``pod``), numbered after the last."""
        name = f"{pod}/{role}" if pod else role
        team = Team(
            self.staffing,
            name=name,
            role=role,
            pod=pod,
            first_rep_id=self.next_rep_id,
            headcount=headcount,
            pooled=pooled,
            owner_assignment=owner_assignment,
        )
        self.next_rep_id += headcount
        self.teams.append(team)
        return team

    def generalist_factors(self, stage_teams: tuple[Team, Team, Team]) -> tuple[tuple, tuple]:
        """Pass and effort factors per stage: penalties where a rep works several stages."""
        g = self.scenario.generalist
        pass_factor, effort_factor = [], []
        for team in stage_teams:
            multi = stage_teams.count(team) > 1
            if multi:
                team.context_switch_cost = g.context_switch_cost
                team.max_context_switch_factor = g.max_context_switch_factor
            pass_factor.append(g.pass_prob_factor if multi else 1.0)
            effort_factor.append(g.effort_factor if multi else 1.0)
        return tuple(pass_factor), tuple(effort_factor)


TO_POD = RELAYS.index("to_pod")

NO_RELAYS = HandoffConfig().all_costs()
"""All-In's relays: none is ever passed (one rep keeps the lead), so none costs anything."""


def build_allin(make: TeamFactory) -> Org:
    """All-In: one generalist owns each lead from first touch to account."""
    cfg = make.scenario.structures.allin
    generalists = make.team(
        "generalist", cfg.generalists, pooled=False, owner_assignment=cfg.owner_assignment
    )
    stage_teams = (generalists, generalists, generalists)
    pass_factor, effort_factor = make.generalist_factors(stage_teams)
    route = Route(stage_teams, generalists, NO_RELAYS, pass_factor, effort_factor)
    return Org(make.teams, [route] * len(make.segment_names))


def build_two_party(make: TeamFactory) -> Org:
    """Two-Party: lead gen -> full-cycle closers (qualify and close) -> account support."""
    cfg = make.scenario.structures.two_party
    lead_gen = make.team("lead_gen", cfg.lead_gen, cfg.assignment == "pooled", _owner(cfg))
    closers = make.team("closer", cfg.closers, pooled=False, owner_assignment=cfg.owner_assignment)
    support = make.team("account_manager", cfg.account_managers, False, cfg.owner_assignment)
    stage_teams = (lead_gen, closers, closers)
    pass_factor, effort_factor = make.generalist_factors(stage_teams)
    route = Route(stage_teams, support, cfg.handoff.all_costs(), pass_factor, effort_factor)
    return Org(make.teams, [route] * len(make.segment_names))


def build_conveyor(make: TeamFactory) -> Org:
    """Conveyor: lead gen -> qualifiers -> closers -> account managers, one team per role."""
    cfg = make.scenario.structures.conveyor
    route = _conveyor_route(make, cfg, cfg, cfg.handoff, pod="", pod_index=-1, expertise=1.0)
    return Org(make.teams, [route] * len(make.segment_names))


def build_pods(make: TeamFactory) -> Org:
    """Pods: one small conveyor per pod; a lead goes to the pod that owns its segment."""
    cfg = make.scenario.structures.pods
    home = [
        _conveyor_route(make, pod, cfg, cfg.handoff, pod.name, index, cfg.segment_expertise_factor)
        for index, pod in enumerate(cfg.pods)
    ]
    # Working in one team: relays inside a pod save what team_relays says, and
    # idle members may cover another role (the relay to another pod is between teams).
    inside = [cfg.team_relays.within_team(costs) for costs in cfg.handoff.all_costs()]
    inside[TO_POD] = cfg.handoff.costs("to_pod")
    home = [replace(route, relays=tuple(inside)) for route in home]
    for route in home:
        enable_cover(list(route.teams), cfg.versatility)
    if cfg.overflow.policy == "least_loaded" and len(home) > 1:
        # A pod working another pod's segment has no expertise in it.
        foreign = [replace(route, pass_factor=(1.0, 1.0, 1.0)) for route in home]
        home = [
            replace(route, overflow=tuple(foreign[:index] + foreign[index + 1 :]))
            for index, route in enumerate(home)
        ]
    routes_by_segment = {}
    for pod, route in zip(cfg.pods, home, strict=True):
        for segment in pod.segments:
            routes_by_segment[segment] = route
    return Org(make.teams, [routes_by_segment[name] for name in make.segment_names])


def _owner(cfg: Structure) -> str:
    """Owner policy of a single-stage team that is not pooled."""
    return cfg.owner_assignment if cfg.assignment == "pooled" else cfg.assignment


def _conveyor_route(
    make: TeamFactory,
    counts: ConveyorConfig | PodConfig,
    policy: ConveyorConfig | PodsConfig,
    handoff: HandoffConfig,
    pod: str,
    pod_index: int,
    expertise: float,
) -> Route:
    """Four single-role teams in a row; ``counts`` gives headcounts, ``policy`` assignment."""
    pooled = policy.assignment == "pooled"
    lead_gen = make.team("lead_gen", counts.lead_gen, pooled, _owner(policy), pod)
    qualifiers = make.team("qualifier", counts.qualifiers, pooled, _owner(policy), pod)
    closers = make.team("closer", counts.closers, pooled, _owner(policy), pod)
    managers = make.team(
        "account_manager", counts.account_managers, False, policy.owner_assignment, pod
    )
    return Route(
        (lead_gen, qualifiers, closers),
        managers,
        handoff.all_costs(),
        (expertise, expertise, expertise),
        (1.0, 1.0, 1.0),
        pod_index,
    )


BUILDERS: dict[str, Callable[[TeamFactory], Org]] = {
    "allin": build_allin,
    "two_party": build_two_party,
    "conveyor": build_conveyor,
    "pods": build_pods,
}
"""Structure name -> builder; the names match ``scenario.STRUCTURES``."""

assert set(BUILDERS) == set(STAGE_ROLES), "every structure needs a builder and its roles"


SAMPLE_COLUMNS: tuple[str, ...] = (
    "day", "team", "role", "pod", "headcount", "filled", "vacant", "ramping", "waiting",
    "in_service", "open_deals", "accounts",
)  # fmt: skip
"""Columns of ``samples.parquet`` after structure and replication."""


def monitor(
    env: simpy.Environment,
    teams: list[Team],
    interval: float,
    samples: dict[str, list],
    closed: set[Team] = frozenset(),
):
    """Sample seats, queue length and work in progress of every team at a fixed interval.

    ``headcount`` counts seats, ``filled`` seats with someone in them (a leaver
    working out the task in hand counts as vacant), ``ramping`` filled seats
    whose person is still ramping up. Teams a reorganisation ``closed`` are
    no longer sampled: their seats are gone.
    """
    while True:
        now = env.now
        for team in teams:
            if team in closed:
                continue
            filled = len(team.reps) - team.vacancies
            ramping = sum(
                1 for rep in team.reps if rep.present and now - rep.record.hired_day < rep.ramp_days
            )
            samples["day"].append(now)
            samples["team"].append(team.name)
            samples["role"].append(team.role)
            samples["pod"].append(team.pod)
            samples["headcount"].append(len(team.reps))
            samples["filled"].append(filled)
            samples["vacant"].append(team.vacancies)
            samples["ramping"].append(ramping)
            samples["waiting"].append(team.waiting)
            samples["in_service"].append(team.in_service)
            samples["open_deals"].append(team.open_deals)
            samples["accounts"].append(sum(rep.accounts for rep in team.reps))
        yield env.timeout(interval)


GC_YOUNG_THRESHOLD = 50_000
"""Allocations between two passes of the garbage collector during a run (Python's default: 700)."""


@contextmanager
def rare_garbage_collection() -> Iterator[None]:
    """Run the cyclic garbage collector rarely, and never over what existed before.

    A run creates millions of short-lived events, which reference counting
    frees; the cyclic collector found little to free, yet with the default
    thresholds it took 8 % (15,000 leads) to 27 % (1,000,000 leads) of a run,
    walking the whole program's objects (modules, scenario, lead log) at every
    full pass. ``gc.freeze`` takes what exists now out of its sight, and a high
    first threshold lets it run every 50,000 allocations instead of every 700.
    Both are restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def return_freed_memory() -> None:
    """Hand the C allocator's free pages back to the system (glibc; elsewhere nothing).

    glibc keeps the pages of freed objects for reuse, and the lead table's
    new columns are too large to reuse them: without this, the objects in
    flight at the horizon would still count under the peak while the tables
    are built (about 60 bytes per lead, a tenth of a run's memory).
    """
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def build_run(
    name: str, env: simpy.Environment, leads: LeadStream, scenario: Scenario, streams: Streams
) -> Run:
    """Every part of one structure run, complete before the first event.

    The people are seated as the structure's builder makes its teams; the
    lead journey, account care and the other processes only read the parts
    they are given and change what each part's docstring says they may.

    Raises:
        KeyError: for an unknown structure name.
    """
    if name not in BUILDERS:
        raise KeyError(f"unknown structure {name!r}; known: {', '.join(BUILDERS)}")
    plan = getattr(getattr(scenario.structures, name), "reorganise", None)
    start = name if plan is None else plan.from_structure  # a reorganised run starts as another
    switch_day = None if plan is None else plan.switch_day(scenario.horizon_days)
    clock = Clock.of(env, scenario)
    staffing = Staffing(clock, scenario, start, streams.work)
    factory = TeamFactory(scenario, staffing, leads.segment_names)
    org = BUILDERS[start](factory)
    hire_days = None if switch_day is None else (0.0, switch_day)
    next_rep_id = plan_hires(env, staffing, org.teams, factory.next_rep_id, days=hire_days)
    log, book = LeadLog(len(leads)), LeadBook(leads, scenario)
    if scenario.nurture.enabled:
        log.track_nurture()
    run = Run(
        clock=clock,
        log=log,
        leads=book,
        tiers=TierRules.of(scenario),
        rules=JourneyRules.of(scenario),
        accounts=AccountsBook(env, scenario, streams.accounts),
        staffing=staffing,
        org=org,
        routing=Routing.of(env, scenario, org, streams.leads),
        experience=segment_experience(scenario.people.learning, book, log.stage_handler),
    )
    if switch_day is None:
        return run

    def build_destination(seats: EmptySeats) -> tuple[Org, int]:
        destination = TeamFactory(scenario, seats, leads.segment_names)
        destination.next_rep_id = next_rep_id
        return BUILDERS[name](destination), destination.next_rep_id

    return plan_reorganisation(env, run, scenario, name, build_destination)


def run_structure(name: str, leads: LeadStream, scenario: Scenario, streams: Streams) -> RunTables:
    """Push one replication's leads through one structure until the horizon.

    Args:
        name: a key of ``BUILDERS``.
        leads: the replication's lead stream (shared by every structure).
        scenario: the validated scenario.
        streams: the replication's seed sequences (accounts draw from theirs).

    Returns:
        Lead, rep and work-in-progress tables of this run.

    Raises:
        KeyError: for an unknown structure name.
    """
    samples: dict[str, list] = {key: [] for key in SAMPLE_COLUMNS}
    with rare_garbage_collection():
        log, referrals, people = run_until_horizon(name, leads, scenario, streams, samples)
        # What was in flight at the horizon (deals, accounts, their processes and
        # events) hangs in reference cycles through the environment, which is gone
        # now: free it before the tables are built, or it would sit under their peak.
        gc.collect()
    return_freed_memory()
    return RunTables(
        leads=leads_frame(
            log,
            leads,
            name,
            streams.replication,
            scenario.seed,
            (scenario.warmup_days, scenario.horizon_days - scenario.maturity_days),
            referrals,
        ),
        reps=reps_frame(people, name, streams.replication, scenario),
        samples=samples_frame(samples, name, streams.replication),
    )


def run_until_horizon(
    name: str, leads: LeadStream, scenario: Scenario, streams: Streams, samples: dict[str, list]
) -> tuple[LeadLog, ReferralLeads, list[RepLog]]:
    """The structure's processes until the horizon: the lead log, referrals and people.

    ``samples`` receives the work-in-progress samples. Nothing of the
    environment is returned, so it can be freed before the tables are built.
    """
    env = Environment()
    run = build_run(name, env, leads, scenario, streams)
    teams = run.org.teams
    env.process(lead_arrivals(env, run))
    env.process(monitor(env, teams, scenario.sample_interval_days, samples, run.staffing.closed))
    env.process(quota_periods(env, run.staffing, teams))
    if run.staffing.turnover is not None:
        for team in teams:
            for rep in team.reps:
                env.process(seat_turnover(env, run.staffing, team, rep))
    start_prospecting(env, run, streams.outbound)
    env.run(until=scenario.horizon_days)
    finish_accounts(run.accounts, run.log, run.clock)
    finish_reps(run.clock, teams)
    return run.log, run.leads.referrals, run.staffing.people
