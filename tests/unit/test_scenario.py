"""Scenario validation: every bad input is one clear line naming file and field."""

import tomllib

import pytest
from pydantic import ValidationError

from sim.config.scenario import (
    STAGES,
    Scenario,
    ScenarioError,
    as_markovian_network,
    field_reference,
    without_sales_effects,
)
from sim.config.writing import to_toml
from tests.builders import BASE, scenario

GOOD = """
name = "ok"
horizon_days = 100
[leads]
arrivals_per_day = 2
mean_deal_value = 1000
[stages.prospecting]
pass_prob = 0.5
mean_effort_days = 0.1
[stages.qualification]
pass_prob = 0.5
mean_effort_days = 0.1
[stages.closing]
pass_prob = 0.5
mean_effort_days = 0.1
[structures.conveyor]
lead_gen = 1
qualifiers = 1
closers = 1
account_managers = 1
"""


def problems(tmp_path, text, name="s.toml", overrides=()):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        Scenario.from_file(path, overrides)
    return info.value.problems


def test_good_file_loads_and_is_frozen(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(GOOD)
    sc = Scenario.from_file(path)
    assert sc.structures.names == ("conveyor",)
    with pytest.raises(ValidationError):
        sc.seed = 3


def test_probability_above_one(tmp_path):
    text = GOOD.replace(
        "pass_prob = 0.5\nmean_effort_days = 0.1\n[stages.closing]",
        "pass_prob = 1.5\nmean_effort_days = 0.1\n[stages.closing]",
    )
    assert problems(tmp_path, text) == [
        "s.toml: stages.qualification.pass_prob: Input should be less than or equal to 1 (got 1.5)"
    ]


def test_negative_headcount(tmp_path):
    assert problems(tmp_path, GOOD.replace("closers = 1", "closers = -2")) == [
        "s.toml: structures.conveyor.closers: Input should be greater than or equal to 1 (got -2)"
    ]


def test_misspelled_key_gives_extra_and_missing(tmp_path):
    lines = problems(tmp_path, GOOD.replace("qualifiers = 1", "qualifier = 1"))
    assert "s.toml: structures.conveyor.qualifiers: Field required" in lines
    assert (
        "s.toml: structures.conveyor.qualifier: unknown field 'qualifier'; "
        "did you mean 'qualifiers'?" in lines
    )


def test_wrong_type_is_not_coerced(tmp_path):
    lines = problems(tmp_path, GOOD.replace("arrivals_per_day = 2", 'arrivals_per_day = "2"'))
    assert lines == ["s.toml: leads.arrivals_per_day: Input should be a valid number (got '2')"]


def test_unknown_structure(tmp_path):
    lines = problems(tmp_path, GOOD + "\n[structures.matrix]\nreps = 3\n")
    assert lines == [
        "s.toml: structures.matrix: unknown field 'matrix' "
        "(fields here: allin, two_party, conveyor, pods)"
    ]


def test_unknown_key_names_the_field_it_resembles(tmp_path):
    assert problems(tmp_path, GOOD, "t.toml", ["stages.closing.pas_prob=0.5"]) == [
        "--set stages.closing.pas_prob=0.5: unknown field 'pas_prob'; did you mean 'pass_prob'?"
    ]
    segments = "\n[[leads.segments]]\nname = 'all'\nshare = 1.0\nvalue_multipler = 2.0\n"
    assert problems(tmp_path, GOOD + segments) == [
        "s.toml: leads.segments.0.value_multipler: unknown field 'value_multipler'; "
        "did you mean 'value_multiplier'?"
    ]


def test_missing_required_block(tmp_path):
    lines = problems(tmp_path, GOOD.replace("[leads]\narrivals_per_day = 2\n", "[leads]\n"))
    assert lines == ["s.toml: leads.arrivals_per_day: Field required"]


def test_toml_syntax_error_keeps_the_position(tmp_path):
    (line,) = problems(tmp_path, GOOD.replace("horizon_days = 100", "horizon_days = = 100"))
    assert line.startswith("s.toml: TOML syntax error:") and "line 3" in line


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_file(tmp_path / "nope.toml")
    assert info.value.problems == [f"{tmp_path / 'nope.toml'}: no such scenario file"]


def test_missing_file_names_the_closest_scenario_and_lists_them(tmp_path, monkeypatch):
    for name in ("pods", "allin", "baseline"):
        (tmp_path / f"{name}.toml").write_text(GOOD)
    with pytest.raises(ScenarioError) as info:
        Scenario.from_file(tmp_path / "pod.toml")
    assert info.value.problems == [
        f"{tmp_path / 'pod.toml'}: no such scenario file; did you mean {tmp_path / 'pods.toml'}? "
        "(scenarios there: allin, baseline, pods)"
    ]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "conveyor.toml").write_text(GOOD)
    with pytest.raises(ScenarioError) as info:
        Scenario.from_file("conveyr")  # a bare name is also looked for in scenarios/
    assert info.value.problems == [
        "conveyr: no such scenario file; did you mean scenarios/conveyor.toml? "
        "(scenarios in scenarios/: conveyor)"
    ]


def test_several_problems_one_line_each(tmp_path):
    text = GOOD.replace("closers = 1", "closers = 0").replace(
        "horizon_days = 100", "horizon_days = -1"
    )
    assert len(problems(tmp_path, text)) == 2


def test_pods_segments_must_exist_and_be_owned():
    with pytest.raises(ScenarioError) as info:
        scenario(
            "structures.pods.pods=[{name='p', segments=['nowhere'], lead_gen=1, qualifiers=1, "
            "closers=1, account_managers=1}]"
        )
    (line,) = info.value.problems
    assert (
        "['nowhere'] are not in leads.segments" in line and "no pod owns segments ['all']" in line
    )


