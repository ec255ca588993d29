"""The people side of the report: headcount over time, attainment by level, their figure."""

import math

import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from scipy.special import stdtrit

from sim.analysis import people, stats
from sim.analysis.kpis import format_mean_ci, kpi_spec
from sim.reports.people_figures import plot_headcount
from tests.builders import scenario

T_975_1DF = float(stdtrit(1, 0.975))  # 12.706...: the t quantile with two replications


def samples_table() -> pd.DataFrame:
    """Two teams of Conveyor over two replications, and All-In with one replication."""
    rows = [
        # structure, replication, day, team, headcount, filled, vacant, ramping
        ("conveyor", 0, 0.0, "closers", 3, 3, 0, 1),
        ("conveyor", 0, 0.0, "qualifiers", 2, 2, 0, 0),
        ("conveyor", 0, 1.0, "closers", 3, 2, 1, 1),
        ("conveyor", 0, 1.0, "qualifiers", 2, 2, 0, 0),
        ("conveyor", 1, 0.0, "closers", 3, 3, 0, 2),
        ("conveyor", 1, 0.0, "qualifiers", 2, 2, 0, 1),
        ("conveyor", 1, 1.0, "closers", 3, 3, 0, 0),
        ("conveyor", 1, 1.0, "qualifiers", 2, 1, 1, 0),
        ("allin", 0, 0.0, "generalists", 4, 4, 0, 2),
        ("allin", 0, 1.0, "generalists", 4, 3, 1, 2),
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "structure",
            "replication",
            "day",
            "team",
            "headcount",
            "filled",
            "vacant",
            "ramping",
        ],
    )
    # Extra sample columns that the headcount table must ignore.
    df["waiting"] = 9
    df["structure"] = pd.Categorical(df["structure"], categories=["allin", "conveyor"])
    return df


def test_headcount_over_time_sums_teams_then_averages_replications_exactly():
    table = people.headcount_over_time(samples_table())
    assert list(table["structure"].astype(str)) == ["allin", "allin", "conveyor", "conveyor"]
    assert list(table["day"]) == [0.0, 1.0, 0.0, 1.0]
    assert list(table["replications"]) == [1, 1, 2, 2]
    # All-In: one replication, the counts themselves and no interval.
    allin = table[table["structure"] == "allin"]
    assert list(allin["filled"]) == [4.0, 3.0]
    assert list(allin["vacant"]) == [0.0, 1.0]
    assert list(allin["ramping"]) == [2.0, 2.0]
    assert allin["filled_ci_low"].isna().all() and allin["ramping_ci_high"].isna().all()
    conveyor = table[table["structure"] == "conveyor"].set_index("day")
    # Seats: 5 in both replications, so a zero-width interval.
    assert list(conveyor["headcount"]) == [5.0, 5.0]
    assert list(conveyor["headcount_ci_low"]) == [5.0, 5.0]
    assert list(conveyor["headcount_ci_high"]) == [5.0, 5.0]
    # Day 1: filled 4 and 4, vacant 1 and 1; ramping day 0: 1 and 3 (mean 2, sd sqrt 2).
    assert conveyor.loc[1.0, "filled"] == 4.0 and conveyor.loc[1.0, "vacant"] == 1.0
    assert conveyor.loc[0.0, "ramping"] == 2.0
    half = T_975_1DF * math.sqrt(2) / math.sqrt(2)
    assert conveyor.loc[0.0, "ramping_ci_low"] == pytest.approx(2.0 - half, rel=1e-12)
    assert conveyor.loc[0.0, "ramping_ci_high"] == pytest.approx(2.0 + half, rel=1e-12)
    # Day 1 ramping: 1 and 0, mean 0.5, sd sqrt(0.5).
    half = T_975_1DF * math.sqrt(0.5) / math.sqrt(2)
    assert conveyor.loc[1.0, "ramping"] == 0.5
    assert conveyor.loc[1.0, "ramping_ci_high"] == pytest.approx(0.5 + half, rel=1e-12)
    # The same interval as mean_ci, the KPI tables' t interval.
    assert conveyor.loc[1.0, "ramping_ci_low"] == pytest.approx(stats.mean_ci([1, 0])[1])


