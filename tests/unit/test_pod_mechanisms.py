"""Pods from mechanisms: versatility, the learning curve, relays inside a team, by hand.

The tiny scenario of ``tests.builders``: one rep per role (pods: lead gen 0,
qualifier 1, closer 2), efforts 1, 2 and 3 days, no lag, every pass
probability 1, free relays unless a test sets them.
"""

from types import SimpleNamespace

import pytest
import simpy

from sim.config.scenario import LearningConfig, RelayCosts, TeamRelayConfig
from sim.model.expertise import SegmentExperience
from sim.model.seeding import replication_streams
from sim.model.structures import build_run
from tests.builders import event_log, hand_leads, run, scenario

COVER = (
    "structures.pods.versatility.enabled=true",
    "structures.pods.versatility.effort_factor=2.0",
)


def rounded(log: list[tuple]) -> list[tuple]:
    """The event log with times rounded to 1e-9 (sums of tenths are not exact)."""
    return [tuple(round(x, 9) if isinstance(x, float) else x for x in entry) for entry in log]


def test_an_idle_qualifier_takes_a_waiting_closing_task_at_half_the_efficiency():
    # Lead 1's closing (day 5) finds the closer busy with lead 0 until day 6; the
    # qualifier has just finished lead 1's qualification and takes it: 3 x 2 days.
    df = run("pods", hand_leads([0.0, 2.0]), scenario(*COVER)).leads
    assert event_log(df) == [
        (0, "prospecting", 0.0, 0.0, 1.0, 1.0, 0),
        (0, "qualification", 1.0, 1.0, 3.0, 3.0, 1),
        (0, "closing", 3.0, 3.0, 6.0, 6.0, 2),
        (0, "won", "", "", 6.0),
        (1, "prospecting", 2.0, 2.0, 3.0, 3.0, 0),
        (1, "qualification", 3.0, 3.0, 5.0, 5.0, 1),
        (1, "closing", 5.0, 5.0, 11.0, 11.0, 1),
        (1, "won", "", "", 11.0),
    ]
    # Switched off, the same lead waits for the closer.
    plain = run("pods", hand_leads([0.0, 2.0]), scenario()).leads
    assert event_log(plain)[-2] == (1, "closing", 5.0, 6.0, 9.0, 9.0, 2)


def test_a_task_worked_outside_its_role_passes_at_the_stated_factor():
    sc = scenario(*COVER, "structures.pods.versatility.pass_prob_factor=0.5")
    # Both leads draw 0.6 at closing: the closer's own passes, the qualifier's (0.5) fails.
    leads = hand_leads([0.0, 2.0], pass_u=[[0.0, 0.0, 0.6], [0.0, 0.0, 0.6]])
    df = run("pods", leads, sc).leads
    assert list(df["outcome"].astype(str)) == ["won", "lost"]
    assert df["lost_at"].astype(str).iloc[1] == "closing"


def test_a_freed_rep_serves_its_own_queue_first_then_the_first_waiting_task_downstream():
    # Worked out by hand: every rep busy, tasks queue, and each freed rep takes
    # its own queue's task, else a colleague's (closers, then qualifiers, then lead gen).
    df = run("pods", hand_leads([0.0, 0.1, 0.2, 0.3]), scenario(*COVER)).leads
    assert rounded(event_log(df)) == [
        (0, "prospecting", 0.0, 0.0, 1.0, 1.0, 0),
        (0, "qualification", 1.0, 2.0, 6.0, 6.0, 0),  # lead gen covers, on release
        (0, "closing", 6.0, 6.1, 9.1, 9.1, 2),
        (0, "won", "", "", 9.1),
        (1, "prospecting", 0.1, 0.1, 2.1, 2.1, 2),  # the idle closer covers at once
        (1, "qualification", 2.1, 2.2, 4.2, 4.2, 1),
        (1, "closing", 4.2, 6.0, 12.0, 12.0, 0),
        (1, "won", "", "", 12.0),
        (2, "prospecting", 0.2, 0.2, 2.2, 2.2, 1),  # then the idle qualifier
        (2, "qualification", 2.2, 4.2, 6.2, 6.2, 1),
        (2, "closing", 6.2, 9.1, 12.1, 12.1, 2),
        (2, "won", "", "", 12.1),
        (3, "prospecting", 0.3, 1.0, 2.0, 2.0, 0),  # everyone busy: it queues
        (3, "qualification", 2.0, 2.1, 6.1, 6.1, 2),
        (3, "closing", 6.1, 6.2, 12.2, 12.2, 1),
        (3, "won", "", "", 12.2),
    ]


def test_the_learning_curve_closes_half_the_gap_per_half_gap_deals():
    learning = LearningConfig(enabled=True, novice_factor=0.5, half_gap_deals=1.0)
    assert [learning.factor(n) for n in (0, 1, 2)] == [0.5, 0.75, 0.875]


LEARN = (
    "people.learning.enabled=true",
    "people.learning.novice_factor=0.5",
    "people.learning.half_gap_deals=1.0",
    "people.learning.initial_deals=0.0",
)


