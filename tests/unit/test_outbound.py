"""Outbound lead generation (sim/model/outbound.py) against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.lead_sources import lead_source_kpis
from sim.cli.main import main
from sim.config.scenario import ScenarioError
from sim.model.leads import generate_leads
from sim.model.outbound import CHUNK
from sim.model.seeding import replication_streams
from tests.builders import hand_leads, run, scenario

OUTBOUND = (
    "leads.outbound.enabled=true",
    "leads.outbound.response_prob=1.0",
    "leads.outbound.touches_per_hour=3",
    "leads.outbound.block_hours=1",
)
"""Every touch books a meeting: three leads per hour of prospecting."""

# Blocks of 1/8 day end on exact binary fractions; the horizon just after day 10
# lets the block ending on day 10 finish (events at the horizon itself do not run).
TEN_DAYS = "horizon_days=10.0625"


def outbound_rows(df):
    return df[df["source"] == "outbound"]


def test_an_idle_lead_gen_rep_books_touches_per_hour_times_hours_leads():
    # One lead-gen rep, no inbound lead: 10 days x 8 working hours of prospecting.
    df = run("conveyor", hand_leads([]), scenario(*OUTBOUND, TEN_DAYS)).leads
    out = outbound_rows(df)
    assert len(out) == 3 * 80
    # Three meetings at the end of each block, prospecting credited to rep 0.
    assert out["arrival_day"].tolist() == [0.125 * (k // 3 + 1) for k in range(240)]
    assert (out["prospecting_handler"] == 0).all()
    assert (out["prospecting_start_day"] == out["arrival_day"] - 0.125).all()
    assert (out["prospecting_done_day"] == out["arrival_day"]).all()


def test_a_fraction_of_a_touch_carries_to_the_next_block_and_two_reps_book_twice_as_many():
    sc = scenario(*OUTBOUND, TEN_DAYS, "leads.outbound.touches_per_hour=2.5")
    assert len(outbound_rows(run("conveyor", hand_leads([]), sc).leads)) == 200
    two = scenario(*OUTBOUND, TEN_DAYS, "structures.conveyor.lead_gen=2")
    out = outbound_rows(run("conveyor", hand_leads([]), two).leads)
    assert len(out) == 2 * 240
    assert sorted(set(out["prospecting_handler"])) == [0, 1]


def test_the_prospect_pool_runs_out():
    sc = scenario(*OUTBOUND, TEN_DAYS, "leads.outbound.pool_size=10")
    out = outbound_rows(run("conveyor", hand_leads([]), sc).leads)
    # Blocks of 3 touches: 3 + 3 + 3 + 1, then the rep stops.
    assert out["arrival_day"].tolist() == [0.125] * 3 + [0.25] * 3 + [0.375] * 3 + [0.5]


def test_an_inbound_lead_waits_for_at_most_the_block_in_hand():
    # Blocks [0.25, 0.375) and [5.5, 5.625): leads arriving at 0.3 and 5.55 start at their ends.
    df = run("conveyor", hand_leads([0.3, 5.55]), scenario(*OUTBOUND, TEN_DAYS)).leads
    inbound = df[df["source"] == "inbound"]
    assert inbound["prospecting_start_day"].tolist() == [0.375, 5.625]
    # After the inbound lead's day of prospecting effort, the rep prospects again.
    out = outbound_rows(df)
    assert not ((out["prospecting_start_day"] > 0.3) & (out["prospecting_start_day"] < 1.375)).any()
    assert (out["prospecting_start_day"] == 1.375).sum() == 3


def test_inbound_leads_are_unchanged_when_lead_gen_is_always_busy():
    # Twenty leads at day 0, a day of prospecting each: the rep is busy to the horizon.
    leads = hand_leads([0.0] * 20)
    plain = run("conveyor", leads, scenario("horizon_days=15")).leads
    with_outbound = run("conveyor", leads, scenario(*OUTBOUND, "horizon_days=15")).leads
    assert "source" not in plain.columns
    assert (with_outbound["source"] == "inbound").all()
    pd.testing.assert_frame_equal(with_outbound.drop(columns="source"), plain)


def test_the_rep_who_booked_the_meeting_owns_the_lead_in_all_in():
    sc = scenario(*OUTBOUND, TEN_DAYS, "structures.allin.generalists=2")
    out = outbound_rows(run("allin", hand_leads([]), sc).leads)
    assert len(out) > 0
    worked = out.dropna(subset=["qualification_start_day"])
    assert (worked["qualification_handler"] == worked["prospecting_handler"]).all()
    assert set(worked["prospecting_handler"]) == {0, 1}


def test_the_same_outbound_lead_has_the_same_numbers_in_every_structure():
    sc = scenario(
        "leads.outbound.enabled=true",
        "leads.outbound.response_prob=0.3",
        "leads.outbound.touches_per_hour=4",
        'leads.segments=[{name = "a", share = 1.0}, {name = "b", share = 2.0}]',
        'leads.tiers=[{name = "s", share = 3.0}, '
        '{name = "k", share = 1.0, value_multiplier = 4.0}]',
        "leads.quality_weight=1.0",
        # The scenario's Pods must own the new segments (Pods are not run here).
        'structures.pods.pods=[{name = "p", segments = ["a", "b"], lead_gen = 1, qualifiers = 1, '
        "closers = 1, account_managers = 1}]",
        "horizon_days=60",
        "leads.arrivals_per_day=0.05",
    )
    streams = replication_streams(sc.seed, 0)
    inbound = generate_leads(sc, np.random.default_rng(streams.leads))
    facts = {}
    for name in ("allin", "two_party", "conveyor"):
        out = outbound_rows(run(name, inbound, sc).leads)
        facts[name] = {
            segment: list(zip(group["tier"], group["quality"], group["deal_value"], strict=True))
            for segment, group in out.groupby("segment", observed=True)
        }
    # Two-Party and the Conveyor prospect alike (one idle lead-gen rep): the same touches
    # answer, so the same leads in the same order, numbers and days alike.
    assert facts["two_party"] == facts["conveyor"]
    # All-In's generalist prospects less (it also works its leads): a prefix of the same leads.
    for segment, leads in facts["allin"].items():
        assert 0 < len(leads) < len(facts["conveyor"][segment])
        assert leads == facts["conveyor"][segment][: len(leads)]
    # Over a thousand touches: the touch draws of a second chunk are common too.
    assert sum(len(leads) for leads in facts["conveyor"].values()) > 0.3 * CHUNK


def test_outbound_leads_leave_the_inbound_stream_alone():
    sc = scenario(*OUTBOUND, "horizon_days=30", "leads.arrivals_per_day=0.5")
    streams = replication_streams(sc.seed, 0)
    leads = generate_leads(sc, np.random.default_rng(streams.leads))
    df = run("conveyor", leads, sc).leads
    inbound = df[df["source"] == "inbound"]
    assert inbound["arrival_day"].tolist() == leads.arrival_day.tolist()
    assert inbound["deal_value"].tolist() == leads.deal_value.tolist()


@pytest.mark.parametrize(
    "override, message",
    [
        (
            "leads.outbound.response_prob=1.5",
            "leads.outbound.response_prob: Input should be less than or equal to 1",
        ),
        (
            'leads.outbound.roles=["closer"]',
            "leads.outbound.roles.0: Input should be 'lead_gen' or 'generalist'",
        ),
        (
            'leads.outbound.roles=["lead_gen", "lead_gen"]',
            "leads.outbound.roles: roles must be unique",
        ),
        ("leads.outbound.block_hours=25", "leads.outbound.block_hours: Input should be less than"),
        ("leads.outbound.pool_size=0", "leads.outbound.pool_size: Input should be greater than"),
    ],
)
def test_bad_outbound_settings_are_refused_before_simulating(override, message):
    with pytest.raises(ScenarioError) as caught:
        scenario(override)
    assert message in str(caught.value)


def test_a_bad_outbound_setting_on_the_command_line_exits_2_with_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "simulate",
            "scenarios/baseline.toml",
            "--set",
            "leads.outbound.touches_per_hour=-1",
            "--out",
            str(out),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "leads.outbound.touches_per_hour" in err[0]
    assert not out.exists()


def test_lead_source_kpis_count_what_the_log_says():
    sc = scenario(*OUTBOUND, TEN_DAYS)
    tables = run("conveyor", hand_leads([0.3, 5.55]), sc)
    kpis = lead_source_kpis(tables.leads, tables.reps, sc)
    # Blocks: 3 before the first inbound lead (worked 0.375-1.375), 33 to day 5.5, one
    # more before the second (5.625-6.625), 27 ending by the horizon: 64 x 3 meetings.
    booked = 192
    assert len(outbound_rows(tables.leads)) == booked
    assert kpis["outbound_leads"] == booked
    assert kpis["outbound_share"] == booked / (booked + 2)
    assert kpis["outbound_leads_per_prospector_per_30_days"] == booked / 10.0625 * 30.0
    won = (outbound_rows(tables.leads)["outcome"] == "won").sum()
    assert kpis["outbound_wins"] == won and kpis["conversion_outbound"] == won / booked
    # Off: no such KPIs.
    assert lead_source_kpis(tables.leads, tables.reps, scenario(TEN_DAYS)) == {}


def test_in_a_versatile_pod_lead_gen_still_covers_and_nobody_covers_prospecting():
    # One meeting an hour keeps the pod's qualifier (2 days a lead) and closer (3 days)
    # swamped: when a block ends, the lead-gen rep (rep 0) takes their waiting tasks.
    sc = scenario(
        *OUTBOUND,
        TEN_DAYS,
        "leads.outbound.touches_per_hour=1",
        "structures.pods.versatility.enabled=true",
        "structures.pods.versatility.effort_factor=2.0",
    )
    df = run("pods", hand_leads([]), sc).leads
    assert (df["prospecting_handler"] == 0).all()  # prospecting is never covered
    covered = (df["qualification_handler"] == 0) | (df["closing_handler"] == 0)
    assert covered.any()
    # The first block (ending 0.125) books lead 0; the qualifier takes it at once.
    assert df.loc[0, "qualification_start_day"] == 0.125
    assert df.loc[0, "qualification_handler"] == 1