def reps_table() -> pd.DataFrame:
    """Rep-periods of two replications; warm-up is 30 days, quota periods 90 days."""
    rows = [
        # structure, replication, role, level, period_start_day, days_present, attainment
        ("conveyor", 0, "closer", "senior", 90.0, 90.0, 1.2),
        ("conveyor", 0, "closer", "senior", 90.0, 90.0, 0.8),
        ("conveyor", 0, "closer", "junior", 90.0, 90.0, 0.5),
        ("conveyor", 1, "closer", "senior", 90.0, 90.0, 1.0),
        ("conveyor", 1, "closer", "junior", 90.0, 90.0, 0.7),
        ("conveyor", 0, "qualifier", "mid", 90.0, 90.0, 2.0),
        # Not counted: in the warm-up, present less than half the period, no quota.
        ("conveyor", 0, "closer", "senior", 0.0, 90.0, 3.0),
        ("conveyor", 1, "closer", "senior", 90.0, 40.0, 3.0),
        ("conveyor", 1, "closer", "junior", 90.0, 90.0, math.nan),
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "structure",
            "replication",
            "role",
            "level",
            "period_start_day",
            "days_present",
            "attainment",
        ],
    )
    df["period_end_day"] = df["period_start_day"] + 90.0
    df["structure"] = pd.Categorical(df["structure"], categories=["allin", "conveyor"])
    return df


def test_attainment_by_level_counts_the_rep_periods_that_count_per_replication():
    sc = scenario("warmup_days=30.0", "horizon_days=365.0")
    table = people.attainment_by_level(reps_table(), sc)
    keys = list(zip(table["role"], table["level"], strict=True))
    # Roles in pipeline order, levels junior -> senior.
    assert keys == [("qualifier", "mid"), ("closer", "junior"), ("closer", "senior")]
    rows = table.set_index(["role", "level"])
    senior = rows.loc[("closer", "senior")]
    # Replication 0: mean (1.2 + 0.8) / 2 = 1.0, one of two at quota; replication 1: 1.0, 1 of 1.
    assert senior["rep_periods"] == 1.5
    assert senior["mean_attainment"] == pytest.approx(1.0)
    assert senior["mean_attainment_ci_low"] == pytest.approx(1.0)
    assert senior["share_at_quota"] == pytest.approx(0.75)
    low = 0.75 - T_975_1DF * math.sqrt(0.125) / math.sqrt(2)
    assert senior["share_at_quota_ci_low"] == pytest.approx(low)
    junior = rows.loc[("closer", "junior")]
    assert junior["mean_attainment"] == pytest.approx(0.6)
    assert junior["share_at_quota"] == 0.0
    qualifier = rows.loc[("qualifier", "mid")]
    # Only replication 0 has one: 1 rep-period over 2 replications, no interval.
    assert qualifier["rep_periods"] == 0.5
    assert qualifier["mean_attainment"] == 2.0 and math.isnan(qualifier["mean_attainment_ci_low"])


def test_attainment_by_level_is_empty_when_nothing_counts():
    sc = scenario("warmup_days=300.0", "horizon_days=365.0")
    table = people.attainment_by_level(reps_table(), sc)
    assert table.empty and "share_at_quota_ci_high" in table.columns


def test_headcount_plot_has_a_panel_per_structure_labelled_axes_and_bands():
    fig = plot_headcount(people.headcount_over_time(samples_table()))
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["All-In", "Conveyor"]
    # Side by side with a shared y axis: the left panel carries the y label.
    assert axes[0].get_ylabel() == "reps (seats, mean)"
    for ax in axes:
        assert ax.get_xlabel() == "day of horizon (days)"
        # Seats, then filled, ramping and vacant.
        assert len(ax.get_lines()) == 4
    # Bands only where there are two replications (Conveyor): one per measure.
    bands = [[c for c in ax.collections if isinstance(c, PolyCollection)] for ax in axes]
    assert [len(b) for b in bands] == [0, 3]
    assert "filled, vacant and ramping" in fig.get_suptitle()
    assert "by structure" in fig.get_suptitle()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0] == "filled seats" and legend[-1] == "seats (headcount)"
    assert "95 % CI" in fig.legends[0].get_title().get_text()


def test_people_kpis_have_labels_and_units():
    for kpi in ("hires", "leavers", "headcount_closer"):
        assert kpi_spec(kpi).unit == "people"
    assert kpi_spec("share_at_quota_closer").format == "percent"
    assert kpi_spec("mean_attainment_lead_gen").label == "mean attainment: lead gen"
    assert format_mean_ci("mean_attainment_closer", 1.05, 0.95, 1.15) == "105.0 % ± 10.0"
    assert kpi_spec("hiring_cost").format == "money"
