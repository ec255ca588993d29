"""Numbers no real scenario holds are refused before a run, one line each (issue 14).

Before: ``mean_deal_value = inf`` passed validation and crashed writing
summary.json after the whole simulation; a segment share of inf gave "Probabilities
contain NaN"; a 20-digit seed an OverflowError; ``horizon_days = 1e-300`` a
KeyError; a review interval of 1e-6 days ran without end.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from sim.cli.main import main
from sim.config.scenario import MAX_SEED, Scenario, ScenarioError, field_reference
from sim.model.runner import simulate, simulate_independent
from sim.sweep.spec import load_sweep
from sim.sweep.sweep_file import MAX_GRID_POINTS
from tests.builders import BASE, SMALL_TOML, scenario

SMALL = SMALL_TOML


def numeric_fields() -> list[tuple[str, str]]:
    """(dotted path, type with bounds) of every number in a scenario; lists at item 0."""
    rows = field_reference()
    return [
        (path.replace("[]", ".0"), kind)
        for path, kind, _, _ in rows
        if kind.startswith(("float", "int"))
    ]


def full_scenario() -> dict:
    """The tiny scenario with every block written out (all four structures, one pod, a source)."""
    raw = copy.deepcopy(BASE)
    raw["calibration"] = {"export": "deals.csv", "structure": "allin"}
    # Lists that are empty by default get an item, so their fields are reached at item 0.
    raw["leads"]["campaigns"] = [{"name": "c", "start_day": 1.0, "arrivals_factor": 2.0}]
    for name, role, pod in (
        ("allin", "generalist", ""),
        ("two_party", "closer", ""),
        ("conveyor", "closer", ""),
        ("pods", "closer", "p"),
    ):
        raw["structures"][name]["hires"] = [{"role": role, "day": 1.0, "pod": pod}]
    # Every block reorganised (from another block, which is started as it is written).
    for name, start in (("allin", "pods"), ("two_party", "allin"), ("conveyor", "allin")):
        raw["structures"][name]["reorganise"] = {"from_structure": start, "day": 1.0}
    raw["structures"]["pods"]["reorganise"] = {"from_structure": "allin", "day": 1.0}
    return Scenario.from_dict(raw, "test").model_dump(mode="json")


def set_path(raw: dict, path: str, value) -> None:
    parts = path.split(".")
    node = raw
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            if node[part] is None:  # an optional table left out (a relay's own costs)
                node[part] = {}
            node = node[part]
    node[parts[-1]] = value


def problems_with(path: str, value) -> list[str]:
    raw = full_scenario()
    set_path(raw, path, value)
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(raw, "test")
    return info.value.problems


def test_the_field_list_covers_every_block():
    paths = [path for path, _ in numeric_fields()]
    assert len(paths) > 150
    for sample in (
        "seed",
        "leads.mean_deal_value",
        "leads.segments.0.share",
        "leads.tiers.0.value_multiplier",
        "money.salary_closer",
        "quotas.roles.closer",
        "structures.pods.pods.0.closers",
        "structures.conveyor.quotas.closer",
        "people.levels.mix.closer.senior",
    ):
        assert sample in paths


def test_every_number_has_a_lower_and_an_upper_bound():
    unbounded = [path for path, kind in numeric_fields() if "<" not in kind]
    assert unbounded == []
    # Every lower bound is 0 or more, so -1 is out of range everywhere.
    negative = [path for path, kind in numeric_fields() if ">" not in kind]
    assert negative == []


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_are_refused_in_every_field(value):
    for path, kind in numeric_fields():
        lines = problems_with(path, value)
        assert len(lines) == 1, (path, lines)
        expected = "finite number" if kind.startswith("float") else "valid integer"
        assert lines[0].startswith(f"test: {path}: ") and expected in lines[0], lines


@pytest.mark.parametrize("value", [1e308, 10**30, -1])
def test_huge_and_negative_numbers_are_refused_in_every_field(value):
    for path, _ in numeric_fields():
        lines = problems_with(path, value)
        assert len(lines) == 1 and lines[0].startswith(f"test: {path}: "), (path, lines)


def test_a_bad_list_item_is_one_line_not_two():
    # pydantic also says the list is "too short" (it counts valid items only).
    assert problems_with("leads.segments.0.share", -1.0) == [
        "test: leads.segments.0.share: Input should be greater than 0 (got -1.0)"
    ]


@pytest.mark.parametrize(
    "setting, expected",
    [
        ("leads.mean_deal_value=inf", "leads.mean_deal_value: Input should be a finite number"),
        ("leads.mean_deal_value=1e308", "leads.mean_deal_value: Input should be less than"),
        ("money.salary_closer=1e308", "money.salary_closer: Input should be less than"),
        ("quotas.roles.closer=inf", "quotas.roles.closer: Input should be a finite number"),
        ("decay.half_life_days=nan", "decay.half_life_days: Input should be a finite number"),
        ("accounts.neglect_after_days=1e308", "accounts.neglect_after_days: Input should be"),
        ("leads.segments=[{name='all', share=inf}]", "leads.segments.0.share: Input should be"),
        ("leads.tiers=[{name='t', share=1, value_multiplier=inf}]", "leads.tiers.0.value_mul"),
        ("seed=99999999999999999999", "seed: Input should be less than or equal to"),
        ("horizon_days=1e-300", "horizon_days: Input should be greater than or equal to 1"),
        ("sample_interval_days=1e-9", "sample_interval_days: Input should be greater than"),
        ("accounts.review_interval_days=1e-6", "accounts.review_interval_days: Input should"),
        ("quotas.period_days=1e-6", "quotas.period_days: Input should be greater than"),
        ("stages.closing.effort_cv=1e-160", "stages.closing.effort_cv: Input should be greater"),
    ],
)
def test_out_of_range_values_stop_before_the_simulation(tmp_path, capsys, setting, expected):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    out = tmp_path / "out"
    assert main(["simulate", str(path), "--out", str(out), "--set", setting]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    message = expected.partition(": ")[2]  # the flag names the field
    assert err == [err[0]] and err[0].startswith(f"--set {setting}: ") and message in err[0], err
    assert not out.exists()


def test_the_largest_seed_runs_with_and_without_common_random_numbers():
    sc = scenario(f"seed={MAX_SEED}", "horizon_days=10")
    result = simulate(sc, ("conveyor",))
    assert (result.leads["seed"] == MAX_SEED).all()
    independent = simulate_independent(sc, ("allin", "conveyor"))
    assert independent.leads["seed"].dtype == np.int64
    assert (independent.leads["seed"] != MAX_SEED).all()


def test_shipped_values_are_inside_every_bound():
    # Spelled out so a tighter bound that would refuse a shipped file fails here.
    sc = Scenario.from_file("scenarios/baseline.toml")
    assert sc.leads.mean_deal_value < 1e12 and sc.money.salary_manager < 1e12
    assert sc.sample_interval_days >= 0.01 and sc.horizon_days >= 1


# --- sweep files -------------------------------------------------------------

TINY = SMALL.replace('name = "small"', 'name = "tiny"')


def sweep_problems(tmp_path, text: str, base: str = "tiny.toml") -> list[str]:
    (tmp_path / "tiny.toml").write_text(TINY)
    path = tmp_path / "s.toml"
    path.write_text(f'name = "s"\nscenario = "{base}"\n' + text)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    return info.value.problems


def test_a_grid_too_big_is_refused_by_its_size_before_any_point(tmp_path):
    axes = "".join(
        f'[[grid]]\nname = "a{i}"\npath = "leads.arrivals_per_day"\n'
        "range = { start = 1, stop = 2, num = 1000 }\n"
        for i in range(2)
    )
    # The base scenario is not even read: the size alone refuses the file.
    (line,) = sweep_problems(tmp_path, axes, base="missing.toml")
    assert line == (
        "s.toml: grid: 1,000,000 grid points (1000 x 1000), more than the "
        f"{MAX_GRID_POINTS:,} a sweep may have: split it into smaller sweeps or use fewer values"
    )


def test_sweep_values_and_seed_are_bounded_too(tmp_path):
    lines = sweep_problems(
        tmp_path,
        "seed = 99999999999999999999\n"
        '[[grid]]\nname = "x"\npath = "leads.arrivals_per_day"\n'
        "range = { start = 1, stop = inf, num = 3 }\n",
    )
    assert lines == [
        "s.toml: seed: Input should be less than or equal to 9223372036854775807 "
        "(got 99999999999999999999)",
        "s.toml: grid.0.range.stop: Input should be a finite number (got inf)",
    ]
    (line,) = sweep_problems(
        tmp_path, '[[grid]]\nname = "x"\npath = "leads.mean_deal_value"\nvalues = [1000, inf]\n'
    )
    assert line.startswith("s.toml: grid.0.values.1: leads.mean_deal_value: Input should be a")
