"""Kim and Nelson's procedure (``sim.analysis.selection``): by hand and by its guarantee."""

import math

import numpy as np
import pytest

from sim.analysis.selection import kn_constants, kn_select, relative_precision


def test_constants_by_hand():
    # k = 2, n0 = 10, alpha = 0.05: eta = (0.1 ** (-2/9) - 1) / 2 = (1.6681 - 1) / 2 = 0.3341,
    # h2 = 2 * 0.3341 * 9 = 6.013.
    eta, h2 = kn_constants(2, 10, 0.05)
    assert eta == pytest.approx(0.3341, abs=1e-4)
    assert h2 == pytest.approx(6.013, abs=1e-3)
    with pytest.raises(ValueError):
        kn_constants(1, 10, 0.05)


def test_a_hand_computed_screen():
    # Two structures, n0 = 3, alpha = 0.05: eta = (0.1 ** -1 - 1) / 2 = 4.5, h2 = 18.
    # Differences a - b over the first stage: 1, 2, 3 (variance 1), delta = 1:
    # N = floor(18 * 1 / 1) = 18. At r = 3 the means differ by 2 and
    # W = 1 / 6 * (18 - 3) = 2.5 > 2: both stay. At r = 4 (a fourth difference of 2,
    # mean 2): W = 1 / 8 * (18 - 4) = 1.75 < 2: b drops out, a is the best.
    a = np.array([1.0, 2.0, 3.0, 2.0])
    b = np.zeros(4)
    early = kn_select({"a": a[:3], "b": b[:3]}, delta=1.0, alpha=0.05, first_stage=3)
    assert not early.decided and early.contenders == ("a", "b") and early.bound == 19
    done = kn_select({"a": a, "b": b}, delta=1.0, alpha=0.05, first_stage=3)
    assert done.decided and done.best == "a" and done.eliminated == {"b": 4}
    assert done.replications == 4
    # Less is better: the same numbers pick b.
    assert kn_select({"a": a, "b": b}, 1.0, 0.05, 3, better=-1).best == "b"


def test_it_stops_at_the_bound_with_the_best_mean():
    # Identical structures up to noise: nobody drops out, and at N + 1 the best mean wins.
    rng = np.random.default_rng(1)
    values = {name: rng.normal(0, 1, 400) for name in ("a", "b", "c")}
    selection = kn_select(values, delta=0.5, alpha=0.05, first_stage=10)
    assert selection.decided and selection.replications <= selection.bound <= 400


def _slippage_pcs(macro: int, delta: float, seed: int) -> float:
    """Share of correct selections in the least favourable case: the best exactly delta ahead.

    Four structures share a common random component (as common random numbers give),
    each also has noise of its own, sd 1.
    """
    rng = np.random.default_rng(seed)
    means = np.array([0.0, 0.0, 0.0, delta])
    correct = 0
    for _ in range(macro):
        shared = rng.normal(0, 2, 300)
        draws = means[:, None] + shared[None, :] + rng.normal(0, 1, (4, 300))
        values = {name: draws[i] for i, name in enumerate("abcd")}
        selection = kn_select(values, delta=delta, alpha=0.05, first_stage=10)
        assert selection.decided
        correct += selection.best == "d"
    return correct / macro


def test_correct_selection_rate_meets_the_guarantee():
    # 400 macro-replications: the rate's standard error at 0.95 is 0.011; the procedure is
    # conservative, so it should sit well above 0.95 (below 0.93 would be a real failure).
    assert _slippage_pcs(400, delta=0.5, seed=11) >= 0.93


def test_without_a_full_first_stage_it_refuses():
    with pytest.raises(ValueError):
        kn_select({"a": np.ones(3), "b": np.ones(3)}, delta=1.0, alpha=0.05, first_stage=5)
    with pytest.raises(ValueError):
        kn_select({"a": np.ones(5), "b": np.ones(5)}, delta=0.0, alpha=0.05, first_stage=5)


def test_relative_precision():
    # Mean 10, sd 1, n = 4: half-width t(3) * 1 / 2 = 3.182 / 2 = 1.591, relative 0.159.
    values = {"a": 10 + np.array([-1.0, 1.0, -1.0, 1.0]) * math.sqrt(3) / 2}
    assert relative_precision(values) == pytest.approx(0.1591, abs=1e-4)
    assert relative_precision({"a": np.array([1.0])}) == math.inf


def _tiny(*changes: str):
    from tests.builders import scenario

    return scenario(
        "replications=3",
        "horizon_days=150",
        "warmup_days=20",
        "decision.objectives=['wins_per_30_days']",
        *changes,
    )


def test_select_best_on_a_case_whose_best_is_known_by_construction():
    # Every lead passes every stage and takes 1 + 2 + 3 days of work: one generalist closes
    # about one lead in 6 days, the Conveyor's closer one in 3 (its bottleneck): the Conveyor
    # wins about twice as much, and the procedure drops All-In after its first stage.
    from sim import api

    run, selection = api.select_best(
        _tiny(), structures=["allin", "conveyor"], indifference=0.5, max_replications=30
    )
    assert selection.decided and selection.best == "conveyor"
    assert selection.eliminated == {"allin": 3} and run.scenario.replications == 3


def test_select_best_adds_replications_until_the_precision_is_reached():
    from sim import api

    loose = api.select_best(_tiny(), structures=["allin"], precision=0.5, max_replications=12)
    tight = api.select_best(
        _tiny(), structures=["allin"], precision=0.05, batch=3, max_replications=12
    )
    assert loose[1].decided and loose[0].scenario.replications == 3
    # 5 % on one generalist's wins takes more than 12 replications: it stops at the cap,
    # undecided, with every replication of a plain run of that length.
    assert not tight[1].decided and tight[0].scenario.replications == 12
    plain = api.run(_tiny(), structures=["allin"], replications=12)
    for table in ("leads", "reps", "samples"):
        assert getattr(tight[0], table).equals(getattr(plain, table))


def test_select_best_refuses_what_it_cannot_do_before_simulating():
    from sim import api
    from sim.errors import ScenarioError

    with pytest.raises(ScenarioError, match="needs --indifference"):
        api.select_best(_tiny(), structures=["allin", "conveyor"])
    with pytest.raises(ScenarioError, match="first stage of at least 2"):
        api.select_best(_tiny("replications=1"), indifference=1.0)
    with pytest.raises(ScenarioError, match="--max-replications 2 is below"):
        api.select_best(_tiny(), indifference=1.0, max_replications=2)
