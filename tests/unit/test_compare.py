"""Paired comparison: exact zeros for identical structures, CI coverage, red flags."""

import copy
import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import compare, in_words, kpi_values, people, red_flags, report_kpis
from sim.config.scenario import Scenario, apply_overrides
from sim.model.runner import simulate, simulate_independent
from sim.model.seeding import independent_seed
from tests.builders import BASE, event_log, hand_leads, run, scenario

# Conveyor and a Pods team with one pod that owns the whole market, the same
# headcounts and the same relay costs: the same organisation under two names.
TWINS_OVERRIDES = (
    "replications=4",
    "horizon_days=80",
    "warmup_days=5",
    "leads.arrivals_per_day=3.0",
    "leads.quality_weight=0.8",
    "stages.prospecting.pass_prob=0.6",
    "stages.prospecting.mean_effort_days=0.3",
    'stages.prospecting.effort_distribution="exponential"',
    "stages.qualification.pass_prob=0.5",
    "stages.qualification.mean_effort_days=0.5",
    'stages.qualification.effort_distribution="gamma"',
    "stages.qualification.mean_lag_days=3.0",
    "stages.closing.pass_prob=0.4",
    "stages.closing.mean_effort_days=0.8",
    'stages.closing.effort_distribution="exponential"',
    "stages.closing.mean_lag_days=5.0",
    "decay.half_life_days=20.0",
    "decay.mean_patience_days=10.0",
    "accounts.mean_review_effort_days=0.2",
    "accounts.churn_prob_per_review=0.1",
    "quotas.roles.closer=5000.0",
    "quotas.roles.generalist=5000.0",
)
HANDOFF = {"drop_prob": 0.1, "mean_delay_days": 1.0, "context_loss": 0.2}


def twins() -> Scenario:
    raw = copy.deepcopy(BASE)
    raw["structures"] = {
        "conveyor": {
            "lead_gen": 1,
            "qualifiers": 2,
            "closers": 1,
            "account_managers": 1,
            "handoff": HANDOFF,
        },
        "pods": {
            "pods": [
                {
                    "name": "all",
                    "segments": ["all"],
                    "lead_gen": 1,
                    "qualifiers": 2,
                    "closers": 1,
                    "account_managers": 1,
                }
            ],
            "handoff": HANDOFF,
        },
    }
    return Scenario.from_dict(apply_overrides(raw, TWINS_OVERRIDES, "test"), "test")


def test_identical_structures_under_crn_differ_by_exactly_zero():
    sc = twins()
    result = simulate(sc)
    kpis = kpi_values.run_kpis(result.leads, result.reps, sc)
    diffs = compare.paired_differences(kpis, "conveyor")
    assert set(diffs["structure"]) == {"pods"}
    defined = diffs[diffs["difference"].notna()]
    assert len(defined) > 30
    assert (defined["difference"] == 0.0).all()
    assert (defined["ci_low"] == 0.0).all() and (defined["ci_high"] == 0.0).all()
    assert not defined["significant"].any()
    # The zero is not from KPIs that never move: they vary across replications.
    per_rep = kpis[kpis["structure"] == "conveyor"]
    assert per_rep["won"].nunique() > 1 and per_rep["wins_per_30_days"].std() > 0
    # Without common random numbers the same two organisations do differ.
    independent = simulate_independent(sc)
    other = kpi_values.run_kpis(independent.leads, independent.reps, sc)
    loose = compare.paired_differences(other, "conveyor").set_index("kpi")
    assert loose.loc["won", "difference"] != 0.0
    assert loose.loc["won", "ci_high"] > loose.loc["won", "ci_low"]


def test_independent_run_uses_its_own_seed_per_structure():
    sc = twins()
    independent = simulate_independent(sc)
    seeds = independent.leads.groupby("structure", observed=True)["seed"].unique()
    assert {name: list(s) for name, s in seeds.items()} == {
        "conveyor": [independent_seed(sc.seed, "conveyor")],
        "pods": [independent_seed(sc.seed, "pods")],
    }
    assert len({sc.seed, *(independent_seed(sc.seed, n) for n in ("conveyor", "pods"))}) == 3
    # Different streams: the lead arrivals differ between the structures.
    first = independent.leads[independent.leads["replication"] == 0]
    by_structure = first.groupby("structure", observed=True)["arrival_day"]
    assert by_structure.size().nunique() > 1 or by_structure.sum().nunique() > 1
    # Reproducible: same scenario, same seeds, same tables.
    again = simulate_independent(sc)
    pd.testing.assert_frame_equal(independent.leads, again.leads)


