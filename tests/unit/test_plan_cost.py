"""The cheapest team for a target: the cost objective, other targets, a budget, how sure.

The search's choices are checked on a hand-made model (``_linear_model``) in
place of the simulation, so every number is known: wins per quarter are 10 per
qualifier plus 10 per closer (either role can carry the target), with the same
luck per replication for every team (-1, 0, +1: common random numbers), and a
team costs its seats.
"""

import math

import numpy as np
import pytest

import sim.plan.search
from sim.plan.evaluation import summarised
from sim.plan.goal import Target, probability_reaching, seat_cost_per_year
from sim.plan.output import plan_table, terminal_text
from sim.plan.search import plan_structure, team_of
from tests.builders import scenario

LUCK = np.array([-1.0, 0.0, 1.0])
# Closers cost four times what the other roles do; levels off so a seat is its salary plus overhead.
PRICES = (
    "replications=3",
    "money.salary_closer=200000",
    "money.salary_qualifier=50000",
    "money.salary_lead_gen=50000",
    "money.salary_account_manager=50000",
    "money.overhead_per_head=0",
    "people.levels.enabled=false",
)


def _linear_model(utilisation, margin_per_win=0.0, most_qualifiers=None):
    def evaluate(sc, structure, team, on_run_done=None, runs=None, first_replication=0):
        full = {**team_of(sc, structure), **team}
        luck = LUCK[np.arange(first_replication, sc.replications) % len(LUCK)]
        qualifiers = min(full[("", "qualifier")], most_qualifiers or full[("", "qualifier")])
        wins = 10.0 * (qualifiers + full[("", "closer")]) + luck
        cost = sum(seat_cost_per_year(sc, role) * n for (_, role), n in full.items())
        same = np.ones_like(wins)
        profit = margin_per_win * (wins - luck) - cost * same  # the same luck cancels in pairs
        return summarised(
            full,
            {"wins": wins, "bookings": 1000.0 * wins, "revenue": 500.0 * wins},
            {("", role): u * same for role, u in utilisation.items()},
            {"cost": cost * same, "profit": profit, "profit_with_book": profit},
            horizon_days=365.0,
        )

    return evaluate


@pytest.fixture
def linear(monkeypatch):
    def install(utilisation, **model):
        monkeypatch.setattr(sim.plan.search, "evaluate", _linear_model(utilisation, **model))

    return install


def test_seat_cost_is_salary_times_level_mix_plus_overhead():
    sc = scenario(
        "money.salary_closer=100000", "money.overhead_per_head=10000", "people.levels.enabled=true"
    )
    shares = sc.people.levels.mix.closer.shares()  # 0.2 junior, 0.5 mid, 0.3 senior by default
    factor = shares[0] * 0.8 + shares[1] * 1.0 + shares[2] * 1.3
    assert factor == pytest.approx(1.05)
    assert seat_cost_per_year(sc, "closer") == pytest.approx(100000 * 1.05 + 10000)


def test_trim_removes_the_dearer_role_first_and_keeps_the_cheaper(linear):
    # Qualifiers are the least busy: trimming by utilisation would remove them and keep
    # three 200,000 closers; by cost the closers go and three 50,000 qualifiers stay.
    linear({"lead_gen": 0.2, "qualifier": 0.3, "closer": 0.5})
    sc = scenario(*PRICES, "structures.conveyor.qualifiers=3", "structures.conveyor.closers=3")
    plan = plan_structure(sc, "conveyor", target=35)
    assert plan.verdict == "reached" and plan.minimal
    assert plan.final.team[("", "closer")] == 1 and plan.final.team[("", "qualifier")] == 3
    trims = [(s.change, s.accepted) for s in plan.steps if s.phase == "trim"]
    # 60 -> 50 -> 40 wins holds (CI low 40 - 4.30 / sqrt(3) = 37.5); 30 breaks.
    assert trims == [("-1 closer", True), ("-1 closer", True), ("-1 qualifier", False)]
    assert plan.final.cost_per_year == pytest.approx(3 * 50000 + 200000 + 2 * 50000)


def test_grow_adds_the_role_with_the_best_gain_per_cost(linear):
    # Both roles nearly full: a closer and a qualifier each add 10 wins; the qualifier
    # costs a quarter as much, so it is kept.
    linear({"lead_gen": 0.1, "qualifier": 0.9, "closer": 0.95})
    sc = scenario(*PRICES)
    plan = plan_structure(sc, "conveyor", target=35)
    grows = [(s.change, s.accepted) for s in plan.steps if s.phase == "grow"]
    assert grows == [("+1 closer", False), ("+1 qualifier", True)] * 2
    undone = [s.reason for s in plan.steps if s.phase == "grow" and not s.accepted]
    assert all(r.endswith("another role gains more per cost") for r in undone)
    assert plan.final.team[("", "qualifier")] == 3 and plan.final.team[("", "closer")] == 1


