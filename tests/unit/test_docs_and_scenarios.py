"""The generated docs, the docs' scenario examples and the shipped scenarios stay true to the code.

The docs' commands and Python examples are run by test_docs_site.py.
"""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
import tomlkit

from sim.cli.main import fields_markdown
from sim.config.scenario import Scenario
from tests.builders import structure_headcounts

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"
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


def load_docs_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_field_reference_page_matches_the_schema():
    page = (ROOT / "docs" / "reference" / "fields.md").read_text()
    block = re.search(r"<!-- fields:start -->\n(.*)\n<!-- fields:end -->", page, re.S)
    assert block, "docs/reference/fields.md lost its field reference markers"
    assert block.group(1) == fields_markdown(), "regenerate with: .venv/bin/python docs/hooks.py"


def test_every_generated_docs_block_matches_the_code():
    """What `make docs` checks (docs/hooks.py), in `make test`: no generated block is stale."""
    hooks = load_docs_hooks()
    for page in sorted((ROOT / "docs").rglob("*.md")):
        assert not hooks.stale_blocks(page.read_text()), (
            f"{page}: run .venv/bin/python docs/hooks.py"
        )
    stale = hooks.regenerate("<!-- fields:start -->\nold\n<!-- fields:end -->")
    assert hooks.stale_blocks(stale) == [] and hooks.stale_blocks(stale.replace("`name`", "`x`"))


def _inline(table: dict) -> str:
    """A TOML inline table of ``table``."""
    inline = tomlkit.inline_table()
    inline.update(table)
    return inline.as_string()


def _as_overrides(fragment: dict, prefix: str = "") -> list[str]:
    """``dotted.key=value`` changes that set every leaf of a TOML fragment."""
    changes = []
    for key, value in fragment.items():
        if isinstance(value, dict):
            changes += _as_overrides(value, f"{prefix}{key}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            # An array of tables ([[leads.campaigns]]) as one inline array of inline tables.
            tables = ", ".join(_inline(v) for v in value)
            changes.append(f"{prefix}{key}=[{tables}]")
        else:
            changes.append(f"{prefix}{key}={tomlkit.item(value).as_string()}")
    return changes


def test_docs_scenario_examples_are_valid(tmp_path):
    """Every ```toml block in README.md and docs/ is a valid scenario (the README's: a Conveyor).

    A block without a ``name`` is a fragment (one section of a scenario): it is
    checked as ``--set`` changes to ``scenarios/baseline.toml``.
    """
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    examples = {
        page: re.findall(r"^```toml\n(.*?)^```", page.read_text(), re.S | re.M) for page in pages
    }
    assert len(examples[ROOT / "README.md"]) == 1
    path = tmp_path / "mine.toml"
    for page, found in examples.items():
        for example in found:
            if "name" not in tomllib.loads(example):
                scenario = Scenario.from_file(BASELINE, _as_overrides(tomllib.loads(example)))
                continue
            path.write_text(example)
            scenario = Scenario.from_file(path)
            if page.name == "README.md":
                assert scenario.structures.names == ("conveyor",)


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
