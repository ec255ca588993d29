"""Tiny runs with fixed times, checked against the exact event log."""

import math

import pytest

from tests.builders import event_log, hand_leads, run, scenario

NAN = math.nan


def test_conveyor_two_leads_exact_log():
    # One rep per role, efforts 1/2/3 days, no lag: lead 1 queues behind lead 0.
    df = run("conveyor", hand_leads([0.0, 0.5]), scenario()).leads
    assert event_log(df) == [
        (0, "prospecting", 0.0, 0.0, 1.0, 1.0, 0),
        (0, "qualification", 1.0, 1.0, 3.0, 3.0, 1),
        (0, "closing", 3.0, 3.0, 6.0, 6.0, 2),
        (0, "won", "", "", 6.0),
        (1, "prospecting", 0.5, 1.0, 2.0, 2.0, 0),
        (1, "qualification", 2.0, 3.0, 5.0, 5.0, 1),
        (1, "closing", 5.0, 6.0, 9.0, 9.0, 2),
        (1, "won", "", "", 9.0),
    ]


def test_allin_one_rep_does_every_stage_and_work_competes():
    # One generalist serves tasks first come, first served: lead 1's prospecting
    # (queued at 0.5) goes before lead 0's qualification (queued at 1.0), and so on.
    df = run("allin", hand_leads([0.0, 0.5]), scenario()).leads
    assert event_log(df) == [
        (0, "prospecting", 0.0, 0.0, 1.0, 1.0, 0),
        (0, "qualification", 1.0, 2.0, 4.0, 4.0, 0),
        (0, "closing", 4.0, 6.0, 9.0, 9.0, 0),
        (0, "won", "", "", 9.0),
        (1, "prospecting", 0.5, 1.0, 2.0, 2.0, 0),
        (1, "qualification", 2.0, 4.0, 6.0, 6.0, 0),
        (1, "closing", 6.0, 9.0, 12.0, 12.0, 0),
        (1, "won", "", "", 12.0),
    ]


def test_customer_lag_frees_the_rep():
    sc = scenario(
        "stages.prospecting.mean_lag_days=10.0",
        "stages.prospecting.lag_distribution='deterministic'",
    )
    df = run("conveyor", hand_leads([0.0, 0.0]), sc).leads
    log = event_log(df)
    # The lead-gen rep works lead 1 while lead 0's customer takes 10 days to answer.
    assert log[0] == (0, "prospecting", 0.0, 0.0, 1.0, 11.0, 0)
    assert log[4] == (1, "prospecting", 0.0, 1.0, 2.0, 12.0, 0)


def test_two_party_closer_qualifies_and_closes():
    df = run("two_party", hand_leads([0.0]), scenario()).leads
    assert event_log(df) == [
        (0, "prospecting", 0.0, 0.0, 1.0, 1.0, 0),
        (0, "qualification", 1.0, 1.0, 3.0, 3.0, 1),
        (0, "closing", 3.0, 3.0, 6.0, 6.0, 1),
        (0, "won", "", "", 6.0),
    ]


def test_failed_stage_stops_the_lead():
    leads = hand_leads([0.0], pass_u=[[0.0, 0.7, 0.0]])
    df = run("conveyor", leads, scenario("stages.qualification.pass_prob=0.5")).leads
    assert event_log(df)[-1] == (0, "lost", "qualification", "failed", 3.0)


def test_handoff_drop_and_delay():
    sc = scenario(
        "structures.conveyor.handoff.drop_prob=0.5",
        "structures.conveyor.handoff.mean_delay_days=0.25",
        "structures.conveyor.handoff.delay_distribution='deterministic'",
    )
    leads = hand_leads([0.0, 0.0], handoff_u=[[0.9, 0.1, 0.9], [0.2, 0.9, 0.9]])
    df = run("conveyor", leads, sc).leads
    log = event_log(df)
    # Lead 0 crosses the first relay (0.25 days), is dropped at the second.
    assert log[:3] == [
        (0, "prospecting", 0.0, 0.0, 1.0, 1.0, 0),
        (0, "qualification", 1.25, 1.25, 3.25, 3.25, 1),
        (0, "lost", "handoff_to_closing", "dropped_in_handoff", 3.25),
    ]
    # Lead 1 is dropped at the first relay, the moment it leaves prospecting.
    assert log[3:] == [
        (1, "prospecting", 0.0, 1.0, 2.0, 2.0, 0),
        (1, "lost", "handoff_to_qualification", "dropped_in_handoff", 2.0),
    ]


def test_allin_has_no_handoffs_even_with_a_lossy_market():
    sc = scenario("structures.conveyor.handoff.drop_prob=1.0")
    leads = hand_leads([0.0], handoff_u=[[0.0, 0.0, 0.0]])
    assert run("allin", leads, sc).leads["outcome"].tolist() == ["won"]
    assert run("conveyor", leads, sc).leads["lost_at"].tolist() == ["handoff_to_qualification"]


