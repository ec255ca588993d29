"""Calibration round trip: simulate known parameters, export, calibrate, recover them."""

import pandas as pd
import pytest

from sim.config.scenario import STAGES, Scenario, without_sales_effects
from sim.crm.calibrate import calibrate
from sim.crm.read import read_export
from sim.crm.scenario_file import calibrated_scenario, scenario_toml
from sim.crm.write import export_crm
from sim.model.runner import simulate

SEGMENTS = [
    {"name": "software", "share": 0.45, "value_multiplier": 0.9},
    {"name": "financial_services", "share": 0.15, "value_multiplier": 1.3},
    {"name": "manufacturing", "share": 0.40, "value_multiplier": 1.0},
]
STAGE_TRUTH = {
    "prospecting": {"pass_prob": 0.3, "mean_effort_days": 0.2, "mean_lag_days": 4.0},
    "qualification": {"pass_prob": 0.5, "mean_effort_days": 0.6, "mean_lag_days": 8.0},
    "closing": {"pass_prob": 0.3, "mean_effort_days": 1.5, "mean_lag_days": 20.0},
}
TEAMS = {
    "conveyor": {"lead_gen": 3, "qualifiers": 2, "closers": 3, "account_managers": 2},
    "pods": {
        "pods": [
            {"name": "digital", "segments": ["software", "financial_services"], "lead_gen": 2,
             "qualifiers": 2, "closers": 2, "account_managers": 2},
            {"name": "industrial", "segments": ["manufacturing"], "lead_gen": 1,
             "qualifiers": 1, "closers": 2, "account_managers": 1},
        ]
    },
}  # fmt: skip


def truth(structure: str) -> Scenario:
    stages = {
        name: {**values, "effort_distribution": "gamma", "effort_cv": 0.75}
        for name, values in STAGE_TRUTH.items()
    }
    raw = {
        "name": f"truth_{structure}",
        "seed": 3,
        "replications": 1,
        "horizon_days": 365,
        "leads": {
            "arrivals_per_day": 6.0,
            "mean_deal_value": 20000.0,
            "deal_value_sigma": 0.5,
            "segments": SEGMENTS,
        },
        "stages": stages,
        "structures": {structure: TEAMS[structure]},
    }
    return without_sales_effects(Scenario.from_dict(raw))


@pytest.fixture(scope="module", params=["conveyor", "pods"])
def round_trip(request, tmp_path_factory):
    structure = request.param
    scenario = truth(structure)
    leads = simulate(scenario).leads
    path = tmp_path_factory.mktemp("crm") / "export.csv"
    export_crm(leads, "leads").to_csv(path, index=False)
    return structure, scenario, calibrate(read_export(path), structure)


def test_recovers_the_market(round_trip):
    _, scenario, cal = round_trip
    assert cal.arrivals_per_day.covers(scenario.leads.arrivals_per_day)
    total = sum(s["share"] for s in SEGMENTS)
    for segment in SEGMENTS:
        name = segment["name"]
        assert cal.segments[name].covers(segment["share"] / total), name
        true_mean = scenario.leads.mean_deal_value * segment["value_multiplier"]
        assert cal.segment_values[name].covers(true_mean), name
    assert cal.deal_value_sigma.covers(scenario.leads.deal_value_sigma)


def test_recovers_the_funnel(round_trip):
    _, scenario, cal = round_trip
    for stage in STAGES:
        true = scenario.stages.get(stage)
        assert cal.pass_prob[stage].covers(true.pass_prob), stage
        assert cal.effort_days[stage].covers(true.mean_effort_days), stage
        assert cal.lag_days[stage].covers(true.mean_lag_days), stage
        assert cal.effort_cv[stage] == pytest.approx(0.75, abs=0.1), stage
    assert cal.handoff_drop_prob.covers(0.0)
    assert cal.handoff_delay_days.value == pytest.approx(0.0, abs=1e-3)
    assert cal.went_cold == 0


def test_recovers_the_team(round_trip):
    structure, scenario, cal = round_trip
    if structure == "conveyor":
        got = {role: round(estimate.value) for role, estimate in cal.headcount.items()}
        assert got == TEAMS["conveyor"]
    else:
        pods = {tuple(p["segments"]): p for p in cal.pods}
        for pod in TEAMS["pods"]["pods"]:
            found = pods[tuple(sorted(pod["segments"]))]
            for role in ("lead_gen", "qualifiers", "closers", "account_managers"):
                assert round(found["headcount"][role].value) == pod[role], (pod["name"], role)


