"""Calibrating the team from a real-looking export: one deal owner, no stage dates.

Most opportunity exports name one owner for the whole deal and date only its
creation and close. The team is then sized from what it carried (Little's
law at a stated utilisation), never left at one person per role.
"""

import dataclasses
import math

import pandas as pd
import pytest

from sim.cli.main import main
from sim.config.scenario import Scenario
from sim.crm import capacity
from sim.crm.calibrate import calibrate
from sim.crm.checks import calibration_problems, matured_wins
from sim.crm.estimates import Estimate
from sim.crm.mapping import read_mapping
from sim.crm.read import read_export
from sim.crm.scenario_file import scenario_toml
from sim.crm.write import export_crm
from sim.model.runner import simulate
from tests.builders import scenario, structure_headcounts
from tests.crm_shapes import KNOWN_FUNNEL

TRUTH = (
    "horizon_days=365.0",
    "seed=11",
    "leads.arrivals_per_day=4.0",
    *KNOWN_FUNNEL,
    "structures.allin.generalists=6",
)
MAPPING = """[columns]
"Opportunity ID" = "lead_id"
"Deal owner" = "owner"
"Created" = "created_at"
"Status" = "status"
"Close Date" = "closed_at"
"Amount" = "amount"
"""


def write_deal_export(folder, generalists: int = 6, regions: bool = False):
    """A year of ``generalists`` reps as an opportunity export: one owner, dates, no stages.

    With ``regions``, each deal also has a region (60 % north), mapped to the segment.
    """
    leads = simulate(scenario(*TRUTH, f"structures.allin.generalists={generalists}"), ("allin",))
    full = export_crm(leads.leads, "leads")
    table = pd.DataFrame(
        {
            "Opportunity ID": full["lead_id"],
            "Deal owner": full["prospecting_owner"],
            "Created": full["created_at"].str[:10],
            "Status": full["status"],
            "Close Date": full["closed_at"].str[:10],
            "Amount": full["amount"],
        }
    )
    mapping = MAPPING
    if regions:
        table["Region"] = ["north" if i % 5 < 3 else "south" for i in range(len(full))]
        mapping += '"Region" = "segment"\n'
    table.to_csv(folder / "deals.csv", index=False)
    (folder / "mapping.toml").write_text(mapping)
    return folder / "deals.csv", folder / "mapping.toml"


@pytest.fixture(scope="module")
def deal_owner_export(tmp_path_factory):
    """Six generalists' year as an opportunity export: one owner, dates only, no stages."""
    folder = tmp_path_factory.mktemp("deal_owner")
    write_deal_export(folder)
    return folder


def _history(folder):
    return read_export(folder / "deals.csv", read_mapping(folder / "mapping.toml"))


def test_a_deal_owner_owns_every_stage_and_the_team_is_counted(deal_owner_export):
    cal = calibrate(_history(deal_owner_export), "allin")
    assert capacity.seats(cal.headcount["generalists"]) == 6
    # Without worked timestamps, effort is what keeps the six at 75 %.
    assert cal.expected_utilisation["generalists"] == pytest.approx(0.75, abs=1e-9)
    assert "from throughput" in cal.effort_days["closing"].note


def test_another_structure_gets_the_same_people_shared_by_their_work(deal_owner_export):
    cal = calibrate(_history(deal_owner_export), "conveyor")
    seats = {role: capacity.seats(e) for role, e in cal.headcount.items()}
    assert seats["lead_gen"] + seats["qualifiers"] + seats["closers"] == 6
    assert all("no owners recorded" not in e.note for e in cal.headcount.values())
    # Prospecting carries the most leads, so lead generation gets the most people.
    assert seats["lead_gen"] >= seats["qualifiers"] >= seats["closers"] >= 1
    assert all(load < 1 for load in cal.expected_utilisation.values())
    assert calibration_problems(cal, "deals.csv") == []


