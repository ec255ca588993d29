"""``sensitivity``: the bisection, the sentences, shared runs, bad input, a leader that flips."""

import math
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.sensitivity import clear_lead, leader, objective_sentence, searches
from sim.cli.main import main
from sim.config.assumptions import (
    DEFAULT_ASSUMPTIONS,
    SensitivitySettings,
    chosen_assumptions,
    read_settings,
)
from sim.config.scenario import Scenario, ScenarioError

DROP = next(a for a in DEFAULT_ASSUMPTIONS if a.name == "conveyor.handoff.drop_prob")

# All-In against the Conveyor with capacity to spare and every effect but two off: a
# generalist wins 0.9 of a specialist's chance at each of the three stages, and the
# Conveyor drops a share p of leads at each of the two relays before a win (lead
# generation to qualification, qualification to closing). So the Conveyor wins more while
# (1 - p)^2 > 0.9^3, i.e. up to p = 1 - 0.9^1.5 = 0.1462.
FLIP = """
name = "flip"
seed = 11
replications = 2
horizon_days = 120
warmup_days = 0
[leads]
arrivals_per_day = 10
mean_deal_value = 1000
[people.levels]
enabled = false
[people.ramp]
enabled = false
initial_ramped_share = 1.0
[people.turnover]
enabled = false
[generalist]
pass_prob_factor = 0.9
effort_factor = 1.0
context_switch_cost = 0.0
[stages.prospecting]
pass_prob = 0.8
mean_effort_days = 0.01
mean_lag_days = 0
[stages.qualification]
pass_prob = 0.8
mean_effort_days = 0.01
mean_lag_days = 0
[stages.closing]
pass_prob = 0.8
mean_effort_days = 0.01
mean_lag_days = 0
[decision]
objectives = ["wins_per_30_days"]
[structures.allin]
generalists = 8
[structures.conveyor]
lead_gen = 2
qualifiers = 2
closers = 2
account_managers = 2
handoff = { drop_prob = 0.0, mean_delay_days = 0.0, context_loss = 0.0 }
"""
SWITCH = 1 - 0.9**1.5

