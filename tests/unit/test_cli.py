"""The command line: outputs, reproducibility, bad input, atomic writes."""

import json
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.cli.examples import EXAMPLES
from sim.cli.main import build_parser, main
from sim.config.scenario import Scenario
from sim.version import __version__
from tests.unit.test_scenario import GOOD

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*ROOT.glob("scenarios/*.toml"), *ROOT.glob("scenarios/presets/*.toml")])

SMALL = GOOD.replace('name = "ok"', 'name = "small"\nreplications = 2\nseed = 11').replace(
    "horizon_days = 100", "horizon_days = 60\nwarmup_days = 5"
)


@pytest.fixture
def scenario_file(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_simulate_writes_every_output(tmp_path, scenario_file, capsys):
    out = tmp_path / "out"
    assert main(["simulate", str(scenario_file), "--out", str(out), "--no-plots"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "leads.parquet",
        "reps.parquet",
        "samples.parquet",
        "kpis.csv",
        "stage_summary.csv",
        "summary.json",
    } <= names
    summary = json.loads((out / "summary.json").read_text())
    assert summary["salesim_version"] == __version__
    assert summary["seed"] == 11 and summary["replications"] == 2
    assert summary["scenario"]["name"] == "small"
    assert set(summary["kpis"]) == {"conveyor"}
    kpi = summary["kpis"]["conveyor"]["conversion"]
    assert kpi["ci_low"] <= kpi["mean"] <= kpi["ci_high"]
    provenance = json.loads(pq.read_schema(out / "leads.parquet").metadata[b"salesim"])
    assert provenance["seed"] == 11 and provenance["salesim_version"] == __version__
    assert provenance["scenario"] == summary["scenario"]
    leads = pd.read_parquet(out / "leads.parquet")
    assert {
        "structure",
        "replication",
        "lead_id",
        "segment",
        "arrival_day",
        "outcome",
        "lost_at",
        "lost_reason",
        "deal_value",
        "prospecting_handler",
    } <= set(leads.columns)
    assert set(leads["outcome"].astype(str)) <= {"won", "lost", "open"}
    printed = capsys.readouterr().out
    assert "conversion" in printed and "conveyor" in printed


@pytest.mark.integration  # over 20 s of CPU: make test stays under 4 minutes
def test_simulate_draws_the_headcount_plot_and_reports_the_people_kpis(tmp_path, scenario_file):
    out = tmp_path / "out"
    assert main(["simulate", str(scenario_file), "--out", str(out)]) == 0
    assert {
        "funnel.png",
        "wins_over_time.png",
        "cycle_time.png",
        "utilisation.png",
        "work_in_progress.png",
        "headcount.png",
    } <= {p.name for p in out.iterdir()}
    kpis = pd.read_csv(out / "kpis.csv")
    summary = json.loads((out / "summary.json").read_text())["kpis"]["conveyor"]
    for kpi in (
        "hires",
        "leavers",
        "annual_turnover",
        "vacancy_share",
        "mean_ramp_factor",
        "share_reps_at_quota",
        "share_at_quota_closer",
        "mean_attainment_closer",
        "salary_cost",
        "commission_cost",
        "bonus_cost",
        "manager_cost",
        "overhead_cost",
        "hiring_cost",
        "roi",
        "new_hire_payback_days",
        "lost_rep_left",
    ):
        assert kpi in kpis.columns and kpi in summary, kpi
        assert summary[kpi]["replications"] == kpis[kpi].notna().sum(), kpi


def test_same_seed_gives_byte_identical_tables(tmp_path, scenario_file):
    for name in ("a", "b"):
        assert (
            main(["simulate", str(scenario_file), "--out", str(tmp_path / name), "--no-plots"]) == 0
        )
    for table in (
        "leads.parquet",
        "reps.parquet",
        "samples.parquet",
        "kpis.csv",
        "stage_summary.csv",
        "summary.json",
    ):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes(), table


def test_seed_and_replications_flags_override_the_file(tmp_path, scenario_file):
    out = tmp_path / "o"
    assert (
        main(
            [
                "simulate",
                str(scenario_file),
                "--out",
                str(out),
                "--no-plots",
                "--seed",
                "5",
                "--replications",
                "1",
                "--set",
                "structures.conveyor.closers=3",
            ]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 5 and summary["replications"] == 1
    assert summary["scenario"]["structures"]["conveyor"]["closers"] == 3


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            ("pass_prob = 0.5", "pass_prob = 1.5"),
            "bad.toml: stages.prospecting.pass_prob: "
            "Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            ("lead_gen = 1", "lead_gen = -1"),
            "bad.toml: structures.conveyor.lead_gen: "
            "Input should be greater than or equal to 1 (got -1)",
        ),
        (
            ("closers = 1", "closers = 1\ncolsers = 2"),
            "bad.toml: structures.conveyor.colsers: unknown field 'colsers'; "
            "did you mean 'closers'?",
        ),
        (
            ("horizon_days = 60", "horizon_days = 'long'"),
            "bad.toml: horizon_days: Input should be a valid number (got 'long')",
        ),
        (
            ("[leads]\narrivals_per_day = 2", "[leads]"),
            "bad.toml: leads.arrivals_per_day: Field required",
        ),
        (("[leads]", "[leads"), "bad.toml: TOML syntax error:"),
    ],
)
def test_bad_scenario_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, edit, expected):
    path = tmp_path / "bad.toml"
    path.write_text(SMALL.replace(*edit, 1))
    out = tmp_path / "out"
    assert main(["simulate", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_missing_file_and_unknown_structure(tmp_path, scenario_file, capsys):
    assert main(["validate", str(tmp_path / "none.toml")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"{tmp_path / 'none.toml'}: no such scenario file (scenarios there: small)"
    )
    assert (
        main(
            ["simulate", str(scenario_file), "--structures", "matrix", "--out", str(tmp_path / "x")]
        )
        == 2
    )
    assert "'matrix' is not configured" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_validate_prints_the_resolved_scenario_as_toml(scenario_file, capsys):
    assert main(["validate", str(scenario_file), "--set", "seed=3"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"# small, resolved by: python -m sim validate {scenario_file} ")
    resolved = tomllib.loads(printed)
    assert resolved["money"]["gross_margin"] == 0.75  # a default filled in
    assert resolved["seed"] == 3 and "allin" not in resolved["structures"]
    assert main(["validate", str(scenario_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["structures"]["allin"] is None


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_validate_toml_loads_back_into_an_equal_scenario(path, capsys):
    assert main(["validate", str(path)]) == 0
    printed = tomllib.loads(capsys.readouterr().out)
    assert Scenario.from_dict(printed) == Scenario.from_file(path)


@pytest.mark.integration  # over 20 s of CPU: make test stays under 4 minutes
def test_module_entry_point_runs_as_a_process(scenario_file):
    done = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(scenario_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "sim", "validate", "nope.toml"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_ctrl_c_during_the_run_exits_130_and_writes_nothing(
    tmp_path, scenario_file, monkeypatch, capsys
):
    import sim.model.runner

    calls = []

    def interrupted(*args, **kwargs):
        calls.append(args)
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.model.runner, "run_structure", interrupted)
    out = tmp_path / "out"
    # In this process: a pool's Ctrl-C is tested with a real signal (test_parallel_cli.py).
    assert main(["simulate", str(scenario_file), "--out", str(out), "--workers", "1"]) == 130
    assert calls and not out.exists()
    assert capsys.readouterr().err.strip().endswith("interrupted: nothing was written")


def _help(capsys, *command: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def _parses(example: str) -> list[str]:
    """The example's arguments after ``python -m sim``, checked by the real parser."""
    args = shlex.split(example.split(" > ")[0].split(" | ")[0])
    assert args[:3] == ["python", "-m", "sim"], example
    build_parser().parse_args(args[3:])
    for arg in args:  # shipped files exist (scenarios/ours.toml is what calibrate writes)
        if arg.startswith("scenarios/") and arg != "scenarios/ours.toml":
            assert (ROOT / arg).exists(), example
    return args[3:]


def test_every_command_help_ends_with_examples_that_parse(capsys):
    commands = build_parser()._subparsers._group_actions[0].choices
    assert set(EXAMPLES) == set(commands)
    for command in commands:
        text = _help(capsys, command)
        shown = [line.strip() for line in text.split("\nexamples:\n")[1].splitlines()]
        assert 2 <= len(shown) <= 4 and shown == EXAMPLES[command], command
        assert all(_parses(example)[0] == command for example in shown)


def test_top_level_help_shows_the_workflow(capsys):
    text = _help(capsys)
    workflow = [line.split("  ")[1] for line in text.splitlines() if line.startswith("  python")]
    commands = [_parses(example)[0] for example in workflow]
    main_flow = ["validate", "simulate", "compare", "report", "sweep", "plan", "sensitivity"]
    assert commands == [*main_flow, "calibrate", "backtest"]