TIERS = [
    {"name": "enterprise", "share": 0.3, "value_multiplier": 3.0, "effort_multiplier": 2.0},
    {"name": "smb", "share": 0.7, "value_multiplier": 0.5, "effort_multiplier": 0.8},
]


@pytest.mark.parametrize("shape", ["leads", "history"])
def test_recovers_size_tiers_from_a_tier_column(tmp_path, shape):
    data = truth("conveyor").model_dump(mode="json")
    data["leads"]["tiers"] = TIERS
    scenario = Scenario.from_dict(data)
    path = tmp_path / "export.csv"
    export_crm(simulate(scenario).leads, shape).to_csv(path, index=False)
    cal = calibrate(read_export(path), "conveyor")
    mean_value = sum(t["share"] * t["value_multiplier"] for t in TIERS)  # 1.25
    mean_effort = sum(t["share"] * t["effort_multiplier"] for t in TIERS)  # 1.16
    for tier in TIERS:
        name = tier["name"]
        assert cal.tiers[name].covers(tier["share"]), name
        assert cal.tier_values[name].covers(20000.0 * tier["value_multiplier"]), name
        assert cal.tier_effort[name].covers(tier["effort_multiplier"] / mean_effort), name
    for segment in SEGMENTS:  # a segment's mean amount now includes the tier mix
        true_mean = 20000.0 * segment["value_multiplier"] * mean_value
        assert cal.segment_values[segment["name"]].covers(true_mean), segment["name"]
    assert cal.deal_value_sigma.covers(0.5)  # the spread within segment and tier
    calibrated = calibrated_scenario(cal)
    got = {t.name: t for t in calibrated.leads.tiers}
    assert got["enterprise"].value_multiplier / got["smb"].value_multiplier == pytest.approx(
        6.0, rel=0.15
    )
    assert got["enterprise"].effort_multiplier / got["smb"].effort_multiplier == pytest.approx(
        2.5, rel=0.15
    )


def test_without_a_tier_column_one_neutral_tier(round_trip):
    _, _, cal = round_trip
    assert cal.tiers == {} and "tier" not in cal.history.measured
    text = scenario_toml(cal, "ours", "export.csv")
    assert "# size tiers: the export has no tier column, so one neutral tier" in text
    assert [t.name for t in calibrated_scenario(cal).leads.tiers] == ["standard"]


PATIENCE_DAYS = 3.0


@pytest.fixture(scope="module", params=["conveyor", "pods"])
def patience_round_trip(request, tmp_path_factory):
    """Leads with a patience that leave an overloaded prospecting queue unworked."""
    structure = request.param
    data = truth(structure).model_dump(mode="json")
    data["decay"]["mean_patience_days"] = PATIENCE_DAYS
    data["stages"]["prospecting"]["mean_effort_days"] = 0.6  # load above 1 rep-day per rep
    scenario = Scenario.from_dict(data)
    leads = simulate(scenario).leads
    path = tmp_path_factory.mktemp("crm") / "export.csv"
    export_crm(leads, "history" if structure == "pods" else "leads").to_csv(path, index=False)
    return scenario, leads, calibrate(read_export(path), structure)


def test_recovers_the_patience(patience_round_trip):
    scenario, leads, cal = patience_round_trip
    went_cold = int((leads["lost_reason"].astype(str) == "went_cold").sum())
    assert went_cold > 300  # enough leads went cold for a narrow interval
    assert cal.went_cold == went_cold and cal.open_inactive == 0
    assert cal.patience_days.covers(PATIENCE_DAYS), cal.patience_days
    assert cal.patience_days.high / cal.patience_days.low < 1.25
    for stage in STAGES:  # went cold is not failed: the pass probabilities stay unbiased
        assert cal.pass_prob[stage].covers(scenario.stages.get(stage).pass_prob), stage
    text = scenario_toml(cal, "ours", "export.csv")
    assert f"mean_patience_days = {cal.patience_days.value:.4g}   # 95 % CI" in text