def synthetic_kpis(rng, replications, trials, true_difference, sd_pair=0.5):
    """Two structures whose per-replication KPIs share noise (as under CRN)."""
    common = rng.normal(10.0, 3.0, size=(replications, trials))
    reference = common + rng.normal(0, sd_pair, size=(replications, trials))
    other = common + true_difference + rng.normal(0, sd_pair, size=(replications, trials))
    columns = [f"trial_{t}" for t in range(trials)]
    frames = []
    for name, values in (("ref", reference), ("other", other)):
        frame = pd.DataFrame(values, columns=columns)
        frame.insert(0, "replication", np.arange(replications))
        frame.insert(0, "structure", name)
        frames.append(frame)
    kpis = pd.concat(frames, ignore_index=True)
    kpis["structure"] = pd.Categorical(kpis["structure"], categories=["ref", "other"])
    return kpis, columns


@pytest.mark.parametrize("replications", [5, 12])
def test_paired_ci_covers_the_true_difference_95_percent_of_the_time(replications):
    # Each "KPI" column is one independent trial with a known true difference of 0.7.
    trials = 4000
    rng = np.random.default_rng(20240601 + replications)
    kpis, columns = synthetic_kpis(rng, replications, trials, 0.7)
    diffs = compare.paired_differences(kpis, "ref", columns)
    covered = ((diffs["ci_low"] <= 0.7) & (0.7 <= diffs["ci_high"])).mean()
    # Binomial sd at 95 % over 4000 trials is 0.0034: +-0.015 is over 4 sd. A z interval
    # (1.96 instead of t) would cover about 88 % with 5 replications and fail here.
    assert abs(covered - 0.95) < 0.015, covered
    # The estimate is unbiased and the pairing removed the common noise (sd 3):
    assert abs(diffs["difference"].mean() - 0.7) < 0.01
    half = (diffs["ci_high"] - diffs["ci_low"]).mean() / 2
    assert half < 1.0


def test_paired_ci_is_narrower_than_the_independent_one_on_correlated_data():
    rng = np.random.default_rng(3)
    kpis, columns = synthetic_kpis(rng, 10, 200, 0.7)
    crn = compare.paired_differences(kpis, "ref", columns)
    # Break the pairing: shuffle the other structure's replications within each trial.
    shuffled = kpis.copy()
    other = shuffled["structure"] == "other"
    for column in columns:
        shuffled.loc[other, column] = rng.permutation(shuffled.loc[other, column].to_numpy())
    loose = compare.paired_differences(shuffled, "ref", columns)
    ratio = compare.ci_width_ratio(crn, loose)["ci_width_ratio"]
    # Pair noise sd 0.5*sqrt(2) against 3*sqrt(2): widths differ about six-fold.
    assert 0.08 < ratio.median() < 0.3


def test_paired_differences_by_hand():
    kpis = pd.DataFrame(
        {
            "structure": pd.Categorical(["a", "a", "a", "b", "b", "b"], categories=["a", "b"]),
            "replication": [0, 1, 2, 0, 1, 2],
            "wins": [10.0, 12.0, 11.0, 13.0, 14.0, 15.0],
            "only_b": [math.nan, math.nan, math.nan, 1.0, 2.0, 3.0],
        }
    )
    diffs = compare.paired_differences(kpis, "a", ["wins", "only_b"]).set_index("kpi")
    # Differences 3, 2, 4: mean 3, sd 1, t(0.975, 2) = 4.3027.
    half = 4.302652729911275 * 1.0 / math.sqrt(3)
    assert diffs.loc["wins", "difference"] == pytest.approx(3.0)
    assert diffs.loc["wins", "ci_low"] == pytest.approx(3.0 - half)
    assert diffs.loc["wins", "ci_high"] == pytest.approx(3.0 + half)
    assert bool(diffs.loc["wins", "significant"])
    assert math.isnan(diffs.loc["only_b", "difference"])
    assert not bool(diffs.loc["only_b", "significant"])
    with pytest.raises(ValueError, match="reference 'c'"):
        compare.paired_differences(kpis, "c", ["wins"])


