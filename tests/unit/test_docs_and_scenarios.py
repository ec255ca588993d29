"""The README and the shipped scenarios stay true to the code."""

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from sim.cli.main import fields_markdown, main
from sim.config.scenario import Scenario
from tests.builders import structure_headcounts

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
MARKET_KEYS = (
    "seed",
    "replications",
    "horizon_days",
    "warmup_days",
    "leads",
    "stages",
    "decay",
    "competition",
    "fulfilment",
    "referrals",
    "generalist",
    "accounts",
    "people",
    "quotas",
    "money",
)


def test_readme_field_reference_matches_the_schema():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- fields:start -->\n(.*)\n<!-- fields:end -->", readme, re.S)
    assert block, "README lost its field reference markers"
    assert block.group(1) == fields_markdown(), "regenerate with: python -m sim fields"


def test_readme_minimal_example_is_a_valid_scenario(tmp_path):
    readme = (ROOT / "README.md").read_text()
    (example,) = re.findall(r"```toml\n(.*?)```", readme, re.S)
    path = tmp_path / "mine.toml"
    path.write_text(example)
    assert Scenario.from_file(path).structures.names == ("conveyor",)


def test_readme_commands_run(tmp_path):
    """Every `python -m sim validate|simulate scenarios/...` line in the README runs."""
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(python -m sim (?:validate|simulate) scenarios/\S+.*)$", readme, re.M)
    commands += [
        f"python -m sim simulate scenarios/{name}.toml"
        for name in re.findall(r"make simulate SCENARIO=(\w+)", readme)
    ]
    assert commands
    for command in dict.fromkeys(commands):
        args = shlex.split(command)[3:]
        args = [str(ROOT / a) if a.startswith("scenarios/") else a for a in args]
        if args[0] == "simulate":
            args += [
                "--out",
                str(tmp_path / "out"),
                "--replications",
                "1",
                "--no-plots",
                "--set",
                "horizon_days=60",
                "--set",
                "maturity_days=10",
            ]
        assert main(args) == 0, command


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_is_valid(path):
    scenario = Scenario.from_file(path)
    assert scenario.name == path.stem


def test_five_scenarios_share_one_market():
    names = {p.stem for p in SCENARIOS}
    assert {"allin", "two_party", "conveyor", "pods", "baseline"} <= names
    markets = {
        p.stem: {k: tomllib.loads(p.read_text()).get(k) for k in MARKET_KEYS} for p in SCENARIOS
    }
    baseline = markets["baseline"]
    for name, market in markets.items():
        assert market == baseline, f"{name}.toml's market differs from baseline.toml"


def test_baseline_runs_every_structure_with_equal_headcount():
    sc = Scenario.from_file(ROOT / "scenarios" / "baseline.toml")
    assert sc.structures.names == ("allin", "two_party", "conveyor", "pods")
    totals = structure_headcounts(sc)
    assert len(set(totals.values())) == 1, totals
