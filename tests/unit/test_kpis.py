"""The KPI registry (``sim.analysis.kpis``): complete, alone, and read by every consumer."""

import ast
import math
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis import in_words, kpi_values, kpis, report_kpis
from sim.analysis.kpis import FAMILIES, KPIS, format_mean_ci, format_value, kpi_spec
from sim.config.scenario import Scenario
from sim.model.runner import simulate
from sim.sweep import page as sweep_page
from sim.sweep import summary, sweep_file

ROOT = Path(__file__).resolve().parents[2]
EVERY_EFFECT = (
    "replications=1",
    "horizon_days=200",
    "fulfilment.enabled=true",
    "referrals.enabled=true",
    "people.performance.enabled=true",
    "leads.outbound.enabled=true",
    "nurture.enabled=true",
    "nurture.return_prob=0.5",
)
"""baseline.toml (four structures, three tiers, competition, turnover, ramp, accounts) with
the effects it leaves off switched on, over a short horizon."""


@pytest.fixture(scope="module")
def produced() -> list[str]:
    """Every KPI column ``run_kpis`` produces with every structure and every effect on."""
    sc = Scenario.from_file(ROOT / "scenarios" / "baseline.toml", EVERY_EFFECT)
    result = simulate(sc)
    table = kpi_values.run_kpis(result.leads, result.reps, sc)
    return [c for c in table.columns if c not in ("structure", "replication")]


def test_every_kpi_run_kpis_produces_has_an_entry_and_no_entry_is_stale(produced):
    assert set(produced) == set(KPIS), (
        f"not in the registry: {sorted(set(produced) - set(KPIS))}; "
        f"never produced: {sorted(set(KPIS) - set(produced))}"
    )
    for name in produced:
        entry = KPIS[name]
        assert entry.name == name
        assert entry.label and entry.unit and entry.description, name
        assert entry.direction in ("higher", "lower", "neither"), name
        assert entry.format in ("percent", "points", "count", "days", "money", "throughput")
        assert entry.family in FAMILIES, name
        assert not entry.label.endswith(")"), f"{name}: the title adds the unit in brackets"
    # Fractions are formatted as fractions, counts and amounts are not.
    for entry in KPIS.values():
        fraction = entry.unit.startswith("fraction")
        assert fraction == (entry.format in ("percent", "points")), entry.name


def test_families_of_kpis_cover_every_member():
    assert KPIS["utilisation_lead_gen"].pattern == "utilisation_<role>"
    assert KPIS["utilisation_lead_gen"].label == "utilisation: lead gen"
    assert KPIS["conversion_closing"].pattern == "conversion_<stage>"
    assert "mean_wait_days_account_manager" not in KPIS  # account managers work no stage
    assert {k for k in KPIS if k.startswith("dropped_handoff_to_")} == {
        "dropped_handoff_to_qualification",
        "dropped_handoff_to_closing",
        "dropped_handoff_to_pod",
    }


def test_the_drifts_of_issue_19_are_gone():
    # Every KPI a sweep ranks has a direction, and the comparison reads the same one.
    for name in sweep_file.SWEEP_KPIS:
        assert KPIS[name].direction != "neither", name
        assert sweep_file.KPI_DIRECTIONS[name] == KPIS[name].direction
        direction = sweep_file.KPI_DIRECTIONS[name]
        assert kpis.kpi_spec(name).better == {"higher": 1, "lower": -1}[direction]
    # A rate is a rate everywhere: 0.43 prints as 43.0 %, not as a count of leads.
    assert format_value("win_rate_decided", 0.43) == "43.0 %"
    assert KPIS["win_rate_decided"].unit == "fraction"
    # Advocates are accounts, not leads; payback and cycle times are in days.
    assert KPIS["advocates_at_end"].unit == "accounts"
    assert KPIS["accounts_dropped_in_handoff"].unit == "accounts per replication"
    for name in ("new_hire_payback_days", "p50_days_to_close", "mean_days_to_go_live"):
        assert KPIS[name].title.endswith("(days)")
        assert KPIS[name].format == "days"
    assert KPIS["mean_wait_days_closer"].unit == "days"  # was a count of leads