def test_sentences_say_better_or_worse_by_the_kpis_direction():
    diffs = pd.DataFrame(
        {
            "structure": ["b", "b", "b"],
            "reference": ["a", "a", "a"],
            "kpi": ["wins_per_30_days", "p90_days_to_close", "conversion"],
            "difference": [1.5, 4.0, 0.01],
            "ci_low": [0.5, 1.0, -0.01],
            "ci_high": [2.5, 7.0, 0.03],
            "replications": [5, 5, 5],
            "significant": [True, True, False],
        }
    )
    text = in_words.describe_differences(diffs, ["wins_per_30_days", "p90_days_to_close"])
    assert list(text["verdict"]) == ["better", "worse"]
    assert text["text"].iloc[0] == (
        "throughput +1.50 wins per 30 days (95 % CI +0.50 to +2.50): better"
    )
    assert "conversion" not in set(text["kpi"])


def summary_rows(rows):
    return pd.DataFrame(
        [
            {"structure": s, "kpi": k, "mean": m, "ci_low": lo, "ci_high": hi, "replications": 5}
            for s, k, m, lo, hi in rows
        ]
    )


def test_red_flags_trip_exactly_past_their_benchmarks():
    sc = scenario("benchmarks.win_rate=0.2", "benchmarks.max_pod_load_ratio=1.2")
    summary = summary_rows(
        [
            # Per role: closers below two thirds (flag), qualifiers above; the mix of both
            # (0.7) would have hidden the closers.
            ("conveyor", "share_reps_at_quota", 0.7, 0.6, 0.8),
            ("conveyor", "share_at_quota_closer", 0.5, 0.4, 0.6),
            ("conveyor", "share_at_quota_qualifier", 0.9, 0.8, 1.0),
            ("conveyor", "conversion_closing", 0.19, 0.15, 0.23),  # below 0.2: flag
            ("conveyor", "utilisation_closer", 0.93, 0.9, 0.96),  # above 0.9: flag
            ("conveyor", "utilisation_qualifier", 0.9, 0.85, 0.95),  # at the line: no flag
            ("pods", "share_reps_at_quota", 0.7, 0.6, 0.8),
            ("pods", "conversion_closing", 0.2, 0.18, 0.22),
            ("pods", "utilisation_closer", 0.5, 0.4, 0.6),
            ("pods", "market_share_trend_per_year", -0.1, -0.15, -0.05),  # falling: flag
            ("conveyor", "market_share_trend_per_year", -0.1, -0.2, 0.01),  # CI spans 0
            ("pods", "annual_turnover", 0.36, 0.3, 0.42),  # above 0.35: flag
            ("conveyor", "annual_turnover", 0.35, 0.3, 0.4),  # at the line: no flag
        ]
    )
    pods = pd.DataFrame(
        [
            ("pods", "east", "sales", 3, 0.85, 0.8, 0.9),
            ("pods", "west", "sales", 3, 0.70, 0.6, 0.8),
            ("pods", "north", "sales", 3, 0.70, 0.6, 0.8),
        ],
        columns=["structure", "pod", "role", "headcount", "utilisation", "ci_low", "ci_high"],
    )
    flags = red_flags.red_flags(summary, pods, sc)
    assert sorted(zip(flags["structure"], flags["flag"], flags["subject"], strict=True)) == [
        ("conveyor", "bottleneck", "closer"),
        ("conveyor", "quota", "closer"),
        ("conveyor", "win_rate", "closing"),
        ("pods", "market_share", ""),
        ("pods", "pod_load", "east"),  # 0.85 / 0.70 = 1.21 > 1.2; the others 0.76x
        ("pods", "turnover", ""),
    ]
    assert all(len(m.splitlines()) == 1 for m in flags["message"])
    quota = flags.loc[flags["flag"] == "quota", "message"].iloc[0]
    assert "only 50.0 % of closer rep-periods reach quota" in quota
    calm = scenario("benchmarks.max_pod_load_ratio=1.25")
    assert "pod_load" not in set(red_flags.red_flags(summary, pods, calm)["flag"])
    assert "win_rate" not in set(red_flags.red_flags(summary, pods, scenario())["flag"])


