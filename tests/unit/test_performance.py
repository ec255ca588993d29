"""Performance spread, team commission and coaching: exact where possible, else robust."""

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import people
from sim.config.scenario import PerformanceConfig, Scenario, without_people_effects
from sim.model.people import coaching_factors, coaching_gain, person_factors, weak_skill_threshold
from sim.model.runner import simulate
from tests.builders import hand_leads, run, scenario

ROOT_SCENARIO = "scenarios/baseline.toml"


def test_performance_on_but_neutral_changes_nothing_but_the_skill_column():
    # Spread 0, no coaching, everyone monitored: every person's factors are exactly 1.
    core = without_people_effects(
        Scenario.from_file(ROOT_SCENARIO, ["horizon_days=200", "replications=1"])
    )
    neutral = core.replace(
        [
            "people.performance.enabled=true",
            "people.performance.skill_sd=0.0",
            "people.performance.pace_sd=0.0",
            "structures.pods.commission='individual'",
        ]
    )
    a, b = simulate(core), simulate(neutral)
    pd.testing.assert_frame_equal(a.leads, b.leads)
    pd.testing.assert_frame_equal(a.samples, b.samples)
    assert (a.reps["skill_z"] == 0).all() and b.reps["skill_z"].std() > 0.5
    pd.testing.assert_frame_equal(a.reps.drop(columns="skill_z"), b.reps.drop(columns="skill_z"))


def test_person_factors_are_mean_one_lognormal_and_free_riders_are_slower():
    cfg = PerformanceConfig(enabled=True, skill_sd=0.3, pace_sd=0.2, free_ride_effort_factor=1.5)
    z = 0.7
    pass_f, effort_f = person_factors(1.1, 0.9, z, cfg, weak_can_hide=True)
    assert pass_f == pytest.approx(1.1 * math.exp(0.3 * z - 0.045))
    assert effort_f == pytest.approx(0.9 / math.exp(0.2 * z - 0.02))  # above median: no free ride
    _, slow = person_factors(1.0, 1.0, -z, cfg, weak_can_hide=True)
    _, watched = person_factors(1.0, 1.0, -z, cfg, weak_can_hide=False)
    assert slow == pytest.approx(1.5 * watched)
    # Mean one over the hiring distribution.
    zs = np.random.default_rng(1).standard_normal(200_000)
    passes = [person_factors(1.0, 1.0, float(v), cfg, False)[0] for v in zs[:50_000]]
    assert np.mean(passes) == pytest.approx(1.0, abs=0.01)
    assert person_factors(1.2, 0.8, z, None, True) == (1.2, 0.8)


def test_coaching_focus_on_poor_performers_leaves_less_for_the_rest():
    cfg = PerformanceConfig(enabled=True, coaching_gain=0.1)
    z = [0.5, -2.0, 0.1, 1.0, -0.3, 0.0, 0.2, 0.3, 0.4, 0.6]
    factors, rest = coaching_factors(z, cfg)
    # The weakest of ten takes 90 % of the time: nine even shares; the other nine share 10 %.
    assert factors[1] == pytest.approx(coaching_gain(9.0, 0.1))
    assert rest == pytest.approx(coaching_gain(1.0 / 9.0, 0.1))
    assert all(f == rest for k, f in enumerate(factors) if k != 1)
    assert coaching_gain(1.0, 0.1) == pytest.approx(1.1)
    assert rest < 1.1 < factors[1] < 1.0 + 2 * 0.1
    even, _ = coaching_factors(z, cfg.model_copy(update={"coaching_focus": "even"}))
    assert even == [pytest.approx(1.1)] * 10


def test_each_task_takes_the_persons_pace_and_free_riders_take_longer():
    # Deterministic effort, every lead passes: a task's duration is the stage's effort
    # over the handler's pace, times the free-ride factor for a hidden weak performer.
    leads = hand_leads([float(day) for day in range(0, 60, 2)])
    for hide in (False, True):
        sc = scenario(
            "people.performance.enabled=true",
            "people.performance.pace_sd=0.4",
            "people.performance.free_ride_effort_factor=1.5",
            "structures.conveyor.lead_gen=3",
            "structures.conveyor.qualifiers=3",
            "structures.conveyor.closers=3",
            "structures.conveyor.commission='team'",
            f"structures.conveyor.monitor_individuals={'false' if hide else 'true'}",
        )
        tables = run("conveyor", leads, sc)
        z = tables.reps.drop_duplicates("rep_id").set_index("rep_id")["skill_z"]
        assert z.nunique() == 10  # everyone (3 + 3 + 3 + 1 seats) draws a skill of their own
        for stage, effort in (("prospecting", 1.0), ("qualification", 2.0), ("closing", 3.0)):
            df = tables.leads.dropna(subset=[f"{stage}_end_day"])
            took = df[f"{stage}_end_day"] - df[f"{stage}_start_day"]
            handler_z = df[f"{stage}_handler"].map(z)
            pace = np.exp(0.4 * handler_z - 0.08)
            free_ride = np.where(hide & (handler_z < 0), 1.5, 1.0)
            assert took.to_numpy() == pytest.approx((effort / pace * free_ride).to_numpy())


def test_the_same_person_sits_in_the_same_seat_in_every_structure():
    sc = Scenario.from_file(
        ROOT_SCENARIO, ["horizon_days=200", "replications=1", "people.performance.enabled=true"]
    )
    reps = simulate(sc).reps
    initial = reps[reps["hired_day"] <= 0].drop_duplicates(["structure", "person_id"])
    closers = initial[initial["role"] == "closer"].groupby("structure", observed=True)
    skills = {structure: sorted(group["skill_z"]) for structure, group in closers}
    assert len(skills["conveyor"]) == 3
    assert skills["conveyor"] == skills["pods"]
    assert set(skills["conveyor"]) < set(skills["two_party"])  # its first 3 of 7 closer seats


def test_weak_performers_leave_when_watched_and_stay_when_hidden():
    # Everyone misses an absurd quota; missing it multiplies attrition by 10 only where
    # somebody watches individual numbers.
    leavers = {}
    for hide in (False, True):
        sc = scenario(
            "horizon_days=720.0",
            "people.performance.enabled=true",
            "people.turnover.enabled=true",
            "people.turnover.attrition_per_year.closer=0.3",
            "people.turnover.under_quota_multiplier=10.0",
            "people.turnover.hiring_lag_days=0.0",
            "quotas.roles.closer=1e12",
            "structures.conveyor.closers=6",
            "structures.conveyor.commission='team'",
            f"structures.conveyor.monitor_individuals={'false' if hide else 'true'}",
        )
        reps = run("conveyor", hand_leads([float(d) for d in range(0, 700, 3)]), sc).reps
        closers = reps[reps["role"] == "closer"].drop_duplicates("person_id")
        leavers[hide] = int(closers["left_day"].notna().sum())
    # Expected: about 6 x 2 x 0.3 = 3.6 leavers hidden, several times that watched.
    assert leavers[True] < 10 < leavers[False]


def test_weak_performer_share_counts_rep_days_below_the_threshold():
    sc = scenario("people.performance.enabled=true", "people.performance.weak_share=0.25")
    threshold = weak_skill_threshold(0.25)
    reps = pd.DataFrame(
        {
            "skill_z": [threshold - 0.1, threshold + 0.1, 0.0],
            "window_days_present": [10.0, 20.0, 10.0],
        }
    )
    assert people.weak_performer_share(reps, sc) == pytest.approx(0.25)
    assert threshold == pytest.approx(-0.6745, abs=1e-4)
