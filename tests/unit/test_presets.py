"""The market presets in scenarios/presets/: valid, runnable, and their claims behave.

Each preset is a full scenario of a market of its own (issue 9): a massive
market with a generalist product and a concentrated market with a dedicated
product. Their markets differ from the one the shipped scenarios share, which
is why they live apart from scenarios/*.toml.
"""

import re
from pathlib import Path

import pytest

from sim.analysis import kpi_values
from sim.analysis.claims import load_claims, score_claims
from sim.cli.main import main
from sim.config.scenario import Scenario
from sim.model.runner import simulate
from tests.builders import structure_headcounts

ROOT = Path(__file__).resolve().parents[2]
PRESET_DIR = ROOT / "scenarios" / "presets"
PRESETS = sorted(PRESET_DIR.glob("*.toml"))
MARKET_CLAIMS = ("conveyor_unfit_for_concentrated_markets", "conveyor_suits_massive_markets")


def _verdicts(name: str, *overrides: str) -> dict[str, str]:
    """The market claims' verdicts on a preset, All-In against the Conveyor."""
    claims = tuple(c for c in load_claims() if c.id in MARKET_CLAIMS)
    assert {c.id for c in claims} == set(MARKET_CLAIMS)
    sc = Scenario.from_file(PRESET_DIR / f"{name}.toml", overrides)
    result = simulate(sc, ["allin", "conveyor"])
    scored = score_claims(kpi_values.run_kpis(result.leads, result.reps, sc), claims)
    return dict(zip(scored["id"], scored["verdict"], strict=True))


def test_both_market_presets_ship():
    assert {p.stem for p in PRESETS} >= {"massive_generalist", "concentrated_dedicated"}


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_preset_is_valid_and_staffs_every_structure_alike(path):
    scenario = Scenario.from_file(path)
    assert scenario.name == path.stem  # so results go to results/<file name>/
    assert scenario.structures.names == ("allin", "two_party", "conveyor", "pods")
    assert len(set(structure_headcounts(scenario).values())) == 1, structure_headcounts(scenario)


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_preset_runs_every_structure(path, tmp_path):
    args = ["simulate", str(path), "--out", str(tmp_path / "out"), "--replications", "1"]
    args += ["--no-plots", "--set", "horizon_days=60", "--set", "warmup_days=20"]
    args += ["--set", "maturity_days=10"]
    assert main(args) == 0
    assert (tmp_path / "out" / "kpis.csv").exists()


def test_docs_describe_every_preset():
    page = (ROOT / "docs" / "guide" / "compare.md").read_text()
    section = re.search(r"^### Market presets\n(.*?)^##", page, re.S | re.M)
    assert section, "docs/guide/compare.md lost its Market presets section"
    for path in PRESETS:
        assert f"presets/{path.stem}" in section.group(1), path.stem


@pytest.mark.integration
def test_on_the_concentrated_market_the_conveyor_earns_less_than_all_in():
    # The preset's own 10 replications: with few, big deals per run the profit
    # difference is noisy. With 10 it held for each of 6 seeds tried; with 6
    # replications it was not significant for 2 seeds of 8.
    verdicts = _verdicts("concentrated_dedicated")
    assert verdicts["conveyor_unfit_for_concentrated_markets"] == "holds"
    assert verdicts["conveyor_suits_massive_markets"] == "does not hold"


@pytest.mark.integration
def test_on_the_massive_market_the_conveyor_wins_more_a_month_than_all_in():
    # Three months instead of a year keep the test to seconds (about 5,400
    # leads per run), and 6 replications keep the verdict stable: it held for
    # each of 6 seeds tried (4 replications of 120 days missed one of 6).
    verdicts = _verdicts(
        "massive_generalist", "replications=6", "horizon_days=90", "maturity_days=30"
    )
    assert verdicts["conveyor_suits_massive_markets"] == "holds"
    # Nor does it earn less here: the claim about concentrated markets fails.
    assert verdicts["conveyor_unfit_for_concentrated_markets"] != "holds"