def test_pod_utilisation_and_quota_attainment_from_a_rep_table():
    sc = scenario("horizon_days=100", "warmup_days=20", "quotas.period_days=50")
    reps = pd.DataFrame(
        {
            "structure": ["pods"] * 5,
            "replication": [0] * 5,
            "rep_id": [0, 1, 2, 3, 1],
            "person_id": [0, 1, 2, 3, 4],
            "role": ["lead_gen", "closer", "closer", "account_manager", "closer"],
            "pod": ["a", "a", "b", "a", "a"],
            "period": [1, 1, 1, 1, 0],
            "period_start_day": [50.0, 50.0, 50.0, 50.0, 0.0],
            "period_end_day": [100.0] * 4 + [50.0],
            "days_present": [50.0, 50.0, 20.0, 50.0, 50.0],
            "window_days_present": [80.0, 80.0, 80.0, 80.0, 0.0],
            "window_working_days": [80.0, 80.0, 80.0, 80.0, 0.0],
            "busy_days": [40.0, 60.0, 80.0, 8.0, 0.0],
            "attainment": [0.5, 1.5, 2.0, float("nan"), 3.0],
        }
    )
    pods = people.pod_utilisation(reps, sc).set_index(["pod", "role"])
    # Pod a's sales reps are busy (40 + 60) / (80 + 80) of their time present; account care
    # is not load.
    assert pods.loc[("a", "sales"), "utilisation"] == pytest.approx(100 / 160)
    assert pods.loc[("a", "sales"), "headcount"] == 2
    assert pods.loc[("b", "sales"), "utilisation"] == pytest.approx(1.0)
    assert pods.loc[("a", "account_manager"), "utilisation"] == pytest.approx(0.1)
    quota = people.quota_attainment(reps, sc)
    # Counted: a quota (attainment), a period after the warm-up, present half of it or more.
    assert list(quota["person_id"]) == [0, 1]
    assert list(quota["attainment"]) == pytest.approx([0.5, 1.5])


def test_comparison_table_has_one_row_per_kpi_and_structure():
    sc = twins()
    result = simulate(sc)
    kpis = kpi_values.run_kpis(result.leads, result.reps, sc)
    summary = kpi_values.summarise(kpis)
    columns = report_kpis.comparison_kpis(kpis)
    table = compare.comparison_table(
        summary, compare.paired_differences(kpis, "pods", columns), columns
    )
    assert len(table) == 2 * len(columns)
    assert list(table["kpi"].iloc[:2]) == ["wins_per_30_days"] * 2
    reference_rows = table[table["structure"] == "pods"]
    assert reference_rows["difference"].isna().all()
    assert reference_rows["significant"].isna().all()
    head = report_kpis.headline_kpis(kpis)
    assert head[:2] == ["wins_per_30_days", "conversion"]
    assert "utilisation_generalist" not in head and "utilisation_closer" in head


def test_more_capacity_can_lose_a_win_when_a_long_deal_overtakes():
    """Why the capacity property needs its conditions: a counterexample, effects off.

    A second lead-gen rep finishes lead 1's short prospecting early, so lead 1
    (a long qualification) reaches the single qualifier first and lead 0 waits
    behind it: lead 0's win slips past the horizon.
    """
    base = scenario(
        "horizon_days=5",
        "stages.prospecting.mean_effort_days=1.0",
        "stages.qualification.mean_effort_days=1.0",
        "stages.closing.mean_effort_days=1.0",
        "structures.conveyor.closers=5",
    )
    leads = dataclasses.replace(
        hand_leads([0.0, 0.1]),
        effort_units=np.array([[2.0, 1.0, 0.1], [0.1, 10.0, 0.1]]),
    )
    small = run("conveyor", leads, base).leads
    big = run("conveyor", leads, base.replace(["structures.conveyor.lead_gen=2"])).leads
    # One lead-gen rep: lead 0 is prospected first, qualified at once, won on day 3.1.
    assert event_log(small)[:4] == [
        (0, "prospecting", 0.0, 0.0, 2.0, 2.0, 0),
        (0, "qualification", 2.0, 2.0, 3.0, 3.0, 1),
        (0, "closing", 3.0, 3.0, pytest.approx(3.1), pytest.approx(3.1), 2),
        (0, "won", "", "", pytest.approx(3.1)),
    ]
    # Two: lead 1 is prospected by day 0.2 and holds the qualifier for 10 days (past the
    # horizon, so its start is never logged); lead 0 queues from day 2 and is still open.
    log = event_log(big)
    assert log[0] == (0, "prospecting", 0.0, 0.0, 2.0, 2.0, 0)
    assert log[1][:3] == (0, "qualification", 2.0) and math.isnan(log[1][3])
    assert log[3] == (1, "prospecting", pytest.approx(0.1), pytest.approx(0.1), 0.2, 0.2, 1)
    assert big["qualification_queue_day"].tolist() == [2.0, 0.2]
    assert (small["outcome"] == "won").sum() == 1
    assert (big["outcome"] == "won").sum() == 0
