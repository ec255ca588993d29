"""The Python API (``import sim``): run, summary, compare, write; the CLI's numbers."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SHORT = ["horizon_days=120", "warmup_days=10", "maturity_days=30"]


@pytest.fixture(scope="module")
def run() -> sim.Run:
    return sim.run(ROOT / "scenarios" / "baseline.toml", replications=2, overrides=SHORT)


def test_run_gives_tidy_tables_for_every_structure_and_replication(run):
    assert run.structures == ("allin", "two_party", "conveyor", "pods")
    for table in (run.leads, run.reps, run.samples, run.kpis):
        assert set(table["structure"].astype(str)) == set(run.structures)
        assert set(table["replication"]) == {0, 1}
    assert len(run.kpis) == 8  # 4 structures x 2 replications
    assert {"structure", "kpi", "mean", "ci_low", "ci_high"} <= set(run.summary.columns)
    assert list(run.headline().columns) == list(run.structures)


def test_the_api_gives_the_numbers_the_cli_writes(run, tmp_path):
    out = tmp_path / "cli"
    args = ["simulate", str(ROOT / "scenarios" / "baseline.toml"), "--out", str(out)]
    args += ["--replications", "2", "--no-plots"] + [x for s in SHORT for x in ("--set", s)]
    assert main(args) == 0
    written = pd.read_parquet(out / "leads.parquet")
    pd.testing.assert_frame_equal(written, run.leads, check_categorical=False)
    document = json.loads((out / "summary.json").read_text())
    wins = document["kpis"]["pods"]["wins_per_30_days"]["mean"]
    row = run.summary[(run.summary["structure"] == "pods")]
    assert row.set_index("kpi").loc["wins_per_30_days", "mean"] == pytest.approx(wins, rel=1e-12)


def test_compare_and_write(run, tmp_path):
    comparison = run.compare(reference="conveyor")
    assert comparison.reference == "conveyor"
    assert set(comparison.differences["structure"].astype(str)) >= {"allin", "pods"}
    with pytest.raises(sim.ScenarioError):
        run.compare(reference="matrix")
    folder = run.write(tmp_path / "api", plots=False)
    assert (folder / "salesim-manifest.json").exists() and (folder / "kpis.csv").exists()


def test_bad_input_is_a_scenario_error_with_one_line_per_problem():
    with pytest.raises(sim.ScenarioError) as caught:
        sim.run(ROOT / "scenarios" / "pods.toml", overrides=["stages.closing.pass_prob=1.5"])
    assert len(caught.value.problems) == 1
    with pytest.raises(sim.ScenarioError):
        sim.run(ROOT / "scenarios" / "pods.toml", structures=["conveyor"])


def test_import_sim_is_light():
    # `import sim` must not load pandas, SimPy or the scenario schema: validate starts fast.
    heavy = "('simpy', 'pandas', 'pydantic')"
    code = f"import sys, sim; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
