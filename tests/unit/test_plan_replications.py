"""The plan's replications go where they decide the answer, and only the missing ones run."""

import numpy as np
import pytest

import sim.plan.search
from sim.plan.evaluation import evaluate, summarised
from sim.plan.search import _Search, plan_structure, team_of
from tests.builders import scenario

# A generalist adds 1 win per quarter plus noise: at 3 replications the paired CI of
# that gain straddles 0 (gains 4, -1.9, 1); from replication 3 on the noise is 0.
NOISE = np.array([3.0, -2.9, 0.0] + [0.0] * 21)


def _summarised_wins(full, wins):
    """A hand-made evaluation: ``wins`` per replication, everything else 1 (utilisation 0.5)."""
    same = np.ones_like(wins)
    return summarised(
        full,
        {"wins": wins, "bookings": wins, "revenue": wins},
        {unit: 0.5 * same for unit in full},
        {"cost": same, "profit": same, "profit_with_book": same},
        horizon_days=365.0,
    )


def _noisy_closers(sc, structure, team, on_run_done=None, runs=None, first_replication=0):
    full = {**team_of(sc, structure), **team}
    noise = NOISE[first_replication : sc.replications]
    return _summarised_wins(full, 20.0 + full[("", "generalist")] * (1.0 + noise))


@pytest.fixture
def noisy(monkeypatch):
    monkeypatch.setattr(sim.plan.search, "evaluate", _noisy_closers)
    return scenario("replications=3")


def _add_a_closer(sc, max_replications, gain_needed=0.5):
    search = _Search(sc, "allin", 100.0, "ci_low", 5, gain_needed=gain_needed)
    search.max_replications = max_replications
    start = search.evaluated(team_of(sc, "allin"))
    team = {**start.team, ("", "generalist"): start.team[("", "generalist")] + 1}
    trial, gain = search.tried(start, team)
    return search, trial, gain


def test_an_open_gain_gets_more_replications_until_it_is_decided(noisy):
    # Hand-computed: gains at 12 replications are 4, -1.9, 1 and nine 1s: mean 1.0083,
    # sd 1.258, t(11) 2.201 -> 95 % CI 0.21 to 1.81, which excludes 0.
    search, trial, gain = _add_a_closer(noisy, max_replications=12)
    assert trial.replications == 12 and search.replications == 12
    assert gain == pytest.approx(12.1 / 12)
    assert search.last_gain_ci[0] == pytest.approx(0.2088, abs=1e-3)
    assert search.gain_holds(gain, 0.5)[0]


def test_without_more_replications_the_same_gain_is_not_significant(noisy):
    search, trial, gain = _add_a_closer(noisy, max_replications=3)
    assert trial.replications == 3 and search.last_gain_ci[0] < 0
    assert not search.gain_holds(gain, 0.5)[0]


def test_a_decided_gain_takes_no_more_replications(noisy):
    # At 3 replications the CI's upper bound, 1.03 + 4.303 * 2.951 / sqrt(3) = 8.36,
    # is below the 10 needed: no replication can make the gain count.
    search, trial, _ = _add_a_closer(noisy, max_replications=12, gain_needed=10.0)
    assert trial.replications == 3 and search.replications == 3


def test_a_team_whose_interval_straddles_the_target_gets_more_replications(noisy):
    # Wins 23, 17.1, 20 + 1 (one generalist): CI about 12 to 28; the target 21 lies inside.
    search = _Search(noisy, "allin", 21.0, "ci_low", 5, gain_needed=0.5)
    search.max_replications = 24
    start = search.evaluated(team_of(noisy, "allin"))
    search.meets(start)
    assert search.replications == 24  # still open at 12, so doubled again (capped at 24)
    assert search.level(start).replications == 24


def test_an_extended_team_equals_a_fresh_run_of_that_many_replications():
    sc = scenario("replications=2")
    search = _Search(sc, "conveyor", 50.0, "ci_low", 5, gain_needed=0.5)
    search.max_replications = 4
    two = search.evaluated(team_of(sc, "conveyor"))
    assert search.more_replications() and search.replications == 4
    four = search.level(two)
    fresh = evaluate(sc.replace(["replications=4"]), "conveyor", team_of(sc, "conveyor"))
    assert four.replications == 4
    for kpi in ("wins", "bookings", "revenue"):
        np.testing.assert_array_equal(four.per_quarter[kpi], fresh.per_quarter[kpi])
    np.testing.assert_array_equal(four.money_runs["cost"], fresh.money_runs["cost"])
    assert four.utilisation == pytest.approx(fresh.utilisation, rel=1e-12)
    assert search.level(four) is four  # nothing more to run


def test_plan_reports_the_replications_its_final_team_took(noisy):
    plan = plan_structure(noisy, "allin", target=21.0, max_steps=3, max_replications=6)
    assert plan.replications == 6 and plan.max_replications == 6


SMALL_NOISE = np.array([1.0, -1.0, 0.0, 0.5, -0.5, 0.2, -0.2, 0.1, -0.1, 0.0, 0.3, -0.3])


def _ten_per_generalist(sc, structure, team, on_run_done=None, runs=None, first_replication=0):
    full = {**team_of(sc, structure), **team}
    noise = SMALL_NOISE[first_replication : sc.replications]
    return _summarised_wins(full, 10.0 * full[("", "generalist")] + noise)


def test_a_trim_step_shows_the_numbers_it_was_decided_on(monkeypatch):
    # Five generalists make 50 +/- 1: the target 42 holds on 3 replications. Four make
    # 40 +/- 1, CI 37.5 to 42.5 on 3: open, so the trial gets 6 and breaks there; the step
    # says so with the 6 replications' CI, not the 3's.
    from sim.plan.goal import Target
    from sim.plan.search import _planned_text

    monkeypatch.setattr(sim.plan.search, "evaluate", _ten_per_generalist)
    sc = scenario("replications=3", "structures.allin.generalists=5")
    plan = plan_structure(sc, "allin", target=42.0, max_steps=4, max_replications=12)
    (trim,) = [s for s in plan.steps if s.phase == "trim"]
    assert trim.change == "-1 generalist" and not trim.accepted
    assert trim.evaluation.replications == 6
    shown = _planned_text(trim.evaluation, "ci_low", Target("wins", 42.0))
    assert shown in trim.reason, (shown, trim.reason)