def test_each_specialist_learns_from_the_deals_they_worked_in_the_segment():
    # Factors 0.5, 0.75, 0.875 after 0, 1, 2 deals. Lead 1 passes prospecting
    # (0.74 < 0.75) and fails qualification (0.76); lead 2 meets a lead-gen rep and
    # a qualifier with two deals each (0.875) and a closer with one (0.75).
    leads = hand_leads(
        [0.0, 10.0, 20.0], pass_u=[[0.49, 0.49, 0.49], [0.74, 0.76, 0.0], [0.87, 0.87, 0.76]]
    )
    df = run("conveyor", leads, scenario(*LEARN)).leads
    assert [str(x) for x in df["outcome"]] == ["won", "lost", "lost"]
    assert [str(x) for x in df["lost_at"]] == ["", "qualification", "closing"]


def test_a_generalist_counts_a_deal_once_and_learns_per_segment():
    # One rep works every stage: lead 0 at 0.5 throughout, lead 1 (its second deal
    # in segment 0) at 0.75 throughout, lead 2 (its first in segment 1) at 0.5 again.
    leads = hand_leads(
        [0.0, 10.0, 20.0],
        segments=("a", "b"),
        segment=[0, 0, 1],
        pass_u=[[0.49, 0.49, 0.49], [0.74, 0.74, 0.74], [0.49, 0.51, 0.0]],
    )
    base = scenario(*LEARN, "structures.allin.generalists=1")
    df = run("allin", leads, base).leads
    assert [str(x) for x in df["outcome"]] == ["won", "won", "lost"]
    assert str(df["lost_at"].iloc[2]) == "qualification"


def test_people_in_post_at_day_zero_start_with_their_initial_deals_and_new_hires_at_zero():
    learning = LearningConfig(
        enabled=True, novice_factor=0.5, half_gap_deals=1.0, initial_deals=2.0
    )
    book = SimpleNamespace(
        n_organic=2, stream=SimpleNamespace(segment_names=("a",), segment=[0, 0])
    )
    handler = [[-1, -1]] * 3
    experience = SegmentExperience(learning, book, handler)
    veteran = SimpleNamespace(rep_id=0, record=SimpleNamespace(person_id=0, initial=True))
    hire = SimpleNamespace(rep_id=1, record=SimpleNamespace(person_id=1, initial=False))
    assert experience.factor(0, 0, veteran) == 0.875
    assert experience.factor(1, 0, veteran) == 0.9375
    assert experience.factor(0, 1, hire) == 0.5


def test_the_learning_curve_switched_off_leaves_the_pass_probability_alone():
    leads = hand_leads([0.0, 10.0], pass_u=[[0.9, 0.0, 0.0], [0.9, 0.0, 0.0]])
    off = run("conveyor", leads, scenario()).leads
    on = run("conveyor", leads, scenario(*LEARN)).leads
    assert [str(x) for x in off["outcome"]] == ["won", "won"]
    assert [str(x) for x in on["outcome"]] == ["lost", "lost"]  # 0.5, then 0.75


def test_a_relay_inside_a_team_saves_its_stated_shares():
    relays = TeamRelayConfig(shared_context=0.6, delay_factor=0.25, drop_factor=0.4)
    costs = RelayCosts(drop_prob=0.05, mean_delay_days=2.0, context_loss=0.1)
    inside = relays.within_team(costs)
    assert inside.drop_prob == pytest.approx(0.02)
    assert inside.mean_delay_days == 0.5
    assert inside.context_loss == pytest.approx(0.04)
    assert TeamRelayConfig().within_team(costs) is costs


def test_pods_relays_inside_a_pod_are_cheaper_and_the_relay_to_another_pod_is_not():
    sc = scenario(
        "structures.pods.handoff.mean_delay_days=2.0",
        "structures.pods.handoff.delay_distribution='deterministic'",
        "structures.pods.handoff.context_loss=0.5",
        "structures.pods.team_relays.delay_factor=0.25",
        "structures.pods.team_relays.shared_context=0.6",
    )
    # Context loss 0.5 x 0.4 = 0.2: a draw of 0.75 passes qualification, 0.85 fails.
    leads = hand_leads([0.0, 20.0], pass_u=[[0.0, 0.75, 0.0], [0.0, 0.85, 0.0]])
    df = run("pods", leads, sc).leads
    assert event_log(df)[:4] == [
        (0, "prospecting", 0.0, 0.0, 1.0, 1.0, 0),
        (0, "qualification", 1.5, 1.5, 3.5, 3.5, 1),  # half a day in the relay, not 2
        (0, "closing", 4.0, 4.0, 7.0, 7.0, 2),
        (0, "won", "", "", 7.0),
    ]
    assert str(df["lost_at"].iloc[1]) == "qualification"
    conveyor = scenario(
        "structures.conveyor.handoff.mean_delay_days=2.0",
        "structures.conveyor.handoff.delay_distribution='deterministic'",
    )
    assert event_log(run("conveyor", leads, conveyor).leads)[1][2] == 3.0  # 2 days
    built = build_run("pods", simpy.Environment(), leads, sc, replication_streams(7, 0))
    relays = built.org.segment_routes[0].relays
    assert [r.mean_delay_days for r in relays] == [0.5, 0.5, 0.5, 2.0]  # to_pod: between teams