def test_a_budget_below_the_cheapest_team_is_over_budget(linear):
    linear({"lead_gen": 0.1, "qualifier": 0.9, "closer": 0.95})
    sc = scenario(*PRICES)
    cheapest = 50000 + 3 * 50000 + 200000 + 50000  # lead gen, 3 qualifiers, a closer, an AM
    plan = plan_structure(sc, "conveyor", target=35, budget_per_year=cheapest - 1)
    assert plan.verdict == "over_budget"
    assert plan.final.cost_per_year == pytest.approx(cheapest)
    text = terminal_text([plan], sc)
    assert "OVER BUDGET" in text and f"{cheapest:,.0f} a year against {cheapest - 1:,.0f}" in text
    within = plan_structure(sc, "conveyor", target=35, budget_per_year=cheapest)
    assert within.verdict == "reached" and within.final.team == plan.final.team


def test_a_bookings_target_is_searched_on_bookings(linear):
    linear({"lead_gen": 0.1, "qualifier": 0.9, "closer": 0.95})
    sc = scenario(*PRICES)
    by_wins = plan_structure(sc, "conveyor", target=35)
    by_bookings = plan_structure(sc, "conveyor", target=Target("bookings", 35000.0))
    assert by_bookings.final.team == by_wins.final.team
    row = plan_table([by_bookings]).iloc[0]
    assert row["target_kpi"] == "bookings" and row["bookings_per_quarter"] == 40000.0
    assert "+10,000" in by_bookings.steps[1].reason  # a money gain printed as money


def test_probability_is_the_t_distribution_of_the_mean():
    # Mean 12, sd 2, n 3: t = (12 - 11) / (2 / sqrt 3) = 0.866 with 2 degrees of freedom,
    # whose CDF is 1/2 + t / (2 sqrt(2 + t^2)).
    t = 1 / (2 / math.sqrt(3))
    assert probability_reaching(np.array([10.0, 12.0, 14.0]), 11.0) == pytest.approx(
        0.5 + t / (2 * math.sqrt(2 + t * t))
    )
    # The target on the 95 % CI's lower bound: 97.5 %; on the mean: 50 %.
    low = 12 - 4.302652729749464 * 2 / math.sqrt(3)
    assert probability_reaching(np.array([10.0, 12.0, 14.0]), low) == pytest.approx(0.975)
    assert probability_reaching(np.array([10.0, 12.0, 14.0]), 12.0) == pytest.approx(0.5)
    assert math.isnan(probability_reaching(np.array([10.0]), 5.0))
    assert probability_reaching(np.array([3.0, 3.0]), 3.0) == 1.0


def test_the_plan_table_carries_the_probability(linear):
    linear({"lead_gen": 0.1, "qualifier": 0.9, "closer": 0.95})
    plan = plan_structure(scenario(*PRICES), "conveyor", target=35)
    row = plan_table([plan]).iloc[0]
    assert row["probability_target_reached"] == pytest.approx(
        probability_reaching(np.array([39.0, 40.0, 41.0]), 35.0)
    )
    assert "P reach" in terminal_text([plan], scenario(*PRICES))


def test_the_profit_objective_adds_reps_while_profit_rises(linear):
    # From the cheapest team (3 qualifiers, 1 closer: 40 wins), each win earns 6,000:
    # a qualifier (50,000) adds 10 wins, +10,000 of profit, up to 5 qualifiers, beyond
    # which a sixth adds no wins (-50,000); a closer (200,000) adds -140,000. Roles are
    # tried busiest first.
    linear(
        {"lead_gen": 0.1, "qualifier": 0.9, "closer": 0.95},
        margin_per_win=6000.0,
        most_qualifiers=5,
    )
    sc = scenario(*PRICES)
    plan = plan_structure(sc, "conveyor", target=35, objective="profit")
    climbs = [(s.change, s.accepted, s.gain) for s in plan.steps if s.phase == "profit"]
    rising = [("+1 closer", False, -140000.0), ("+1 qualifier", True, 10000.0)]
    lead_gen = [("+1 lead_gen", False, -50000.0)]  # a lead-gen rep adds no wins here
    flat = [("+1 closer", False, -140000.0), ("+1 qualifier", False, -50000.0)]
    assert climbs == (rising + lead_gen) * 2 + flat + lead_gen
    assert plan.final.team[("", "qualifier")] == 5 and plan.objective == "profit"
    cheapest = plan_structure(sc, "conveyor", target=35)
    assert cheapest.final.team[("", "qualifier")] == 3  # the cost objective stops there


def test_the_profit_objective_keeps_the_budget(linear):
    linear(
        {"lead_gen": 0.1, "qualifier": 0.9, "closer": 0.95},
        margin_per_win=6000.0,
        most_qualifiers=5,
    )
    sc = scenario(*PRICES)
    four_qualifiers = 50000 + 4 * 50000 + 200000 + 50000
    plan = plan_structure(
        sc, "conveyor", target=35, objective="profit", budget_per_year=four_qualifiers
    )
    assert plan.verdict == "reached" and plan.final.team[("", "qualifier")] == 4
    over = [s for s in plan.steps if s.phase == "profit" and "over budget" in s.reason]
    assert over and not any(s.accepted for s in over)
    assert "the team with the most profit (from the cheapest)" in terminal_text([plan], sc)