def test_simulate_and_compare_print_a_kpi_alike():
    rows = [("a", "conversion", 0.023, 0.019, 0.027), ("a", "p90_days_to_close", 84.0, 18.2, 149.8)]
    table = pd.DataFrame(rows, columns=["structure", "kpi", "mean", "ci_low", "ci_high"])
    simulate_table = kpi_values.headline(table, ("conversion", "p90_days_to_close"))
    compare_table = in_words.headline_table(table, ["conversion", "p90_days_to_close"])
    assert simulate_table.equals(compare_table.rename_axis("KPI"))
    assert list(simulate_table["a"]) == ["2.3 % ± 0.4", "84.0 ± 65.8"]
    assert list(simulate_table.index) == [
        "end-to-end conversion, lead to win (%)",
        "90th percentile cycle time, arrival to win (days)",
    ]


@pytest.mark.parametrize(
    "kpi, value, shown, difference",
    [
        ("conversion", 0.0234, "2.3 %", "+2.3 pp"),
        ("market_share_trend_per_year", -0.031, "-3.1 pp", "-3.1 pp"),
        ("leads_in", 1234.56, "1,234.6", "+1,234.6"),
        ("p90_days_to_close", 84.04, "84.0", "+84.0"),
        ("profit", -796403.4, "-796,403", "-796,403"),
        ("wins_per_30_days", 7.0588, "7.06", "+7.06"),
        ("headcount", 12.0, "12.0", "+12.0"),
        ("conversion", math.nan, "-", "-"),
    ],
)
def test_formats(kpi, value, shown, difference):
    assert format_value(kpi, value) == shown
    assert format_value(kpi, value, difference=True) == difference


def test_units_as_printed():
    assert KPIS["conversion"].shown_unit == "%"
    assert KPIS["conversion"].difference_unit == "percentage points"
    assert KPIS["annual_turnover"].title == "rep turnover, leavers per seat (% per year)"
    assert KPIS["market_share_trend_per_year"].shown_unit == "percentage points per year"
    assert KPIS["mean_attainment_closer"].shown_unit == "% of quota"
    assert format_mean_ci("mean_attainment_closer", 1.05, 0.95, 1.15) == "105.0 % ± 10.0"
    assert format_mean_ci("market_share_trend_per_year", -0.03, -0.05, -0.01) == "-3.0 pp ± 2.0"
    assert format_mean_ci("profit", 10.0, math.nan, math.nan) == "10"


def test_unknown_columns_still_print():
    entry = kpi_spec("some_old_column")
    assert (entry.label, entry.direction, entry.family) == ("some old column", "neither", "other")
    assert format_value("some_old_column", 2.25) == "2.2"


def test_every_consumer_reads_the_registry():
    assert in_words.kpi_spec is kpi_spec and in_words.format_value is format_value
    assert in_words.format_mean_ci is format_mean_ci
    for specs in (report_kpis.HEADLINE_SPECS, report_kpis.PEOPLE_SPECS, report_kpis.COST_SPECS):
        assert all(entry is KPIS[name] for name, entry in specs.items())
    assert sweep_page.kpi_label("profit") == "profit, gross margin - cost (currency)"
    assert sweep_page.kpi_label("conversion") == KPIS["conversion"].column_title
    assert summary.kpi_spec is kpi_spec
    assert sweep_file.reserved_name("utilisation_closer")
    assert sweep_file.reserved_name("wall_seconds")
    assert not sweep_file.reserved_name("closers")


def _written(value: ast.expr) -> bool:
    """A literal (a label, unit, direction or sign) or a spec built in place."""
    if isinstance(value, ast.UnaryOp):
        value = value.operand
    if isinstance(value, ast.Constant):
        return True
    if isinstance(value, ast.Call):
        name = getattr(value.func, "id", getattr(value.func, "attr", ""))
        return "spec" in name.lower() or "kpi" in name.lower()
    return False