def test_overrides_are_validated_like_the_file_and_problems_name_the_flag(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(GOOD)
    assert (
        Scenario.from_file(path, ["structures.conveyor.closers=4"]).structures.conveyor.closers == 4
    )
    assert problems(tmp_path, GOOD, "t.toml", ["stages.closing.pass_prob=1.5"]) == [
        "--set stages.closing.pass_prob=1.5: Input should be less than or equal to 1 (got 1.5)"
    ]
    assert problems(tmp_path, GOOD, "t.toml", ["structures.conveyor.closers=x"]) == [
        "--set structures.conveyor.closers=x: Input should be a valid integer (got 'x')"
    ]
    assert problems(tmp_path, GOOD, "t.toml", ["seed"]) == ["--set seed: expected dotted.key=value"]
    assert problems(tmp_path, GOOD, "t.toml", ["horizon_days.x=1"]) == [
        "--set horizon_days.x=1: horizon_days is a value, not a table"
    ]
    # A problem of the file itself stays the file's.
    assert problems(tmp_path, GOOD.replace("closers = 1", "closers = 0"), "t.toml", ["seed=1"]) == [
        "t.toml: structures.conveyor.closers: Input should be greater than or equal to 1 (got 0)"
    ]


def test_set_on_a_block_the_scenario_lacks_says_so_in_one_line(tmp_path):
    lines = problems(tmp_path, GOOD, "t.toml", ["structures.pods.handoff.drop_prob=0.1"])
    assert lines == [
        "--set structures.pods.handoff.drop_prob=0.1: the scenario has no structures.pods block "
        "(its structures: conveyor); a new one also needs pods"
    ]
    # A block that needs nothing more is added, and an optional table is created.
    path = tmp_path / "ok.toml"
    path.write_text(GOOD)
    sc = Scenario.from_file(path, ["structures.allin.generalists=2", "decay.half_life_days=9.0"])
    assert sc.structures.names == ("allin", "conveyor") and sc.decay.half_life_days == 9.0
    # replace() sees a structure that is not configured as None: the same message.
    one = Scenario.from_file(path)
    with pytest.raises(ScenarioError) as info:
        one.replace(["structures.two_party.closers=2"])
    assert info.value.problems == [
        "--set structures.two_party.closers=2: the scenario has no structures.two_party block "
        "(its structures: conveyor); a new one also needs lead_gen, account_managers"
    ]


def test_bare_words_in_overrides_are_text(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(GOOD)
    sc = Scenario.from_file(path, ["structures.conveyor.assignment=least_loaded"])
    assert sc.structures.conveyor.assignment == "least_loaded"


def test_without_sales_effects_switches_every_effect_off():
    sc = scenario(
        "decay.half_life_days=10.0",
        "decay.mean_patience_days=5.0",
        "generalist.effort_factor=1.5",
        "structures.conveyor.handoff.drop_prob=0.2",
        "structures.pods.segment_expertise_factor=1.2",
        "leads.quality_weight=1.0",
        "accounts.churn_prob_per_review=0.1",
    )
    plain = without_sales_effects(sc)
    assert plain.decay.half_life_days is None and plain.decay.mean_patience_days is None
    assert plain.generalist.effort_factor == 1.0
    assert plain.structures.conveyor.handoff.drop_prob == 0.0
    assert plain.structures.pods.segment_expertise_factor == 1.0
    assert plain.leads.quality_weight == 0.0
    assert plain.accounts.churn_prob_per_review == 0.0
    assert (
        plain.stages == sc.stages
        and plain.structures.conveyor.closers == sc.structures.conveyor.closers
    )


def test_every_field_has_a_description():
    rows = field_reference()
    assert len(rows) > 60
    assert [path for path, _, _, text in rows if not text] == []


def test_base_builder_scenario_is_valid():
    assert Scenario.from_dict(BASE).name == "tiny"


def test_markovian_network_is_poisson_and_exponential():
    sc = scenario(
        "leads.seasonality_amplitude=0.3",
        "stages.closing.effort_distribution='gamma'",
        "leads.tiers=[{name='s', share=1.0, effort_multiplier=2.0}]",
        "structures.conveyor.handoff.context_loss=0.3",
    )
    plain = as_markovian_network(sc)
    assert plain.leads.seasonality_amplitude == 0.0
    assert {plain.stages.get(s).effort_distribution for s in STAGES} == {"exponential"}
    assert plain.leads.tiers[0].effort_multiplier == 1.0
    assert plain.structures.conveyor.handoff.context_loss == 0.0
    # Lag shape and pass probabilities are the market's and stay.
    assert plain.stages.closing.pass_prob == sc.stages.closing.pass_prob


def test_cohort_must_leave_something_to_measure():
    with pytest.raises(ScenarioError) as info:
        scenario("warmup_days=50.0", "maturity_days=50.0")
    assert "no lead would be measured" in info.value.problems[0]


def test_toml_leaves_out_unset_fields_and_notes_a_none_no_file_can_say():
    sc = scenario("decay.half_life_days=10.0")
    data = sc.model_dump(mode="json")
    data["quotas"]["roles"]["account_manager"] = None  # possible from Python, not from a file
    text = to_toml(Scenario.from_dict(data))
    assert "# account_manager: none (a file cannot say none)" in text
    assert "mean_patience_days" not in text and "[structures.allin]" in text
    assert Scenario.from_dict(tomllib.loads(to_toml(sc))) == sc
