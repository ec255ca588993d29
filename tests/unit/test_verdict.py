"""The verdict (``sim.analysis.verdict``): the best structure per objective, by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import verdict as v
from sim.analysis.kpis import objective_problems
from sim.analysis.stats import replications_to_separate
from sim.config.schema import Scenario

PODS_PROFIT = np.array([10.0, 12.0, 11.0, 13.0, 14.0]) * 1000
BEHIND_ALLIN = np.array([5.0, 5.5, 4.5, 5.0, 5.0]) * 1000  # clearly behind
BEHIND_CONVEYOR = np.array([1.0, -1.0, 2.0, -2.0, 1.0]) * 1000  # mean 200: a tie


def _kpis(**extra: dict[str, np.ndarray]) -> pd.DataFrame:
    profit = {
        "allin": PODS_PROFIT - BEHIND_ALLIN,
        "conveyor": PODS_PROFIT - BEHIND_CONVEYOR,
        "pods": PODS_PROFIT,
    }
    frames = []
    for name in ("allin", "conveyor", "pods"):
        columns = {"profit": profit[name], **{k: values[name] for k, values in extra.items()}}
        frames.append(pd.DataFrame({"structure": name, "replication": range(5), **columns}))
    table = pd.concat(frames, ignore_index=True)
    table["structure"] = pd.Categorical(table["structure"], ["allin", "conveyor", "pods"])
    return table


def test_the_best_its_margins_and_how_sure_by_hand():
    verdict = v.build_verdict(_kpis(), ["profit"])
    assert verdict.best == {"profit": "pods"}
    table = verdict.table.set_index("structure")
    assert list(table.index) == ["allin", "conveyor"]
    # Margin over All-In: mean 5,000, sd sqrt(0.125) * 1000 = 353.6, t(4) = 2.776:
    # half-width 2.776 * 353.6 / sqrt 5 = 439.0.
    assert table.loc["allin", "margin"] == pytest.approx(5000)
    assert table.loc["allin", "ci_low"] == pytest.approx(5000 - 439.0, abs=0.5)
    assert table.loc["allin", "clear"]
    assert math.isnan(table.loc["allin", "replications_to_separate"])
    # Over the Conveyor: mean 200, sd sqrt(2.7) * 1000: not clear; two comparisons, so the
    # replications needed are at alpha 0.05 / 2, about (2.24 * 1643 / 200)^2 = 339.
    assert table.loc["conveyor", "margin"] == pytest.approx(200)
    assert not table.loc["conveyor", "clear"]
    needed = table.loc["conveyor", "replications_to_separate"]
    assert needed == replications_to_separate(200, math.sqrt(2.7) * 1000, 0.025)
    assert 330 <= needed <= 350
    assert verdict.comparisons == 2
    assert not verdict.clear_best("profit")
    assert verdict.tied_with_best("profit") == ["conveyor"]


def test_lower_is_better_picks_the_smallest_and_margins_stay_positive():
    cost = {
        "allin": np.array([50.0, 52, 51, 49, 50]),
        "conveyor": np.array([40.0, 41, 39, 40, 40]),
        "pods": np.array([60.0, 61, 59, 62, 60]),
    }
    verdict = v.build_verdict(_kpis(cost_per_won_deal=cost), ["cost_per_won_deal"])
    assert verdict.best == {"cost_per_won_deal": "conveyor"}
    table = verdict.table.set_index("structure")
    assert table.loc["allin", "margin"] == pytest.approx(10.4)
    assert table.loc["pods", "margin"] == pytest.approx(20.4)
    assert table["clear"].all()
    assert v.answer_lines(verdict, "cost_per_won_deal")[0] == "Conveyor, clearly."
    assert (
        "spends 10 less per won deal than All-In (95 % CI"
        in v.answer_lines(verdict, "cost_per_won_deal")[1]
    )


def test_holm_covers_every_comparison_of_the_verdict():
    # Pods ahead of both others by 1.46 with paired sd 1 over 5 replications: t(4) = 3.26,
    # p = 0.031 each. Alone each would be clear (95 % CI excludes 0); as a family of two,
    # Holm's first step needs p <= 0.025, so neither is.
    noise = np.array([-1.2, 0.4, 1.1, -0.6, 0.3])
    noise = (noise - noise.mean()) / noise.std(ddof=1)
    wins = {"pods": np.full(5, 5.0), "allin": 5.0 - 1.46 + noise, "conveyor": 5.0 - 1.46 - noise}
    verdict = v.build_verdict(_kpis(wins_per_30_days=wins), ["wins_per_30_days"])
    table = verdict.table.set_index("structure")
    assert table["p_value"].to_numpy() == pytest.approx([0.031, 0.031], abs=0.001)
    assert (table["ci_low"] > 0).all()
    assert not table["clear"].any()
    # With a third of the noise both are clear: the correction is not a blanket "no".
    wins = {"pods": np.full(5, 5.0), "allin": 3.54 + noise / 3, "conveyor": 3.54 - noise / 3}
    assert v.build_verdict(_kpis(wins_per_30_days=wins), ["wins_per_30_days"]).table["clear"].all()


def test_sentences_say_who_how_much_how_sure_and_what_it_takes():
    verdict = v.build_verdict(_kpis(), ["profit"])
    lines = v.answer_lines(verdict, "profit")
    assert lines[0] == "Pods leads; Pods and Conveyor cannot be told apart yet."
    # The runner-up first: the margin a sales leader asks about.
    assert lines[2].startswith("Pods earns 5,000 more profit than All-In (95 % CI 4,561 to 5,439)")
    assert lines[1].endswith(
        "not clear at 5 replications; about 343 replications would settle it if the margin "
        "is as measured."
    )
    overall = v.overall_lines(verdict)
    assert overall[0] == (
        "No single structure is clearly best yet: Conveyor and Pods are each best, or not told "
        "apart from the best, on 1 of 1 objectives."
    )
    assert overall[1] == "All-In is clearly behind on every objective."
    assert overall[2].startswith("0 of 1 objectives settled at 95 % confidence, for all 2")
    assert overall[3] == (
        "About 343 replications (--replications 343) would settle 1 of the 1 open comparisons, "
        "if the margins are as measured."
    )


def test_one_structure_and_missing_objectives():
    table = _kpis()
    alone = v.build_verdict(table[table["structure"] == "pods"], ["profit", "arr_at_end"])
    assert alone.objectives == ["profit"] and alone.table.empty
    # Pods' profit 10, 12, 11, 13, 14 thousand: mean 12,000, sd 1,581, half-width
    # 2.776 * 1,581 / sqrt 5 = 1,963.
    assert v.answer_lines(alone, "profit") == ["Pods: 12,000 (95 % CI 10,037 to 13,963)."]
    assert v.overall_lines(alone) == [
        "Pods on its own (no other structure to choose from): profit 12,000 "
        "(95 % CI 10,037 to 13,963)."
    ]
    assert v.verdict_lines(alone, 365)[0] == "What the run found:"


def test_objectives_are_checked_against_the_registry():
    scenario = Scenario.from_file(
        "scenarios/baseline.toml",
        ["decision.objectives=['profit', 'profti', 'utilisation_closer']"],
    )
    problems = objective_problems(scenario.decision.objectives)
    assert problems[0].startswith("decision.objectives: 'profti' is not a KPI")
    assert "neither better higher nor lower" in problems[1]
    baseline = Scenario.from_file("scenarios/baseline.toml")
    assert objective_problems(baseline.decision.objectives) == []


def test_the_book_value_by_hand():
    from sim.analysis.money import book_value

    # 10 active accounts worth 100,000 a year; reviews every 30 days with 0.75 days of effort
    # (12.1667 a year: 9.125 days, 2.5 % of a year, of a 75,000 account manager: 1,875 each),
    # margin 0.78: 78,000 - 18,750 = 59,250 a year. Retention 0.99 ** 12.1667 = 0.88490;
    # two years at 10 %: 1 / 1.1 + 0.88490 / 1.21 = 1.64041; value 97,194.
    # That is a manager working around the clock (calendar off); on the baseline's calendar
    # a year holds 223 working days: 9.125 / 223 of 75,000 = 3,068.95 an account, so
    # 78,000 - 30,689.5 = 47,310.5 a year and a value of 47,310.5 x 1.64041 = 77,609.
    settings = ["money.book_years=2", "money.discount_rate_per_year=0.1"]
    scenario = Scenario.from_file("scenarios/baseline.toml", settings)
    assert scenario.accounts.churn_prob_per_review == 0.01
    assert scenario.money.gross_margin == 0.78
    assert scenario.calendar.working_days_per_year() == 223
    assert book_value(100_000, 10, scenario) == pytest.approx(77_609, abs=2)
    around_the_clock = Scenario.from_file(
        "scenarios/baseline.toml", [*settings, "calendar.enabled=false"]
    )
    assert book_value(100_000, 10, around_the_clock) == pytest.approx(97_194, abs=2)
    off = Scenario.from_file("scenarios/baseline.toml", ["money.book_years=0"])
    assert book_value(100_000, 10, off) == 0.0
