"""Territories: drifting segment mix, and Pods passing leads when a pod is overloaded."""

from dataclasses import replace

import numpy as np
import pytest

from sim.analysis import funnel_tables
from sim.config.scenario import Scenario
from sim.model.leads import generate_leads
from tests.builders import event_log, hand_leads, run, scenario

TWO_PODS = (
    'leads.segments=[{name = "a", share = 1.0}, {name = "b", share = 1.0}]',
    "structures.pods.pods=["
    '{name = "p1", segments = ["a"], lead_gen = 1, qualifiers = 1, closers = 1, '
    "account_managers = 1}, "
    '{name = "p2", segments = ["b"], lead_gen = 1, qualifiers = 1, closers = 1, '
    "account_managers = 1}]",
)


def _stream(sc: Scenario):
    return generate_leads(sc, np.random.default_rng(42)).whole()


def test_segment_drift_changes_only_segments_and_follows_the_configured_shares():
    steady = scenario(*TWO_PODS, "horizon_days=2000.0", "leads.arrivals_per_day=20.0")
    drifting = steady.replace(
        [
            'leads.segments=[{name = "a", share = 0.9, share_at_end = 0.1}, '
            '{name = "b", share = 0.1, share_at_end = 0.9}]'
        ]
    )
    same, moved = _stream(steady), _stream(drifting)
    np.testing.assert_array_equal(same.arrival_day, moved.arrival_day)
    np.testing.assert_array_equal(same.pass_u, moved.pass_u)
    np.testing.assert_array_equal(same.overflow_u, moved.overflow_u)
    # Share of segment a at day t is 0.9 - 0.8 t / 2000: about 0.88 over the first 100
    # days and 0.12 over the last 100 (about 2,000 leads each: sd about 0.007).
    early = moved.segment[moved.arrival_day < 100] == 0
    late = moved.segment[moved.arrival_day >= 1900] == 0
    assert early.mean() == pytest.approx(0.88, abs=0.03)
    assert late.mean() == pytest.approx(0.12, abs=0.03)


def test_shares_that_vanish_at_the_horizon_are_rejected():
    with pytest.raises(ValueError, match="share_at_end"):
        scenario('leads.segments=[{name = "all", share = 1.0, share_at_end = 0.0}]')


def test_an_overloaded_pod_passes_a_new_lead_to_the_idle_pod():
    # Three segment-a leads at once: p1's single lead-gen rep works the first, the second
    # waits (load 2 per rep, above 1.5), so the third goes to p2 after a 1-day relay.
    sc = scenario(
        *TWO_PODS,
        'structures.pods.overflow.policy="least_loaded"',
        "structures.pods.overflow.threshold_leads_per_rep=1.5",
        "structures.pods.handoff.to_pod.mean_delay_days=1.0",
        'structures.pods.handoff.to_pod.delay_distribution="deterministic"',
    )
    leads = hand_leads([0.0, 0.0, 0.0], segments=("a", "b"), segment=[0, 0, 0])
    df = run("pods", leads, sc).leads
    assert df["pod"].tolist() == [0, 0, 1]
    assert df["overflowed"].tolist() == [False, False, True]
    territory = funnel_tables.territory_table(df).set_index("segment")
    assert territory.loc["a", "leads"] == 3
    assert territory.loc["a", "share_overflowed"] == pytest.approx(1 / 3)
    # First waits: 0, 1 and 0 days (the relay's day is not a queue wait).
    assert territory.loc["a", "mean_first_wait_days"] == pytest.approx(1 / 3)
    log = [entry for entry in event_log(df) if entry[1] == "prospecting"]
    # p1 rep 0 works leads 0 and 1 in turn; p2's lead-gen rep (id 4) takes lead 2 at day 1.
    assert log == [
        (0, "prospecting", 0.0, 0.0, 1.0, 1.0, 0),
        (1, "prospecting", 0.0, 1.0, 2.0, 2.0, 0),
        (2, "prospecting", 1.0, 1.0, 2.0, 2.0, 4),
    ]
    dropped = sc.replace(["structures.pods.handoff.to_pod.drop_prob=0.5"])
    unlucky = replace(leads, overflow_u=np.array([0.9, 0.9, 0.1]))  # below 0.5: dropped
    df = run("pods", unlucky, dropped).leads
    assert df["lost_at"].tolist()[2] == "handoff_to_pod"
    assert df["lost_reason"].tolist()[2] == "dropped_in_handoff"
    # Without the policy every lead stays in its own pod.
    df = run("pods", leads, scenario(*TWO_PODS)).leads
    assert df["pod"].tolist() == [0, 0, 0] and not df["overflowed"].any()