def test_open_lead_waiting_past_the_threshold_counts_as_went_cold(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "lead_id,created_at,status,prospecting_entered_at,prospecting_assigned_at,"
        "prospecting_owner\n"
        "A,2024-01-01,open,2024-01-01,,\n"  # unworked for 101 days at the end
        "B,2024-01-11,open,2024-01-11,,\n"  # unworked for 91 days
        "C,2024-04-10,open,2024-04-10,2024-04-10,ann\n"  # the export ends on 2024-04-10...
    )  # ... at the end of that day: a date without a time means the whole day
    cal = calibrate(read_export(path), "conveyor", cold_after_days=95)
    assert (cal.went_cold, cal.open_inactive) == (1, 1)
    assert cal.patience_days.value == pytest.approx(101 + 91)  # time at risk / leads gone cold
    cal = calibrate(read_export(path), "conveyor", cold_after_days=60)
    assert (cal.went_cold, cal.open_inactive) == (2, 2)


def test_calibrated_scenario_is_valid_and_simulates(round_trip):
    structure, _, cal = round_trip
    scenario = calibrated_scenario(cal, "ours", "export.csv")
    assert scenario.structures.names == (structure,)
    short = scenario.replace(["horizon_days=60", "replications=1"])
    assert len(simulate(short).leads) > 0


def test_both_shapes_read_alike(tmp_path):
    leads = simulate(truth("conveyor").replace(["horizon_days=60"])).leads
    frames = []
    for shape in ("leads", "history"):
        path = tmp_path / f"{shape}.csv"
        export_crm(leads, shape).to_csv(path, index=False)
        history = read_export(path)
        assert history.shape == shape and not history.problems
        frames.append(
            history.leads.drop(columns="row").sort_values("lead_id").reset_index(drop=True)
        )
    left, right = frames
    assert list(left["outcome"]) == list(right["outcome"])
    for column in left.columns:
        if column.endswith("_day"):
            assert ((left[column] - right[column]).abs().fillna(0) < 1e-9).all(), column


def test_backtest_cli_writes_bands_and_report(tmp_path, capsys):
    from sim.cli.main import main

    leads = simulate(truth("conveyor").replace(["horizon_days=120"])).leads
    export = tmp_path / "export.csv"
    table = export_crm(leads, "history")
    bad = {"lead_id": "X1", "changed_at": "2024-01-02 10:00", "stage": "SQL"}
    table = pd.concat([table, pd.DataFrame([bad])], ignore_index=True)
    table.to_csv(export, index=False)
    ours = tmp_path / "ours.toml"
    calibrate_args = ["calibrate", str(export), "--structure", "conveyor", "--out", str(ours)]
    assert main([*calibrate_args, "--skip-bad-rows"]) == 0
    # The scenario remembers --skip-bad-rows; a copy without [calibration] does not.
    remembered = ["backtest", str(ours), "--out", str(tmp_path / "bt0"), "--replications", "2"]
    assert main([*remembered, "--no-plots"]) == 0
    assert (tmp_path / "bt0" / "unusable_rows.csv").exists()
    ours.write_text(ours.read_text().split("[calibration]")[0])
    out = tmp_path / "bt"
    args = ["backtest", str(ours), str(export), "--out", str(out), "--replications", "5"]
    assert main([*args, "--no-plots"]) == 2  # the unusable row stops it...
    assert "listed in" in capsys.readouterr().err
    assert (out / "unusable_rows.csv").exists()
    assert main([*args, "--no-plots", "--skip-bad-rows"]) == 0  # ... unless told to go on
    assert {p.name for p in out.iterdir()} == {
        "backtest.csv", "outside.csv", "report.txt", "unusable_rows.csv", "salesim-manifest.json",
        "backtest.html",
    }  # fmt: skip
    listed = pd.read_csv(out / "unusable_rows.csv")
    assert listed[["row", "lead_id", "kind"]].values.tolist() == [[len(table) + 1, "X1",
                                                                  "not_in_mapping"]]  # fmt: skip
    assert listed.loc[0, "reason"].startswith("stage: 'SQL' is not in the mapping")
    text = capsys.readouterr().out
    assert "points of history fall outside the middle 95 % of 5 replications" in text
    table = pd.read_csv(out / "backtest.csv", keep_default_na=False)
    wins = table[table["metric"] == "wins"]
    # calendar months of the export (day 0 = 2024-01-01), whole months only: April
    # 2024 ends on day 121, after the export's last timestamp
    assert list(wins["period"]) == ["2024-01", "2024-02", "2024-03"]
    from sim.reports.backtest_figure import plot_backtest

    table["outside"] = table["outside"].astype(str) == "True"
    for column in ("history", "sim_low", "sim_median", "sim_high"):
        table[column] = pd.to_numeric(table[column])
    figure = plot_backtest(table, pd.Timestamp("2024-01-01"))
    labels = [t.get_text() for t in figure.axes[1].get_xticklabels()]
    assert labels == ["2024-01", "2024-02", "2024-03"]