def test_the_implied_wins_match_history_among_leads_that_had_time(deal_owner_export):
    cal = calibrate(_history(deal_owner_export), "allin")
    implied, wins, leads = matured_wins(cal)
    assert leads > 1000 and wins > 100
    assert implied == pytest.approx(wins, rel=0.10)


def test_effort_from_throughput_by_hand():
    # 4 owners of prospecting (10 leads a day, 1 day in work) and closing (2 a day,
    # 5 days in work) at 50 %: 2 days of work a day shared 1:1 by the stages' work.
    group = capacity.OwnerGroup(("prospecting", "closing"), Estimate(4.0, 4.0, 4.0, 100))
    effort = capacity.effort_from_throughput(
        [group],
        {"prospecting": 10.0, "qualification": 0.0, "closing": 2.0},
        {"prospecting": 1.0, "qualification": 0.0, "closing": 5.0},
        0.5,
    )
    assert effort["prospecting"].value == pytest.approx(0.1)
    assert effort["closing"].value == pytest.approx(0.5)
    assert 10 * 0.1 + 2 * 0.5 == pytest.approx(0.5 * 4)


def test_people_are_shared_by_largest_remainder_at_least_one_each():
    share = capacity.share_people
    assert share(6, {"lead_gen": 4.05, "qualifiers": 1.85, "closers": 0.85}) == {
        "lead_gen": 3,
        "qualifiers": 2,
        "closers": 1,
    }
    assert share(2, {"a": 10.0, "b": 0.0, "c": 0.0}) == {"a": 1, "b": 1, "c": 1}


def test_a_role_without_owners_is_sized_from_its_work():
    counts = capacity.role_headcount("conveyor", [], {"closing": 2.6}, 0.75)
    assert counts["closers"].value == math.ceil(2.6 / 0.75)
    assert "no owners recorded for closing: sized to carry" in counts["closers"].note


def test_a_team_that_cannot_carry_the_volume_or_rates_that_do_not_add_up_are_refused(
    deal_owner_export,
):
    cal = calibrate(_history(deal_owner_export), "conveyor")
    busy = dataclasses.replace(
        cal, expected_utilisation={**cal.expected_utilisation, "closers": 1.4}
    )
    assert calibration_problems(busy, "deals.csv") == [
        "deals.csv: structures.conveyor.closers: the calibrated work would keep them 140% busy in "
        "the busiest month: "
        "the team could not carry the export's volume (check which columns name the owners, or "
        "the effort per stage)"
    ]
    closing = cal.pass_prob["closing"]
    off = dataclasses.replace(
        cal, pass_prob={**cal.pass_prob, "closing": dataclasses.replace(closing, value=0.9)}
    )
    (line,) = calibration_problems(off, "deals.csv")
    assert "wins among the" in line and "more than 10% apart, and more than chance" in line