RANGES = """
[sensitivity]
use_defaults = false
tolerance = 0.05
[[sensitivity.assumptions]]
name = "conveyor.handoff.drop_prob"
low = 0.0
high = 0.3
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bisection_pins_a_hand_made_switch_within_the_tolerance():
    # The leader changes at 0.137: below it the Conveyor, above it All-In.
    def leader_at(value: float) -> str:
        return "conveyor" if value < 0.137 else "allin"

    [search] = searches(DROP, 0.05, "profit", {v: leader_at(v) for v in (0.0, 0.05, 0.2)})
    assert (search.inner, search.outer, search.above) == (0.05, 0.2, True)
    steps = 0
    while not search.done(0.01):
        value = search.middle()
        search.narrowed(value, leader_at(value))
        steps += 1
    assert abs(search.switch - 0.137) <= search.half_width <= 0.01 * 0.2 / 2
    # 0.15 halved until within 0.002: ceil(log2(0.15 / 0.002)) = 7 steps.
    assert steps == 7
    assert search.outer_leader == "allin"


def test_no_search_when_the_leader_holds_and_one_each_way_when_it_flips_twice():
    same = {0.0: "pods", 0.05: "pods", 0.2: "pods"}
    assert searches(DROP, 0.05, "profit", same) == []
    both = searches(DROP, 0.05, "profit", {0.0: "allin", 0.05: "pods", 0.2: "conveyor"})
    assert [(s.outer, s.above, s.outer_leader) for s in both] == [
        (0.0, False, "allin"),
        (0.2, True, "conveyor"),
    ]


def test_leader_follows_the_kpi_direction():
    kpis = pd.DataFrame(
        {
            "structure": ["allin", "allin", "pods", "pods"],
            "replication": [0, 1, 0, 1],
            "profit": [10.0, 20.0, 16.0, 16.0],
            "cost_per_won_deal": [10.0, 20.0, 16.0, 16.0],
        }
    )
    assert leader(kpis, "profit") == "pods"  # 16 against 15: more profit leads
    assert leader(kpis.assign(profit=[10.0, 30.0, 16.0, 16.0]), "profit") == "allin"
    assert leader(kpis, "cost_per_won_deal") == "allin"  # 15 per deal is cheaper


def test_sentence_names_the_assumption_the_value_and_the_new_leader():
    row = {
        "objective": "profit",
        "assumption": DROP.name,
        "base_leader": "conveyor",
        "changes_leader": True,
        "switch_below": math.nan,
        "leader_below": "",
        "switch_above": 0.04,
        "leader_above": "pods",
        "half_width": 0.002,
    }
    table = pd.DataFrame([row, {**row, "objective": "wins_per_30_days", "changes_leader": False}])
    sentence = objective_sentence(table, "profit", {DROP.name: DROP})
    assert sentence == (
        "Conveyor leads on profit unless the relay drop in the Conveyor exceeds 4 % "
        "(± 0.2 %; then Pods lead)."
    )
    noisy = table.assign(clear_above=False)
    sentence = objective_sentence(noisy, "profit", {DROP.name: DROP})
    assert sentence.startswith("Conveyor leads on profit over every range tried, beyond the noise")
    assert "the leader also changes when the relay drop in the Conveyor exceeds 4 %" in sentence
    other = objective_sentence(table, "wins_per_30_days", {DROP.name: DROP})
    assert other.endswith("over every range tried (1 assumption, one at a time).")


def test_a_lead_is_clear_only_when_its_paired_interval_excludes_no_difference():
    # Pods ahead by 1, 2 and 3 in three paired replications: mean 2, sd 1, t(2) = 4.30,
    # half-width 4.30 / sqrt(3) = 2.48 > 2, so not clear; by 2.0, 2.1, 1.9 it is.
    kpis = pd.DataFrame(
        {
            "structure": ["conveyor"] * 3 + ["pods"] * 3,
            "replication": [0, 1, 2] * 2,
            "profit": [10.0, 10.0, 10.0, 11.0, 12.0, 13.0],
        }
    )
    assert not clear_lead(kpis, "profit", "pods", "conveyor")
    steady = kpis.assign(profit=[10.0, 10.0, 10.0, 12.0, 12.1, 11.9])
    assert clear_lead(steady, "profit", "pods", "conveyor")
    assert not clear_lead(steady, "profit", "conveyor", "pods")


def test_a_file_changes_a_default_range_and_refuses_unknown_names(tmp_path):
    path = write(tmp_path, "r.toml", RANGES)
    [only] = chosen_assumptions(read_settings(path), "r.toml")
    assert (only.name, only.low, only.high) == (DROP.name, 0.0, 0.3)
    assert len(chosen_assumptions(SensitivitySettings(), "x")) == len(DEFAULT_ASSUMPTIONS)
    bad = write(tmp_path, "bad.toml", RANGES.replace("conveyor.handoff.drop_prob", "nope"))
    with pytest.raises(ScenarioError) as caught:
        chosen_assumptions(read_settings(bad), "bad.toml")
    assert caught.value.problems[0].startswith(
        "bad.toml: sensitivity.assumptions.0: unknown assumption 'nope'"
    )


@pytest.mark.parametrize(
    ("extra", "ranges", "expected"),
    [
        (["--only", "nope"], None, "--only: unknown assumption 'nope'"),
        ([], RANGES.replace("high = 0.3", "high = 1.5"), "flip.toml: conveyor.handoff.drop_prob:"),
        ([], RANGES.replace("high = 0.3", "high = -0.1"), "r.toml: sensitivity.assumptions.0:"),
        (["--tolerance", "0"], None, "flip.toml: --tolerance:"),
        (["--workers", "0"], None, "--workers:"),
        (["--structures", "allin"], None, "flip.toml: sensitivity needs at least two"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, extra, ranges, expected):
    scenario = write(tmp_path, "flip.toml", FLIP)
    if ranges is not None:
        extra = [*extra, "--assumptions", str(write(tmp_path, "r.toml", ranges))]
    out = tmp_path / "out"
    assert main(["sensitivity", str(scenario), "--out", str(out), *extra]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert not out.exists()


def test_a_change_inside_one_structure_leaves_the_others_runs_as_they_were(tmp_path):
    # Why the analysis reuses the base runs of the structures an assumption does not touch.
    from sim.analysis.kpi_values import run_kpis
    from sim.model.runner import run_once

    base = Scenario.from_file(write(tmp_path, "flip.toml", FLIP)).replace(["horizon_days=30"])
    changed = base.replace(["structures.conveyor.handoff.drop_prob=0.2"])
    rows = [run_kpis(*_tables(run_once(s, "allin", 0)), s) for s in (base, changed)]
    pd.testing.assert_frame_equal(rows[0], rows[1])
    conveyor = [run_kpis(*_tables(run_once(s, "conveyor", 0)), s) for s in (base, changed)]
    assert conveyor[0]["conversion"].iloc[0] > conveyor[1]["conversion"].iloc[0]


def _tables(tables):
    return tables.leads, tables.reps


@pytest.mark.integration
def test_the_leader_flips_where_the_hand_computed_drop_says(tmp_path, capsys):
    scenario = write(tmp_path, "flip.toml", FLIP)
    ranges = write(tmp_path, "r.toml", RANGES)
    out = tmp_path / "sens"
    args = ["sensitivity", str(scenario), "--assumptions", str(ranges), "--out", str(out)]
    assert main([*args, "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    assert "Conveyor leads on wins per 30 days unless the relay drop in the Conveyor exceeds" in (
        printed
    )
    table = pd.read_csv(out / "sensitivity.csv")
    [row] = table.to_dict("records")
    assert (row["base_leader"], row["leader_at_high"], row["leader_above"]) == (
        "conveyor",
        "allin",
        "allin",
    )
    # Within the bisection's tolerance of what the runs say (every value tried below the
    # interval has the Conveyor ahead, every one above has All-In) ...
    assert row["half_width"] <= 0.05 * 0.3 / 2
    points = pd.read_parquet(out / "points.parquet")
    means = points.groupby(["value", "structure"])["wins_per_30_days"].mean().unstack()
    ahead = means["conveyor"] > means["allin"]
    assert ahead[ahead.index <= row["switch_above"] - row["half_width"]].all()
    assert not ahead[ahead.index >= row["switch_above"] + row["half_width"]].any()
    # ... and near the hand-computed 1 - 0.9^1.5, up to the noise of two replications.
    assert abs(row["switch_above"] - SWITCH) <= row["half_width"] + 0.03
    for name in ("index.html", "tornado_wins_per_30_days.png", "sensitivity.json"):
        assert (out / name).is_file()
    # Started again it finds every run stored, and one worker gives the same table.
    first = (out / "sensitivity.csv").read_bytes()
    assert main([*args, "--workers", "1"]) == 0
    assert "round: 0 runs to do" in capsys.readouterr().err
    assert (out / "sensitivity.csv").read_bytes() == first
    again = tmp_path / "again"
    assert main([*args[:-1], str(again), "--workers", "1"]) == 0
    assert (again / "sensitivity.csv").read_bytes() == first