def test_context_loss_lowers_the_next_stage_pass_probability():
    sc = scenario("structures.conveyor.handoff.context_loss=0.5")
    # pass probability 1 becomes 0.5 after a relay: a draw of 0.6 fails.
    leads = hand_leads([0.0], pass_u=[[0.0, 0.6, 0.0]])
    assert run("conveyor", leads, sc).leads["lost_at"].tolist() == ["qualification"]
    assert run("allin", leads, sc).leads["outcome"].tolist() == ["won"]


def test_patience_lead_goes_cold_while_queued():
    sc = scenario("decay.mean_patience_days=1.0")
    # Lead 1 would wait 1 day (from 0 to 1) for the lead-gen rep; patience 0.5 day.
    leads = hand_leads([0.0, 0.0], patience=[[1.0] * 3, [0.5, 1.0, 1.0]])
    df = run("conveyor", leads, sc).leads
    row = df.iloc[1]
    assert (str(row.outcome), str(row.lost_at), str(row.lost_reason), row.end_day) == (
        "lost",
        "prospecting",
        "went_cold",
        0.5,
    )
    assert math.isnan(row.prospecting_start_day)


def test_decay_halves_pass_probability_after_one_half_life_of_waiting():
    sc = scenario("decay.half_life_days=1.0")
    # Lead 1 waits 1 day for prospecting: its pass probability is 0.5; a draw of 0.6 fails.
    leads = hand_leads([0.0, 0.0], pass_u=[[0.6, 0.0, 0.0], [0.6, 0.0, 0.0]])
    df = run("conveyor", leads, sc).leads
    assert df["outcome"].tolist()[1] == "lost"
    assert df["lost_at"].tolist()[1] == "prospecting"
    # Lead 0 never waited at prospecting: p = 1 there.
    assert df["prospecting_done_day"].notna().tolist() == [True, True]
    assert df["lost_at"].tolist()[0] != "prospecting"


def test_generalist_penalty_slows_and_weakens_all_in():
    sc = scenario("generalist.effort_factor=2.0", "generalist.pass_prob_factor=0.5")
    leads = hand_leads([0.0], pass_u=[[0.4, 0.4, 0.6]])
    df = run("allin", leads, sc).leads
    # Efforts double (2, 4, 6 days); closing at p = 0.5 fails for a draw of 0.6.
    assert event_log(df) == [
        (0, "prospecting", 0.0, 0.0, 2.0, 2.0, 0),
        (0, "qualification", 2.0, 2.0, 6.0, 6.0, 0),
        (0, "closing", 6.0, 6.0, 12.0, 12.0, 0),
        (0, "lost", "closing", "failed", 12.0),
    ]
    # The conveyor's specialists carry no penalty.
    assert run("conveyor", leads, sc).leads["outcome"].tolist() == ["won"]


def test_pods_route_leads_by_segment():
    base = scenario().model_dump(mode="json")
    base["leads"]["segments"] = [{"name": "a", "share": 1.0}, {"name": "b", "share": 1.0}]
    base["structures"]["pods"]["pods"] = [
        {
            "name": "pa",
            "segments": ["a"],
            "lead_gen": 1,
            "qualifiers": 1,
            "closers": 1,
            "account_managers": 1,
        },
        {
            "name": "pb",
            "segments": ["b"],
            "lead_gen": 1,
            "qualifiers": 1,
            "closers": 1,
            "account_managers": 1,
        },
    ]
    from sim.config.scenario import Scenario

    sc = Scenario.from_dict(base)
    leads = hand_leads([0.0, 0.0], segments=("a", "b"), segment=[0, 1])
    df = run("pods", leads, sc).leads
    # Different pods, so neither lead waits; rep ids 0-3 are pod a, 4-7 pod b.
    assert df["prospecting_handler"].tolist() == [0, 4]
    assert df["prospecting_start_day"].tolist() == [0.0, 0.0]
    assert df["pod"].tolist() == [0, 1]


@pytest.mark.parametrize(
    "policy, expected", [("round_robin", [0, 1, 0]), ("least_loaded", [0, 1, 1])]
)
def test_owner_assignment_policies(policy, expected):
    sc = scenario(
        "structures.allin.generalists=2",
        f"structures.allin.owner_assignment='{policy}'",
        "stages.prospecting.pass_prob=0.5",
    )
    # Lead 1 fails prospecting at day 1.5, lead 0 is still open at day 5 when
    # lead 2 arrives: least-loaded picks rep 1, round-robin rep 0 again.
    leads = hand_leads([0.0, 0.5, 5.0], pass_u=[[0.0] * 3, [0.9, 0, 0], [0.0] * 3])
    df = run("allin", leads, sc).leads
    assert df["prospecting_handler"].tolist() == expected
