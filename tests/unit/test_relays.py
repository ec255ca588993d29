"""Handoffs per relay: each relay point's own drop, delay and context loss, checked by hand.

The tiny scenario of ``tests.builders``: one rep per role, efforts 1, 2 and 3
days, no lag, every pass probability 1, relays free unless a test sets them.
"""

import pandas as pd
import pytest

from sim.analysis import funnel_tables
from sim.analysis.kpi_values import run_kpis
from sim.analysis.kpis import KPIS
from sim.config.scenario import (
    ConveyorHandoffConfig,
    PodsHandoffConfig,
    RelayCosts,
    Scenario,
    ScenarioError,
)
from sim.reports.funnel_figures import plot_funnel
from tests.builders import event_log, hand_leads, run, scenario

DETERMINISTIC = "delay_distribution='deterministic'"


def test_a_relay_takes_its_own_fields_and_the_rest_from_the_structure_default():
    handoff = PodsHandoffConfig(
        drop_prob=0.3,
        mean_delay_days=1.0,
        context_loss=0.1,
        to_closing={"drop_prob": 0.0},
        to_pod={"mean_delay_days": 4.0, "delay_distribution": "deterministic"},
    )
    default = RelayCosts(drop_prob=0.3, mean_delay_days=1.0, context_loss=0.1)
    assert handoff.costs("to_qualification") == default
    assert handoff.costs("to_account_management") == default
    assert handoff.costs("to_closing") == RelayCosts(
        drop_prob=0.0, mean_delay_days=1.0, context_loss=0.1
    )
    assert handoff.costs("to_pod") == RelayCosts(
        drop_prob=0.3, mean_delay_days=4.0, delay_distribution="deterministic", context_loss=0.1
    )
    # A Conveyor has no relay to another pod: asked anyway, it is the default.
    assert ConveyorHandoffConfig(drop_prob=0.3).costs("to_pod") == RelayCosts(drop_prob=0.3)


def test_a_relay_that_drops_everything_loses_every_lead_that_reaches_it_and_no_other():
    sc = scenario("structures.conveyor.handoff.to_closing.drop_prob=1.0")
    leads = hand_leads([0.0, 0.5, 1.0])  # draws of 0.99: no other relay could drop them
    df = run("conveyor", leads, sc).leads
    # Each lead passes the free relay into qualification and is dropped leaving it.
    # Qualification ends at 3, 5, 7 (one qualifier, 2 days each, first come first served).
    assert [entry for entry in event_log(df) if entry[1] == "lost"] == [
        (0, "lost", "handoff_to_closing", "dropped_in_handoff", 3.0),
        (1, "lost", "handoff_to_closing", "dropped_in_handoff", 5.0),
        (2, "lost", "handoff_to_closing", "dropped_in_handoff", 7.0),
    ]
    assert df["qualification_done_day"].notna().all()
    assert df["closing_queue_day"].isna().all()


def test_a_relay_delay_adds_exactly_its_days_there_and_nowhere_else():
    sc = scenario(
        "structures.conveyor.handoff.to_qualification.mean_delay_days=2.5",
        f"structures.conveyor.handoff.to_qualification.{DETERMINISTIC}",
    )
    df = run("conveyor", hand_leads([0.0]), sc).leads
    assert event_log(df) == [
        (0, "prospecting", 0.0, 0.0, 1.0, 1.0, 0),
        (0, "qualification", 3.5, 3.5, 5.5, 5.5, 1),  # 1 + 2.5 days in the relay
        (0, "closing", 5.5, 5.5, 8.5, 8.5, 2),  # the relay into closing is free
        (0, "won", "", "", 8.5),
    ]


def test_context_loss_of_one_relay_weighs_only_on_the_stage_after_it():
    sc = scenario("structures.conveyor.handoff.to_closing.context_loss=0.5")
    # Pass probability 1 becomes 0.5 at closing only: a draw of 0.6 passes
    # qualification and fails closing.
    leads = hand_leads([0.0, 0.0], pass_u=[[0.0, 0.6, 0.0], [0.0, 0.0, 0.6]])
    df = run("conveyor", leads, sc).leads
    assert df["outcome"].tolist() == ["won", "lost"]
    assert df["lost_at"].tolist() == ["", "closing"]


