"""Capacity planning: the plan reaches its target, says when it cannot, and is reproducible."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import kpi_values, stats
from sim.cli.main import main
from sim.model.runner import simulate
from sim.plan.goal import probability_reaching
from sim.plan.output import path_table
from sim.plan.search import (
    QUARTER_DAYS,
    evaluate,
    plan_structure,
    team_of,
    with_team,
)
from sim.version import __version__
from tests.builders import scenario
from tests.unit.test_scenario import GOOD

# The tiny scenario: one lead a day, every stage passes, fixed effort (1, 2 and 3 days),
# so one closer caps wins at about a third of the leads and three closers take them all.
TINY = ("replications=3",)


def test_plan_for_a_reachable_target_reaches_it_when_simulated_again():
    sc = scenario(*TINY)
    plan = plan_structure(sc, "conveyor", target=50)
    assert plan.verdict == "reached" and plan.minimal
    team = plan.final.team
    assert team[("", "closer")] > 1 and team[("", "account_manager")] == 1  # AMs not searched
    # Re-simulate the planned team from scratch, the way a user would with --set.
    sized = sc.replace([f"structures.conveyor.{f}={team[('', r)]}" for r, f in FIELDS])
    result = simulate(sized, ("conveyor",))
    kpis = kpi_values.run_kpis(result.leads, result.reps, sized)
    wins = kpis["wins_per_30_days"] * QUARTER_DAYS / 30
    mean, low, _ = stats.mean_ci(wins)
    assert low >= 50
    assert mean == pytest.approx(plan.final.wins[0])
    # Minimal: every team one rep smaller that the search tried breaks the target.
    undone = [s for s in plan.steps if s.phase == "trim" and not s.accepted]
    assert undone and all(s.evaluation.planned_wins("ci_low") < 50 for s in undone)


FIELDS = (("lead_gen", "lead_gen"), ("qualifier", "qualifiers"), ("closer", "closers"))


@pytest.mark.integration  # over 10 s of CPU: make test stays under 4 minutes
def test_more_wins_than_leads_is_not_reachable():
    # About 91 leads a quarter arrive; start with ample capacity so the search is short.
    sc = scenario(*TINY, "structures.conveyor.qualifiers=3", "structures.conveyor.closers=4")
    plan = plan_structure(sc, "conveyor", target=200)
    assert plan.verdict == "not_reachable"
    doubled = [s for s in plan.steps if s.change.startswith("x2")]
    assert len(doubled) == 1 and not doubled[0].accepted
    leads_per_quarter = sc.leads.arrivals_per_day * QUARTER_DAYS
    assert plan.final.wins[0] <= leads_per_quarter < 200


def test_starting_team_above_target_is_trimmed():
    sc = scenario(*TINY, "structures.allin.generalists=6")
    plan = plan_structure(sc, "allin", target=20)
    assert plan.verdict == "reached"
    assert plan.final.team[("", "generalist")] < 6
    assert plan.final.planned_wins("ci_low") >= 20
    assert all(step.phase in ("start", "trim") for step in plan.steps)


@pytest.mark.integration  # over 10 s of CPU: make test stays under 4 minutes
def test_same_seed_same_plan():
    sc = scenario(*TINY)
    first = path_table([plan_structure(sc, "two_party", target=30)])
    second = path_table([plan_structure(sc, "two_party", target=30)])
    pd.testing.assert_frame_equal(first, second)


def test_pods_are_sized_per_pod():
    from tests.unit.test_territories import TWO_PODS

    sc = scenario(*TWO_PODS, *TINY)
    team = team_of(sc, "pods")
    team[("p2", "closer")] = 3
    sized = with_team(sc, "pods", team)
    assert [pod.closers for pod in sized.structures.pods.pods] == [1, 3]
    result = evaluate(sc, "pods", team)
    assert result.team == team and set(result.utilisation) >= {("p1", "closer"), ("p2", "closer")}
    plan = plan_structure(sc, "pods", target=70, criterion="mean", max_steps=3)
    changed = [s.change for s in plan.steps[1:]]
    assert changed and all(c.startswith(("+1 p1/", "+1 p2/", "-1 p1/", "-1 p2/")) for c in changed)


def test_cli_writes_the_plan_atomically(tmp_path, capsys):
    path = tmp_path / "small.toml"
    path.write_text(GOOD.replace('name = "ok"', 'name = "small"\nreplications = 2\nseed = 5'))
    out = tmp_path / "plan"
    code = main(
        ["plan", str(path), "--wins-per-quarter", "5", "--out", str(out), "--criterion", "mean"]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "path.csv",
        "plan.csv",
        "plan.json",
        "plan.png",
        "salesim-manifest.json",
    ]
    document = json.loads((out / "plan.json").read_text())
    assert document["salesim_version"] == __version__ and document["seed"] == 5
    assert document["scenario"]["name"] == "small"
    assert document["structures"]["conveyor"]["verdict"] == "reached"
    table = pd.read_csv(out / "plan.csv")
    assert table.loc[0, "wins_per_quarter"] >= 5
    assert np.isfinite(table.loc[0, "cost"]) and "profit" in table
    wins = document["structures"]["conveyor"]["wins_per_quarter_by_replication"]
    assert table.loc[0, "probability_target_reached"] == pytest.approx(
        probability_reaching(np.array(wins), 5.0)
    )
    assert document["structures"]["conveyor"]["probability_target_reached"] == pytest.approx(
        table.loc[0, "probability_target_reached"]
    )
    printed = capsys.readouterr()
    assert "conveyor" in printed.out and "step 0" in printed.err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--wins-per-quarter", "-3"], "--wins-per-quarter: must be a number above 0"),
        (["--wins-per-quarter", "lots"], "--wins-per-quarter: expected a number, got 'lots'"),
        (["--wins-per-quarter", "5", "--max-steps", "0"], "--max-steps: must be at least 1"),
        (["--wins-per-quarter", "5", "--max-steps", "2.5"], "--max-steps: expected a whole"),
        (["--wins-per-quarter", "5", "--replications", "1"], "--replications: the ci_low"),
        (["--wins-per-quarter", "5", "--criterion", "median"], "--criterion: must be ci_low"),
        (["--wins-per-quarter", "5", "--structures", "pods"], "'pods' is not configured"),
        (["--wins-per-quarter", "5", "--min-gain", "-1"], "--min-gain: must be 0 or more"),
        (
            ["--wins-per-quarter", "5", "--replications", "3", "--max-replications", "2"],
            "--max-replications: must be at least --replications (3), got 2",
        ),
        (["--wins-per-quarter", "5", "--max-replications", "x"], "--max-replications: expected"),
        (["--wins-per-quarter", "5", "--objective", "fun"], "--objective: must be one of cost,"),
        # Targets other than wins and a budget (tests/unit/test_plan_cost.py).
        ([], "give exactly one target, --wins-per-quarter or --bookings-per-quarter or"),
        (
            ["--wins-per-quarter", "5", "--bookings-per-quarter", "9"],
            "got --wins-per-quarter, --bookings-per-quarter",
        ),
        (["--revenue-per-quarter", "0"], "--revenue-per-quarter: must be a number above 0"),
        (["--bookings-per-quarter", "x"], "--bookings-per-quarter: expected a number, got 'x'"),
        (["--wins-per-quarter", "5", "--budget-per-year", "-1"], "--budget-per-year: must be"),
        (["--wins-per-quarter", "5", "--budget-per-year", "lots"], "--budget-per-year: expected"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, args, expected):
    path = tmp_path / "small.toml"
    path.write_text(GOOD)
    out = tmp_path / "plan"
    assert main(["plan", str(path), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not out.exists()


def test_ctrl_c_exits_130_and_writes_nothing(tmp_path, monkeypatch, capsys):
    import sim.model.runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.model.runner, "run_structure", interrupted)
    path = tmp_path / "small.toml"
    path.write_text(GOOD)
    out = tmp_path / "plan"
    code = main(
        # In this process: a pool's Ctrl-C is tested with a real signal (test_parallel_cli.py).
        ["plan", str(path), "--wins-per-quarter", "5", "--replications", "2", "--out", str(out)]
        + ["--workers", "1"]
    )
    assert code == 130
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["small.toml"]
    assert capsys.readouterr().err.strip().endswith("interrupted: nothing was written")


def test_a_gain_counts_only_when_large_enough_and_significant():
    from sim.plan.search import _Search

    search = _Search(scenario("replications=3"), "allin", 10.0, "ci_low", 5, gain_needed=0.1)
    search.last_gain_ci = (-0.2, 1.6)  # noise read as an effect in the old search
    kept, why = search.gain_holds(0.71, 0.1)
    assert (
        not kept
        and why == "raises wins per quarter by +0.71 (95 % CI -0.20 to +1.60): not significant"
    )
    search.last_gain_ci = (0.3, 1.1)
    assert search.gain_holds(0.7, 0.1) == (True, " (95 % CI +0.30 to +1.10)")
    assert not search.gain_holds(0.05, 0.1)[0]  # significant but below --min-gain
    search.last_gain_ci = (math.nan, math.nan)  # one replication: no interval
    assert search.gain_holds(0.7, 0.1) == (True, " (guessing: no CI)")


def test_only_plans_that_reach_the_target_get_a_star():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.reports.plan_figure import plot_plan

    path = pd.DataFrame(
        {
            "structure": ["allin", "allin", "pods", "pods"],
            "step": [0, 1, 0, 1],
            "accepted": [True, True, True, True],
            "headcount": [4, 5, 6, 7],
            "wins_per_quarter": [5.0, 8.0, 4.0, 4.5],
            "wins_per_quarter_ci_low": [4.0, 7.0, 3.0, 3.5],
            "wins_per_quarter_ci_high": [6.0, 9.0, 5.0, 5.5],
        }
    )
    fig = plot_plan(path, 7.5, reached={"allin"})
    FigureCanvasAgg(fig).draw()
    finals = [
        c for c in fig.axes[0].collections if hasattr(c, "get_sizes") and len(c.get_offsets()) == 1
    ]
    sizes = {tuple(c.get_offsets()[0]): float(c.get_sizes()[0]) for c in finals}
    assert sizes[(5.0, 8.0)] == 220 and sizes[(7.0, 4.5)] == 120  # star, cross