def _dicts_of_kpi_facts(tree: ast.AST) -> list[int]:
    """Lines of dict literals keyed by two or more KPI names whose values are all written out."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        if sum(k in KPIS for k in keys) >= 2 and all(_written(v) for v in node.values):
            found.append(node.lineno)
    return found


def test_no_other_module_defines_kpi_labels_or_directions():
    texts = {e.label for e in KPIS.values()} | {e.title for e in KPIS.values()}
    texts |= {e.column_title for e in KPIS.values()}
    own = Path(kpis.__file__).resolve()
    found = {}
    for path in sorted((ROOT / "sim").rglob("*.py")):
        if path.resolve() == own:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        labels = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            if node.value in texts
        ]
        if labels or (lines := _dicts_of_kpi_facts(tree)):
            found[path.relative_to(ROOT).as_posix()] = labels or lines
    assert found == {}, "KPI labels, units and directions live in sim/analysis/kpis.py"


def test_the_check_above_would_see_the_old_tables():
    old = ast.parse('KPI_DIRECTIONS = {"profit": "higher", "cost": "lower"}')
    assert _dicts_of_kpi_facts(old) == [1]
    old = ast.parse(
        'S = {"profit": KpiSpec("profit", "money", +1), "roi": KpiSpec("r", "rate", 1)}'
    )
    assert _dicts_of_kpi_facts(old) == [1]
    computed = ast.parse('row = {"won": int(won.sum()), "lost": n - won, "open": math.nan}')
    assert _dicts_of_kpi_facts(computed) == []


def test_the_reference_table_for_the_docs():
    text = kpis.kpi_reference_markdown()
    lines = text.splitlines()
    assert lines[0] == "| KPI | what it is | unit | better | family | meaning |"
    rows = {line.split(" | ")[0].removeprefix("| ") for line in lines[2:]}
    assert "`utilisation_<role>`" in rows and "`utilisation_closer`" not in rows
    assert "`profit`" in rows
    singles = {e.name for e in KPIS.values() if not e.pattern}
    families = {e.pattern for e in KPIS.values() if e.pattern}
    assert len(lines) - 2 == len(singles) + len(families)
    assert all(line.count(" | ") == 5 for line in lines[:1] + lines[2:])
    # Placeholders are code, or a Markdown renderer would take them for HTML tags.
    assert "| utilisation: `<role>` | fraction | neither | flow |" in text


def test_a_shares_interval_is_cut_to_zero_and_a_ratios_is_not():
    # Shares at quota in five replications: mean 0.178, squared deviations summing to
    # 0.16368, sd sqrt(0.16368 / 4) = 0.20229, t(4, 0.975) = 2.7764: half-width
    # 2.7764 * 0.20229 / sqrt(5) = 0.2512, so the t interval starts at -0.0732.
    shares = [0.0, 0.0, 0.1, 0.4, 0.39]
    frame = pd.DataFrame(
        {
            "structure": ["pods"] * 5,
            "replication": range(5),
            "share_at_quota_closer": shares,
            "roi": [-s for s in shares],
        }
    )
    summary = kpi_values.summarise(frame).set_index("kpi")
    share = summary.loc["share_at_quota_closer"]
    assert share["mean"] == pytest.approx(0.178)
    assert share["ci_low"] == 0.0  # -0.0732 cut to the share's bound
    assert share["ci_high"] == pytest.approx(0.178 + 0.2512, abs=1e-3)
    roi = summary.loc["roi"]  # profit / cost is a ratio: below 0 is a loss, nothing cut
    assert roi["ci_low"] == pytest.approx(-0.178 - 0.2512, abs=1e-3)
    assert roi["ci_high"] == pytest.approx(-0.178 + 0.2512, abs=1e-3)


def test_every_share_is_bounded_and_nothing_else_is():
    bounded = {name for name, spec in KPIS.items() if spec.bounds is not None}
    assert "share_at_quota_closer" in bounded and "conversion" in bounded
    assert not bounded & {"roi", "profit", "mean_attainment_closer", "forecast_bias"}
    assert all(KPIS[name].unit == "fraction" for name in bounded)
    assert kpi_spec("conversion").clip(-0.1, 1.2) == (0.0, 1.0)
    assert all(math.isnan(x) for x in kpi_spec("conversion").clip(math.nan, math.nan))


def test_the_sweep_summary_cuts_a_shares_interval_too():
    from sim.sweep.summary import summarise_sweep

    class _Sweep:
        axes = ()

    shares = [0.0, 0.0, 0.1, 0.4, 0.39]  # the t interval of the test above: -0.0732 to 0.4292
    table = pd.DataFrame(
        {
            "point": 0,
            "seed": 1,
            "structure": "pods",
            "replication": range(5),
            "share_at_quota_closer": shares,
            "roi": [-s for s in shares],
        }
    )
    summary = summarise_sweep(table, _Sweep()).set_index("kpi")
    assert summary.loc["share_at_quota_closer", "ci_low"] == 0.0
    assert summary.loc["share_at_quota_closer", "ci_high"] == pytest.approx(0.4292, abs=1e-4)
    assert summary.loc["roi", "ci_low"] == pytest.approx(-0.4292, abs=1e-4)
    assert summary.loc["roi", "ci_high"] == pytest.approx(0.0732, abs=1e-4)