def test_backtest_months_are_calendar_months():
    from sim.crm.backtest import history_series, month_edges

    origin = pd.Timestamp("2024-01-15")  # mid-month: January is a partial month
    edges, labels = month_edges(80.0, origin)
    assert labels == ["2024-01", "2024-02", "2024-03"]  # April ends on day 107
    assert list(edges) == [0.0, 17.0, 46.0, 77.0]  # Feb 1, Mar 1 (2024 is leap), Apr 1
    days = [0.0, 16.99, 17.0, 45.5, 76.9, 77.0, 79.0]
    leads = pd.DataFrame({"arrival_day": days, "end_day": days, "outcome": ["won"] * 7,
                          "lost_at": [""] * 7})  # fmt: skip
    for stage in STAGES:
        leads[f"{stage}_queue_day"] = leads[f"{stage}_done_day"] = days
    series = history_series(leads, 80.0, origin)
    wins = series[series["metric"] == "wins"]
    assert list(wins["period"]) == labels and list(wins["value"]) == [2, 2, 1]
    edges, labels = month_edges(80.0)  # no calendar: 365.25 / 12-day months
    assert labels == ["month 1", "month 2"] and edges[1] == pytest.approx(30.4375)


@pytest.mark.integration  # a cycle fit of about 16 s
def test_an_export_with_only_the_required_columns_calibrates(tmp_path, capsys):
    """Missing optional columns are fine: no stage dates, owners or amounts."""
    from sim.crm.backtest import run_backtest

    leads = simulate(truth("conveyor").replace(["horizon_days=120"])).leads
    path = tmp_path / "export.csv"
    export_crm(leads, "leads")[["lead_id", "created_at", "status", "closed_at"]].to_csv(
        path, index=False
    )
    history = read_export(path)
    assert not history.problems and len(history.leads) == len(leads)
    cal = calibrate(history, "conveyor")
    decided = leads["outcome"].astype(str).isin(["won", "lost"])
    win_rate = (leads["outcome"].astype(str) == "won").sum() / decided.sum()
    for stage in STAGES:  # the win rate spread evenly over the stages, and said so
        assert cal.pass_prob[stage].value ** 3 == pytest.approx(win_rate)
        assert "not measured (no stage dates)" in cal.pass_prob[stage].note
    text = scenario_toml(cal, "ours", "export.csv")
    assert "mean_deal_value = 25000.0   # not measured: no amounts in the export" in text
    scenario = calibrated_scenario(cal)
    result = run_backtest(scenario, history, "conveyor", replications=3)
    compared = result.table.dropna(subset=["history"])["metric"]
    assert set(compared) == {"entered_prospecting", "wins", "wins_total", "win_rate_decided"} | {
        f"cycle_days_p{q}" for q in (10, 25, 50, 75, 90)
    } | {"lost_cycle_days_p50", "lost_cycle_days_p90"}


def test_names_with_quotes_and_backslashes_are_written_as_they_are(tmp_path):
    """Segment, tier and file names from the export are quoted and escaped, not pasted."""
    import tomllib
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "crm_export.csv"
    df = pd.read_csv(example, dtype=str, keep_default_na=False)
    segments = {"software": 'soft "ware"', "manufacturing": "C:\\new"}
    df["segment"] = df["segment"].map(segments)
    df.insert(3, "tier", ["big 'one'", "small\\"] * (len(df) // 2) + ["big 'one'"] * (len(df) % 2))
    path = tmp_path / 'ex"port.csv'
    df.to_csv(path, index=False)
    cal = calibrate(read_export(path), "pods")
    data = tomllib.loads(scenario_toml(cal, "ours", path.name))
    assert data["description"] == 'calibrated from ex"port.csv'
    assert sorted(s["name"] for s in data["leads"]["segments"]) == sorted(segments.values())
    assert sorted(t["name"] for t in data["leads"]["tiers"]) == ["big 'one'", "small\\"]
    assert sorted(data["structures"]["pods"]["pods"][0]["segments"]) == sorted(segments.values())
    assert calibrated_scenario(cal, "ours", path.name).leads.segments[0].name == "C:\\new"
