"""A hiring plan by quarter: targets that grow, hires dated so the person is ramped in time."""

import tomllib

import numpy as np
import pandas as pd
import pytest

import sim.plan.phased
from sim.cli.main import main
from sim.plan.goal import QUARTER_DAYS, Target
from sim.plan.phased import (
    Hire,
    QuarterlyEvaluation,
    lead_days,
    plan_hiring,
    quarter_targets,
    values_by_quarter,
    with_hires,
)
from tests.builders import scenario
from tests.unit.test_scenario import GOOD

LUCK = np.array([-1.0, 0.0, 1.0])


def test_targets_grow_compounded_by_quarter():
    assert quarter_targets(20.0, 0.4, 4) == pytest.approx(
        (20.0, 20.0 * 1.4**0.25, 20.0 * 1.4**0.5, 20.0 * 1.4**0.75)
    )


def test_wins_and_bookings_are_counted_in_the_quarter_they_close():
    leads = pd.DataFrame(
        {
            "replication": [0, 0, 0, 1, 1, 1],
            "outcome": ["won", "won", "lost", "won", "won", "won"],
            "end_day": [10.0, 91.25, 50.0, 91.0, 200.0, 400.0],  # 400: after 4 quarters
            "deal_value": [100.0, 200.0, 999.0, 300.0, 400.0, 500.0],
        }
    )
    np.testing.assert_array_equal(
        values_by_quarter(leads, "wins", 4), [[1, 1], [1, 0], [0, 1], [0, 0]]
    )
    np.testing.assert_array_equal(
        values_by_quarter(leads, "bookings", 4), [[100, 300], [200, 0], [0, 400], [0, 0]]
    )


def test_hires_go_into_the_scenario_dated_or_into_todays_team():
    sc = scenario()
    planned = with_hires(
        sc, "conveyor", (Hire(("", "closer"), None, 0), Hire(("", "qualifier"), 50.0, 1))
    )
    assert planned.structures.conveyor.closers == sc.structures.conveyor.closers + 1
    (hire,) = planned.structures.conveyor.hires
    assert (hire.role, hire.day, hire.count) == ("qualifier", 50.0, 1)


def _closers_on_time(sc, structure, hires, kpi, on_run_done=None, runs=None):
    # Each closer working by a quarter's start adds 10 wins to it; two closers today.
    starts = [0.0, 0.0] + [
        0.0 if h.day is None else h.day + lead_days(sc, "closer")
        for h in hires
        if h.unit[1] == "closer"
    ]
    by_quarter = np.array(
        [10.0 * sum(s <= q * QUARTER_DAYS for s in starts) + LUCK for q in range(4)]
    )
    return QuarterlyEvaluation(
        hires, by_quarter, {("", "closer"): 0.9, ("", "qualifier"): 0.5, ("", "lead_gen"): 0.2},
        np.full(3, 1000.0),
    )  # fmt: skip


def test_each_missed_quarter_gets_a_hire_ramped_by_its_start(monkeypatch):
    # Targets 20, 24, 28.8, 34.56 (growth 1.2 a quarter); two closers make 20. Quarter 2
    # needs a third closer, ramped by day 91.25: its requisition opens on 91.25 - 45
    # (hiring lag, ramp off) = 46.25; quarter 4 needs a fourth, requisition on 228.75.
    monkeypatch.setattr(sim.plan.phased, "evaluate_hires", _closers_on_time)
    sc = scenario("replications=3", "horizon_days=365", "people.ramp.enabled=false")
    assert lead_days(sc, "closer") == 45.0
    plan = plan_hiring(sc, "conveyor", Target("wins", 20.0), 1.2**4 - 1, criterion="mean")
    assert plan.verdict == "reached" and plan.missed == ()
    assert [(h.unit[1], h.day, h.quarter) for h in plan.final.hires] == [
        ("closer", 46.25, 1),
        ("closer", 228.75, 3),
    ]
    # Other roles add nothing: tried, not kept.
    undone = [s for s in plan.steps if not s.accepted]
    assert undone and all("does not count" in s.reason for s in undone)