def test_the_handover_to_account_management_has_its_own_drop():
    sc = scenario("structures.two_party.handoff.to_account_management.drop_prob=1.0")
    leads = hand_leads([0.0, 1.0])
    df = run("two_party", leads, sc).leads
    assert df["outcome"].tolist() == ["won", "won"]  # no lead lost on its way
    assert df["account_handover_dropped"].tolist() == [True, True]
    table = funnel_tables.funnel_table(_measured(df))
    funnel = table.set_index("point")
    relay = funnel.loc["handoff_to_account_management"]
    assert (relay["reached"], relay["dropped_in_handoff"]) == (2, 2)
    assert funnel.loc["handoff_to_qualification", "dropped_in_handoff"] == 0
    # The funnel figure names the relay by its loss KPI's registry label.
    figure = plot_funnel(table)
    ticks = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert ticks[-1] == KPIS["accounts_dropped_in_handoff"].label
    assert "dropped 2 of 2" in [text.get_text() for text in figure.axes[0].texts]


def test_the_funnel_and_the_kpis_count_each_relay_apart():
    sc = scenario(
        "structures.conveyor.handoff.to_qualification.drop_prob=0.5",
        "structures.conveyor.handoff.to_closing.drop_prob=0.5",
    )
    # Lead 0 dropped into qualification, lead 1 into closing, lead 2 through both.
    leads = hand_leads([0.0, 1.0, 2.0], handoff_u=[[0.1, 0.9, 0.9], [0.9, 0.1, 0.9], [0.9] * 3])
    tables = run("conveyor", leads, sc)
    df = _measured(tables.leads)
    funnel = funnel_tables.funnel_table(df).set_index("point")
    assert funnel["dropped_in_handoff"].to_dict() == {
        "prospecting": 0,
        "handoff_to_qualification": 1,
        "qualification": 0,
        "handoff_to_closing": 1,
        "closing": 0,
        "won": 0,
        "handoff_to_account_management": 0,
    }
    kpis = run_kpis(df, tables.reps, sc).iloc[0]
    assert (kpis["dropped_handoff_to_qualification"], kpis["dropped_handoff_to_closing"]) == (1, 1)


def test_relays_set_to_the_default_change_nothing():
    plain = scenario(
        "structures.conveyor.handoff.drop_prob=0.3",
        "structures.conveyor.handoff.mean_delay_days=0.7",
        "structures.conveyor.handoff.context_loss=0.2",
    )
    spelled_out = plain.replace(
        [
            f"structures.conveyor.handoff.{relay}.{field}={value}"
            for relay in ("to_qualification", "to_closing", "to_account_management")
            for field, value in (("drop_prob", 0.3), ("mean_delay_days", 0.7))
        ]
    )
    leads = hand_leads(
        [0.0, 0.4, 0.9, 1.3], handoff_u=[[0.5, 0.2, 0.6], [0.9] * 3, [0.1, 0.9, 0.9], [0.4] * 3]
    )
    pd.testing.assert_frame_equal(
        run("conveyor", leads, plain).leads, run("conveyor", leads, spelled_out).leads
    )


@pytest.mark.parametrize(
    ("override", "line"),
    [
        (
            "structures.conveyor.handoff.to_closin.drop_prob=0.08",
            "--set structures.conveyor.handoff.to_closin.drop_prob=0.08: "
            "structures.conveyor.handoff.to_closin: unknown field 'to_closin'; "
            "did you mean 'to_closing'?",
        ),
        (
            "structures.two_party.handoff.to_closing.drop_prob=0.1",
            "--set structures.two_party.handoff.to_closing.drop_prob=0.1: "
            "structures.two_party.handoff.to_closing: no field 'to_closing' here: "
            "Two-Party has no relay into closing: the rep who qualifies also closes",
        ),
        (
            "structures.pods.overflow.handoff.drop_prob=0.1",
            "--set structures.pods.overflow.handoff.drop_prob=0.1: "
            "structures.pods.overflow.handoff: no field 'handoff' here: the relay to another "
            "pod is structures.pods.handoff.to_pod (its default is the pods' handoff)",
        ),
    ],
)
def test_a_wrong_relay_is_one_line(override, line):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_file("scenarios/baseline.toml", [override])
    assert info.value.problems == [line]


def test_a_relay_setting_works_from_the_command_line():
    sc = Scenario.from_file(
        "scenarios/baseline.toml", ["structures.conveyor.handoff.to_closing.drop_prob=0.08"]
    )
    handoff = sc.structures.conveyor.handoff
    assert handoff.costs("to_closing").drop_prob == 0.08
    assert handoff.costs("to_qualification").drop_prob == handoff.drop_prob == 0.05


def _measured(df: pd.DataFrame) -> pd.DataFrame:
    """Every lead of a hand-made run in the measured cohort."""
    return df.assign(in_cohort=True)
