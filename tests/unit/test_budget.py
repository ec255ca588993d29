"""The size guard: estimates of leads, samples, memory and time, and refusals (issue 14).

Before: 10,000 leads a day for 3,650 days (36 million leads per replication)
was accepted and died of MemoryError at 8 GiB while drawing the lead stream.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.cli.main import main
from sim.config import budget
from sim.model.leads import arrival_times
from sim.model.runner import simulate
from tests.builders import scenario
from tests.unit.test_bounds import SMALL

BIG = ["--set", "leads.arrivals_per_day=10000", "--set", "horizon_days=3650"]


def small_file(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_expected_leads_match_the_seasonal_arrival_process():
    sc = scenario(
        "horizon_days=200",
        "leads.arrivals_per_day=3.0",
        "leads.seasonality_amplitude=0.8",
        "leads.seasonality_peak_day=100",
    )
    rng = np.random.default_rng(1)
    counts = [len(arrival_times(sc.leads, sc.horizon_days, rng)) for _ in range(400)]
    expected = budget.organic_leads(sc)
    half_width = 1.96 * np.std(counts) / math.sqrt(len(counts))
    assert abs(np.mean(counts) - expected) < half_width * 1.5
    # The seasonal swing matters here: a flat rate would be 600 leads.
    assert abs(expected - 600) > 5 * half_width


def test_referral_bound_holds_over_a_strong_referral_cascade():
    sc = scenario(
        "horizon_days=200",
        "leads.arrivals_per_day=0.5",
        "structures.allin.generalists=30",
        "referrals.enabled=true",
        "referrals.per_advocate_per_year=8",
        "referrals.reviews_to_advocate=1",
        "accounts.review_interval_days=10",
        "replications=2",
        *(f"stages.{s}.mean_effort_days=0.2" for s in ("prospecting", "qualification", "closing")),
    )
    result = simulate(sc, ("allin",))
    per_replication = result.leads.groupby("replication", observed=True).size()
    organic = budget.organic_leads(sc)
    assert per_replication.mean() > 2 * organic  # the cascade is real here
    assert (per_replication <= budget.leads_per_replication(sc)).all()
    assert budget.referral_factor(scenario("referrals.enabled=false")) == 1.0


@pytest.mark.parametrize("horizon, interval", [(100, 1.0), (99.5, 0.5), (10, 0.01), (100, 3.0)])
def test_sample_rows_bound_the_rows_of_a_real_run(horizon, interval):
    sc = scenario(f"horizon_days={horizon}", f"sample_interval_days={interval}")
    rows = simulate(sc).samples.groupby("structure", observed=True).size()
    for name in sc.structures.names:
        teams = budget.teams(sc, name)
        assert rows[name] <= budget.sample_rows(sc, name) <= rows[name] + teams, name


def test_compare_doubles_the_work_and_plan_holds_one_round():
    sc = scenario("replications=4", "horizon_days=365")
    names = ("allin", "conveyor")
    one = budget.estimate_runs(sc, names)
    twice = budget.estimate_runs(sc, names, passes=2)
    assert twice.lead_runs == pytest.approx(2 * one.lead_runs)
    assert one.lead_runs == pytest.approx(budget.leads_per_replication(sc) * 4 * 2)
    plan = budget.estimate_runs(sc, names, rounds=41)
    assert plan.lead_runs == pytest.approx(41 * one.lead_runs)
    work = plan.seconds - budget.FIXED_SECONDS
    assert work == pytest.approx(41 * (one.seconds - budget.FIXED_SECONDS))
    assert plan.peak_bytes < one.peak_bytes  # one structure's round, not all of them


def test_a_sweep_holds_one_run_per_worker():
    points = [scenario(f"leads.arrivals_per_day={rate}") for rate in (1.0, 100.0)]
    one = budget.estimate_sweep(points, ("conveyor",), 5, workers=1)
    four = budget.estimate_sweep(points, ("conveyor",), 5, workers=4)
    assert one.leads_per_replication == pytest.approx(100.0 * 100)
    assert four.seconds < one.seconds and four.peak_bytes > one.peak_bytes
    half = budget.estimate_sweep(points, ("conveyor",), 5, workers=1, runs_left=0.5)
    assert half.seconds - budget.FIXED_SECONDS == pytest.approx(
        (one.seconds - budget.FIXED_SECONDS) / 2
    )


def test_problem_lines_name_the_file_the_estimate_and_the_way_out():
    huge = budget.Estimate(3.65e7, 1.8e8, 3.0e6, 400 * budget.GiB, 90_000)
    memory, time = budget.problems(huge, "big.toml", available_bytes=16 * budget.GiB)
    assert memory.startswith("big.toml: too big for this machine: about 36,500,000 leads")
    assert "about 400.0 GiB of memory (1,400 bytes per lead-run held) with 16.0 GiB" in memory
    assert "roughly 25 hours" in time and "the limit without --yes is 60 minutes" in time
    assert all("--yes" in line for line in (memory, time))
    fits = budget.Estimate(100, 100, 100, budget.GiB, 30)
    assert budget.problems(fits, "ok.toml", available_bytes=16 * budget.GiB) == []
    assert budget.problems(huge, "x.toml", available_bytes=None, time_limit_seconds=1e9) == []


def test_available_memory_is_read_from_the_system():
    available = budget.available_memory_bytes()
    assert available is not None and 0 < available
    with open("/proc/meminfo") as meminfo:
        total = int(next(line for line in meminfo if line.startswith("MemTotal:")).split()[1])
    assert available <= total * 1024


@pytest.mark.parametrize(
    "command",
    [
        ["simulate"],
        ["compare"],
        ["plan", "--wins-per-quarter", "5", "--criterion", "mean"],
    ],
)
def test_a_run_too_big_is_refused_before_it_starts(tmp_path, capsys, command):
    out = tmp_path / "out"
    args = [command[0], str(small_file(tmp_path)), *command[1:], "--out", str(out), *BIG]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("small.toml: too big for this machine: about 36,500,000 leads")
    assert all(line.endswith("or add --yes to run it anyway") for line in err)
    assert not out.exists()


def test_yes_goes_ahead(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(budget, "TIME_LIMIT_SECONDS", 0.0)  # every run is too long now
    out = tmp_path / "out"
    args = ["simulate", str(small_file(tmp_path)), "--out", str(out), "--no-plots"]
    assert main(args) == 2 and not out.exists()
    assert "small.toml: too long:" in capsys.readouterr().err
    assert main([*args, "--yes"]) == 0 and (out / "leads.parquet").exists()


def test_a_sweep_too_big_is_refused_before_any_run(tmp_path, capsys):
    small_file(tmp_path)
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        'name = "s"\nscenario = "small.toml"\nset = { horizon_days = 3650 }\n'
        '[[grid]]\nname = "rate"\npath = "leads.arrivals_per_day"\nvalues = [1, 10000]\n'
    )
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1"]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "too big" in x]
    assert line.startswith("s.toml: too big for this machine: about 36,500,000 leads")
    assert not out.exists()


def test_a_backtest_too_big_is_refused_after_reading_the_export(tmp_path, capsys):
    truth = tmp_path / "truth.toml"
    text = Path("scenarios/examples/crm_example_truth.toml").read_text()
    truth.write_text(text.replace("arrivals_per_day = 3.0", "arrivals_per_day = 10000.0"))
    out = tmp_path / "bt"
    export = "scenarios/examples/crm_export.csv"
    assert main(["backtest", str(truth), export, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("truth.toml: too big for this machine: about 3,6"), err
    assert not (out / "backtest.csv").exists()