def _pipeline_filling(sc, structure, hires, kpi, on_run_done=None, runs=None):
    # As _closers_on_time, but the first quarter closes 5 deals whoever is hired.
    evaluation = _closers_on_time(sc, structure, hires, kpi)
    evaluation.by_quarter[0] = 5.0 + LUCK
    return evaluation


def test_a_quarter_no_hire_can_raise_is_given_up_and_the_rest_planned(monkeypatch):
    monkeypatch.setattr(sim.plan.phased, "evaluate_hires", _pipeline_filling)
    sc = scenario("replications=3", "horizon_days=365", "people.ramp.enabled=false")
    plan = plan_hiring(sc, "conveyor", Target("wins", 20.0), 1.2**4 - 1, criterion="mean")
    assert plan.verdict == "not_reachable" and plan.missed == (0,)
    first = [s for s in plan.steps if s.quarter == 0]
    assert first and not any(s.accepted for s in first)  # every role tried, none kept
    assert [(h.day, h.quarter) for h in plan.final.hires] == [(46.25, 1), (228.75, 3)]


def test_the_search_stops_at_max_steps(monkeypatch):
    monkeypatch.setattr(sim.plan.phased, "evaluate_hires", _closers_on_time)
    sc = scenario("replications=3", "horizon_days=365", "people.ramp.enabled=false")
    # 45 in every quarter needs three hires today; after one, the steps run out.
    short = plan_hiring(sc, "conveyor", Target("wins", 45.0), 0.0, "mean", max_steps=3)
    assert short.verdict == "max_steps" and short.missed == (0, 1, 2, 3)
    assert [(h.day, h.quarter) for h in short.final.hires] == [(None, 0)]


def test_the_cli_writes_quarters_hires_and_paste_ready_toml(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace("horizon_days = 100", "horizon_days = 200"))
    out = tmp_path / "hp"
    code = main(
        ["plan", str(path), "--by-quarter", "--wins-per-quarter", "5",
         "--target-growth-per-year", "0.4", "--criterion", "mean", "--replications", "2",
         "--structures", "conveyor", "--max-steps", "4", "--out", str(out), "--workers", "1"]
    )  # fmt: skip
    assert code == 0
    quarters = pd.read_csv(out / "quarters.csv")
    assert list(quarters["quarter"]) == [1, 2] and quarters["target"][1] == pytest.approx(
        5 * 1.4**0.25
    )
    toml = tomllib.loads((out / "hiring_plan.toml").read_text())
    assert "hires" in toml["structures"]["conveyor"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "quarters.csv",
            "hires.csv",
            "path.csv",
            "hiring_plan.toml",
            "hiring_plan.json",
            "salesim-manifest.json",
        ]
    )
    assert "hires by quarter" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--wins-per-quarter", "5", "--target-growth-per-year", "0.4"], "needs --by-quarter"),
        (["--by-quarter", "--revenue-per-quarter", "5"], "plans wins or bookings per quarter"),
        (["--by-quarter", "--wins-per-quarter", "5", "--target-growth-per-year", "-2"],
         "--target-growth-per-year: must be above -1"),
        (["--by-quarter", "--wins-per-quarter", "5", "--objective", "profit"],
         "takes no --budget-per-year or --objective"),
        (["--by-quarter", "--wins-per-quarter", "5", "--set", "horizon_days=60",
          "--set", "warmup_days=0"], "horizon_days: --by-quarter needs a horizon"),
    ],
)  # fmt: skip
def test_bad_by_quarter_options_exit_2_with_one_line(tmp_path, capsys, args, expected):
    path = tmp_path / "s.toml"
    path.write_text(GOOD)
    out = tmp_path / "hp"
    assert main(["plan", str(path), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not out.exists()