@pytest.mark.integration  # calibrate with the cycle fit (~10 s)
def test_calibrate_prints_where_each_headcount_comes_from(deal_owner_export, tmp_path, capsys):
    out = tmp_path / "ours.toml"
    args = ["calibrate", str(deal_owner_export / "deals.csv"), "--structure", "conveyor"]
    args += ["--mapping", str(deal_owner_export / "mapping.toml"), "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "shared among lead_gen, qualifiers, closers by their work" in printed
    assert "nan" not in printed
    text = out.read_text()
    assert "closers = " in text and "no owners recorded: assumed 1" not in text
    assert main([*args, "--overwrite", "--utilisation", "1.5"]) == 2
    assert "--utilisation: between 0.05 and 0.95" in capsys.readouterr().err


@pytest.mark.integration  # calibrate with the cycle fit, twice (~20 s)
def test_calibrate_writes_the_same_scenario_on_one_and_two_workers(deal_owner_export, tmp_path):
    texts = []
    for workers in ("1", "2"):
        out = tmp_path / workers / "ours.toml"
        args = ["calibrate", str(deal_owner_export / "deals.csv"), "--structure", "conveyor"]
        args += ["--mapping", str(deal_owner_export / "mapping.toml"), "--out", str(out)]
        assert main([*args, "--workers", workers]) == 0
        texts.append(out.read_text())
    assert "fitted: the won cycle" in texts[0]  # the fit's replications ran on the workers
    assert texts[0] == texts[1]


@pytest.mark.integration  # calibrate with the fit, then a back-test
def test_the_scenario_remembers_its_export_so_backtest_needs_only_the_scenario(
    deal_owner_export, tmp_path, capsys
):
    scenarios = tmp_path / "scenarios"
    out = scenarios / "ours.toml"
    export, mapping = deal_owner_export / "deals.csv", deal_owner_export / "mapping.toml"
    calibrate_args = ["calibrate", str(export), "--structure", "allin", "--out", str(out)]
    assert main([*calibrate_args, "--mapping", str(mapping), "--utilisation", "0.6"]) == 0
    source = Scenario.from_file(out).calibration
    assert (scenarios / source.export).resolve() == export.resolve()
    assert (scenarios / source.mapping).resolve() == mapping.resolve()
    assert (source.structure, source.utilisation, source.skip_bad_rows) == ("allin", 0.6, False)
    backtest = ["backtest", str(out), "--out", str(tmp_path / "bt"), "--replications", "2"]
    assert main([*backtest, "--no-plots"]) == 0
    assert "against deals.csv" in capsys.readouterr().err
    hand_written = tmp_path / "hand.toml"
    hand_written.write_text(out.read_text().split("[calibration]")[0])
    assert main(["backtest", str(hand_written), "--out", str(tmp_path / "bt2")]) == 2
    assert "no export given, and the scenario does not say" in capsys.readouterr().err


def test_open_deals_far_older_than_any_win_count_as_gone_cold(deal_owner_export, tmp_path):
    # 200 deals opened in the first fortnight and never closed: a CRM keeps them open.
    deals = pd.read_csv(deal_owner_export / "deals.csv", dtype=str, keep_default_na=False)
    stale = pd.DataFrame(
        {
            "Opportunity ID": [f"S{i:04d}" for i in range(200)],
            "Deal owner": deals["Deal owner"].iloc[0],
            "Created": [f"2024-01-{1 + i % 14:02d}" for i in range(200)],
            "Status": "open",
            "Close Date": "",
            "Amount": "",
        }
    )
    pd.concat([deals, stale]).to_csv(tmp_path / "deals.csv", index=False)
    (tmp_path / "mapping.toml").write_text(MAPPING)
    clean = calibrate(_history(deal_owner_export), "allin")
    cal = calibrate(_history(tmp_path), "allin")
    assert cal.stale_open >= 200
    assert cal.stale_after_days == pytest.approx(1.5 * clean_p95(clean), rel=1e-9)
    for stage in ("prospecting", "closing"):  # their age is not counted as time in work
        in_work = cal.lag_days[stage].value + cal.effort_days[stage].value
        clean_in_work = clean.lag_days[stage].value + clean.effort_days[stage].value
        assert in_work == pytest.approx(clean_in_work, rel=0.05)
    # ... but they were lost: the win rate counts them among the decided deals
    outcome = cal.history.leads["outcome"]
    won, lost = int((outcome == "won").sum()), int((outcome == "lost").sum())
    win_rate = math.prod(p.value for p in cal.pass_prob.values())
    assert win_rate == pytest.approx(won / (won + lost + cal.stale_open), rel=1e-9)
    assert "count as gone cold, not as alive" in scenario_toml(cal, "x", "deals.csv")


def clean_p95(cal) -> float:
    df = cal.history.leads
    won = df["outcome"] == "won"
    return float((df["end_day"] - df["arrival_day"])[won].quantile(0.95))


def _backtest_table(wins_sim: float, cycle_sim: float, rate_sim: float, outside: int):
    whole = [
        ("wins_total", 100.0, wins_sim),
        ("cycle_days_p50", 20.0, cycle_sim),
        ("win_rate_decided", 0.30, rate_sim),
    ]
    rows = [(m, -1, "", h, s, s, s, False) for m, h, s in whole]
    rows += [("wins", k, f"2024-{k + 1:02d}", 8.0, 5.0, 8.0, 11.0, k < outside) for k in range(10)]
    columns = ["metric", "month", "period", "history", "sim_low", "sim_median", "sim_high"]
    return pd.DataFrame(rows, columns=[*columns, "outside"])


@pytest.mark.parametrize(
    ("wins", "cycle", "rate", "outside", "failed"),
    [
        (109.0, 22.9, 0.319, 2, []),  # every tolerance met, just
        (111.0, 20.0, 0.30, 0, ["wins in the period"]),
        (100.0, 23.1, 0.30, 0, ["median cycle of won deals (days)"]),
        (100.0, 20.0, 0.321, 0, ["decided win rate"]),
        (100.0, 20.0, 0.30, 3, ["monthly points inside their band"]),  # 70 % inside
    ],
)
def test_the_backtest_passes_or_fails_on_the_stated_tolerances(wins, cycle, rate, outside, failed):
    from sim.crm.backtest import BacktestResult

    history = dataclasses.replace(_history_stub(), label="deals.csv")
    result = BacktestResult(
        scenario("name='ours'"), "allin", history, _backtest_table(wins, cycle, rate, outside), 20
    )
    assert [c.name for c in result.checks() if not c.passed] == failed
    assert result.passed == (not failed)
    head = result.verdict_lines()[0]
    assert head.startswith("PASS: ours reproduces deals.csv" if not failed else "FAIL: ours misses")


def _history_stub():
    from sim.crm.read import CrmHistory

    return CrmHistory(pd.DataFrame(), pd.Timestamp("2024-01-01"), 300.0, "leads", frozenset(), 0)


@pytest.mark.integration  # a 20-replication back-test
def test_the_shipped_example_calibrates_and_passes_its_backtest(tmp_path, capsys):
    out = tmp_path / "ours.toml"
    export = "scenarios/examples/crm_export.csv"
    assert main(["calibrate", export, "--structure", "conveyor", "--out", str(out)]) == 0
    assert main(["backtest", str(out), "--out", str(tmp_path / "bt")]) == 0
    printed = capsys.readouterr().out
    assert "\nPASS: ours reproduces crm_export.csv within every tolerance" in printed
    page = (tmp_path / "bt" / "backtest.html").read_text()
    assert "PASS: ours reproduces crm_export.csv" in page and "data:image/png;base64," in page


def _calibrate_all(export, mapping, out) -> int:
    args = ["calibrate", str(export), "--structure", "allin", "--all-structures"]
    return main([*args, "--mapping", str(mapping), "--out", str(out)])


@pytest.mark.integration  # calibrate with the cycle fit on a 10-person year
def test_all_structures_get_the_calibrated_team_s_people(tmp_path, capsys):
    out = tmp_path / "ours.toml"
    assert _calibrate_all(*write_deal_export(tmp_path, 10, regions=True), out) == 0
    sc = Scenario.from_file(out)
    assert sc.structures.names == ("allin", "two_party", "conveyor", "pods")
    assert set(structure_headcounts(sc).values()) == {10}, structure_headcounts(sc)
    assert [pod.segments for pod in sc.structures.pods.pods] == [("north",), ("south",)]
    north, south = sc.structures.pods.pods
    assert north.lead_gen >= south.lead_gen  # the bigger region carries more prospecting
    # The team had no relays: a relay costs the stated assumption, the same in every structure.
    assert sc.structures.conveyor.handoff.drop_prob == sc.structures.two_party.handoff.drop_prob
    assert sc.structures.conveyor.handoff.drop_prob == 0.05
    assert sc.calibration.structure == "allin"  # the back-test simulates the team as it was


@pytest.mark.integration  # calibrate with the cycle fit (~15 s)
def test_a_team_too_small_for_two_pods_leaves_pods_out(tmp_path, capsys):
    out = tmp_path / "ours.toml"
    assert _calibrate_all(*write_deal_export(tmp_path, 6, regions=True), out) == 0
    assert "Pods left out" in capsys.readouterr().out
    sc = Scenario.from_file(out)
    assert sc.structures.names == ("allin", "two_party", "conveyor")
    assert set(structure_headcounts(sc, ("allin", "two_party", "conveyor")).values()) == {6}


@pytest.mark.integration  # calibrate with the fit, then a 20-replication back-test
def test_without_stage_dates_the_lags_are_fitted_and_the_backtest_passes(
    deal_owner_export, tmp_path, capsys
):
    # The shape: one deal owner, creation and close dates only. Splitting the
    # cycle evenly over the stages and adding queues missed the median by 24 % (23.5
    # days simulated against 19); the fitted lags put it within the back-test's 15 %.
    out = tmp_path / "ours.toml"
    args = ["calibrate", str(deal_owner_export / "deals.csv"), "--structure", "allin"]
    assert (
        main([*args, "--mapping", str(deal_owner_export / "mapping.toml"), "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert "cycle of won deals (days): history median 19.0," in printed
    assert "; fitted simulation median" in printed
    assert "# cycle of won deals (days)" in out.read_text()
    assert "fitted: the won cycle's median and p90" in out.read_text()
    assert main(["backtest", str(out), "--out", str(tmp_path / "bt"), "--no-plots"]) == 0
    assert "PASS: ours reproduces deals.csv within every tolerance" in capsys.readouterr().out


def test_the_team_is_sized_for_its_busiest_month(deal_owner_export):
    # The team carried its busiest month: effort from throughput keeps that month, not the
    # average one, 75 % busy (a ramp-up's last months were queueing at 97 % before).
    from sim.crm.arrivals import busiest_month
    from sim.crm.team import _stage_leads_per_day

    assert busiest_month([0.5, 1.6, 1.0, 0.4], None, 4 * 30.4375) == 1.6
    assert busiest_month([0.5, 1.0, 1.6], None, 2 * 30.4375 + 5) == 1.0  # 5 days say little
    assert busiest_month([0.5, 0.8], None, 2 * 30.4375) == 1.0  # never below the mean
    assert busiest_month([], (Estimate(0.3, 0.2, 0.4, 100), 40.0), 800.0) == pytest.approx(1.3)
    assert busiest_month([], None, 800.0) == 1.0
    history = _history(deal_owner_export)
    cal = calibrate(history, "allin")
    assert cal.busiest_month == max(cal.monthly_factors) > 1.0  # a whole last month
    mean = _stage_leads_per_day(history.leads, cal.pass_prob, history.as_of_day)
    peak = _stage_leads_per_day(history.leads, cal.pass_prob, history.as_of_day, 1.6)
    assert peak["closing"] == pytest.approx(1.6 * mean["closing"], rel=1e-12)
    at_peak = sum(cal.work_per_day.values()) / 6
    assert at_peak == pytest.approx(0.75, rel=1e-9)
    on_average = sum(
        mean[s] * cal.effort_days[s].value for s in ("prospecting", "qualification", "closing")
    )
    assert on_average / 6 == pytest.approx(0.75 / cal.busiest_month, rel=1e-9)


def test_the_fit_keeps_the_best_point_it_evaluated():
    from sim.crm.cycle_fit import _secant

    seen = {}

    def noisy(x: float) -> float:  # a root near 2, with noise larger than the slope nearby
        seen[x] = (x - 2.0) / 2.0 + (0.3 if round(x * 100) % 2 else -0.3)
        return seen[x]

    best = _secant(noisy, 1.0, 0.01, 20.0)
    assert best in seen
    assert abs(seen[best]) == min(abs(v) for v in seen.values())
