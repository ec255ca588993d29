"""A reorganisation at a date: deals, people and accounts moved by the stated rules."""

import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from sim.analysis.switch import switch_dip, switch_summary
from sim.cli.main import main
from sim.config.scenario import Scenario, ScenarioError
from sim.model.people import ramp_factor
from sim.model.reorganisation import match_seats, retained_tenure
from sim.model.runner import run_once, simulate
from tests.builders import hand_leads, run, scenario

# One generalist, no generalist penalty: three leads at day 0 are worked in a known order
# (efforts 1, 2, 3 days, no lags, every stage passes). Alone, the generalist does:
# lead 0 prospecting [0, 1], lead 1 [1, 2], lead 2 [2, 3]; qualification of lead 0 [3, 5],
# lead 1 [5, 7], lead 2 [7, 9]; closing of lead 0 [9, 12], lead 1 [12, 15], lead 2 [15, 18].
PLAIN_GENERALIST = (
    "generalist.pass_prob_factor=1.0",
    "generalist.effort_factor=1.0",
    "generalist.context_switch_cost=0.0",
    "people.turnover.hiring_lag_days=10.0",
)
TO_CONVEYOR_AT_4 = (
    *PLAIN_GENERALIST,
    "structures.conveyor.reorganise={from_structure='allin', day=4.0}",
)


def _outcomes(tables) -> list[tuple]:
    leads = tables.leads
    return [
        (row.lead_id, str(row.outcome), str(row.lost_at), row.end_day)
        for row in leads.itertuples(index=False)
    ]


def test_the_generalist_alone_wins_every_lead_on_the_hand_schedule():
    tables = run("allin", hand_leads([0.0] * 3), scenario(*PLAIN_GENERALIST))
    assert _outcomes(tables) == [(0, "won", "", 12.0), (1, "won", "", 15.0), (2, "won", "", 18.0)]


def test_with_every_hand_over_dropped_exactly_the_deals_in_flight_are_lost():
    # At day 4 the generalist is qualifying lead 0, with leads 1 and 2 queued for
    # qualification. Each finishes qualification with the generalist (their desk is
    # cleared first), then needs a closer: the generalist moved to lead generation (the
    # first seat in turn), so each is handed over, and every hand-over drops.
    sc = scenario(*TO_CONVEYOR_AT_4, "structures.conveyor.reorganise.relay.drop_prob=1.0")
    tables = run("conveyor", hand_leads([0.0] * 3), sc)
    assert _outcomes(tables) == [
        (0, "lost", "reorganisation", 5.0),
        (1, "lost", "reorganisation", 7.0),
        (2, "lost", "reorganisation", 9.0),
    ]


def test_handed_over_deals_wait_for_the_closer_hired_after_the_lag():
    # No loss in the hand-over: the three deals queue for the conveyor's closer seat,
    # which nobody moved into, so it is hired at day 4 + 10 and closes 3 days a deal.
    sc = scenario(*TO_CONVEYOR_AT_4)
    tables = run("conveyor", hand_leads([0.0] * 3), sc)
    assert _outcomes(tables) == [(0, "won", "", 17.0), (1, "won", "", 20.0), (2, "won", "", 23.0)]
    closing = tables.leads[["closing_queue_day", "closing_start_day"]].to_numpy().tolist()
    assert closing == [[5.0, 14.0], [7.0, 17.0], [9.0, 20.0]]


def test_seats_count_from_their_opening_to_their_retirement():
    # The generalist's seat exists from day 0 until the desk is cleared at 9 (the queue of
    # qualifications worked out); the conveyor's four seats from the switch at 4 to the
    # horizon at 100. The generalist sits in lead gen from 9; the other three are hired at
    # 4 + 10. Seat-days 9 + 4 x 96 = 393; present 9 + 91 + 3 x 86 = 358: 35 vacant.
    from sim.analysis.people import people_kpis

    sc = scenario(*TO_CONVEYOR_AT_4)
    kpis = people_kpis(run("conveyor", hand_leads([0.0] * 3), sc).reps, sc)
    assert kpis["headcount"] == 4  # the conveyor's seats: the retired one is gone
    assert kpis["vacancy_share"] == pytest.approx(35 / 393)
    samples = run("conveyor", hand_leads([0.0] * 3), sc).samples
    after = samples[samples["day"] >= 10]
    assert set(after["team"]) == {"lead_gen", "qualifier", "closer", "account_manager"}


def test_the_mover_starts_the_new_role_at_the_stated_share_of_productivity():
    sc = scenario(
        *TO_CONVEYOR_AT_4,
        "people.ramp.enabled=true",
        "people.ramp.start_productivity=0.2",
        "people.ramp.days.lead_gen=60.0",
        "structures.conveyor.reorganise.retained_productivity=0.5",
    )
    reps = run("conveyor", hand_leads([0.0] * 3), sc).reps
    generalist = reps.loc[reps["role"] == "generalist"].iloc[0]
    mover = reps.loc[reps["role"] == "lead_gen"].iloc[0]
    assert generalist["left_day"] == 9.0  # their desk was clear at day 9
    assert mover["person_id"] == generalist["person_id"]  # the same person, not a hire
    assert not reps["hired"].loc[reps["role"] == "lead_gen"].any()
    tenure = 9.0 - mover["hired_day"]
    assert tenure == pytest.approx(60.0 * (0.5 - 0.2) / (1 - 0.2))
    assert ramp_factor(tenure, 60.0, 0.2) == pytest.approx(0.5)
    # Paid from the day they sit down, not from the tenure they start at.
    assert reps.loc[reps["role"] == "lead_gen", "days_present"].sum() == pytest.approx(100 - 9)


def test_retained_tenure_inverts_the_ramp():
    assert retained_tenure(0.5, 100.0, 0.0) == 50.0
    assert retained_tenure(0.1, 100.0, 0.3) == 0.0  # below the ramp's start: day one
    assert retained_tenure(1.0, 100.0, 0.3) == 100.0
    assert retained_tenure(0.5, 0.0, 0.3) == 0.0  # no ramp


def test_seats_go_to_the_same_role_first_then_in_turn():
    class Seat:
        def __init__(self, role):
            self.role = role

    closer, qualifier, lead_gen = Seat("closer"), Seat("qualifier"), Seat("lead_gen")
    people = [(lead_gen, "a"), (closer, "b"), (Seat("generalist"), "c")]
    seats = [(qualifier, "q1"), (closer, "c1"), (qualifier, "q2")]
    matched, to_hire = match_seats(people, seats)
    assert matched == {"b": (closer, "c1"), "a": (qualifier, "q1"), "c": (qualifier, "q2")}
    assert to_hire == []
    matched, to_hire = match_seats(people[:1], seats)
    assert matched == {"a": (qualifier, "q1")} and to_hire == [(closer, "c1"), (qualifier, "q2")]


BASELINE_SHORT = ("replications=1", "horizon_days=240")


@pytest.mark.parametrize("day", ["'never'", "240.0"])
def test_never_switching_reproduces_the_starting_structure_lead_by_lead(day):
    # "never", or a day at the horizon (240): the switch falls outside the run.
    sc = Scenario.from_file(
        "scenarios/baseline.toml",
        [*BASELINE_SHORT, f"structures.pods.reorganise={{from_structure='allin', day={day}}}"],
    )
    stay = run_once(sc, "allin", 0)
    never = run_once(sc, "pods", 0)
    for table in ("leads", "reps", "samples"):
        expected = getattr(stay, table).drop(columns="structure")
        actual = getattr(never, table).drop(columns="structure")
        pd.testing.assert_frame_equal(actual, expected)  # every lead's log, NaN for NaN


def test_until_the_switch_the_run_is_the_starting_structure_s():
    sc = Scenario.from_file(
        "scenarios/baseline.toml",
        [*BASELINE_SHORT, "structures.pods.reorganise={from_structure='allin', day=120.0}"],
    )
    stay, moved = run_once(sc, "allin", 0).leads, run_once(sc, "pods", 0).leads
    done_before = (stay["end_day"] < 120.0).to_numpy()
    columns = ["lead_id", "outcome", "lost_at", "end_day", "closing_handler"]
    pd.testing.assert_frame_equal(moved.loc[done_before, columns], stay.loc[done_before, columns])
    # After it, new leads take the pods' routes (one passed to another pod gets its pod
    # when it arrives there).
    late = (moved["arrival_day"] >= 120.0) & ~moved["overflowed"]
    assert (moved.loc[late, "pod"] >= 0).all() and (moved.loc[~late, "pod"] == -1).any()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "structures.pods.reorganise={from_structure='nowhere', day=10.0}",
            "structures.pods.reorganise.from_structure: unknown structure 'nowhere'",
        ),
        (
            "structures.pods.reorganise={from_structure='pods', day=10.0}",
            "structures.pods.reorganise.from_structure: pods cannot reorganise from itself",
        ),
        (
            "structures.pods.reorganise={from_structure='allin', day=-5.0}",
            "structures.pods.reorganise.day",
        ),
        (
            "structures.pods.reorganise={from_structure='allin', day='soon'}",
            "structures.pods.reorganise.day",
        ),
    ],
)
def test_a_bad_reorganisation_is_one_line_naming_the_field(setting, message):
    with pytest.raises(ScenarioError) as error:
        scenario(setting)
    lines = str(error.value).splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_the_structure_to_start_as_must_be_in_the_scenario():
    with pytest.raises(ScenarioError) as error:
        Scenario.from_file(
            "scenarios/pods.toml", ["structures.pods.reorganise={from_structure='allin', day=5.0}"]
        )
    assert "structures.pods.reorganise.from_structure: no [structures.allin] block" in str(
        error.value
    )


NURTURABLE = ("nurture.return_prob=0.3", "decay.mean_patience_days=30.0")
"""Nurture needs leads that can go cold."""


@pytest.mark.parametrize(
    "mechanism",
    [
        "nurture.enabled=true",
        "routing.priority.closer='value'",
        "routing.max_open_deals_per_rep=5",
        "leads.outbound.enabled=true",
    ],
)
def test_mechanisms_the_new_structure_would_lack_are_refused_with_a_reorganisation(mechanism):
    switch = "structures.pods.reorganise={from_structure='allin', day=10.0}"
    with pytest.raises(ScenarioError) as error:
        scenario(switch, mechanism, *NURTURABLE)
    field = mechanism.split("=")[0].rsplit(".closer", 1)[0]
    assert f"{field}: not available with a reorganisation yet" in str(error.value)
    scenario(mechanism, *NURTURABLE)  # fine without the switch


def test_the_cli_refuses_a_bad_switch_day_with_exit_2(tmp_path):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            [
                "simulate",
                "scenarios/baseline.toml",
                "--set",
                "structures.pods.reorganise={from_structure='allin', day='soon'}",
                "--out",
                str(tmp_path / "out"),
            ]
        )
    assert code == 2
    assert "structures.pods.reorganise.day" in err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert not (tmp_path / "out").exists()


def test_the_destination_s_hires_due_before_the_switch_are_seats_at_it():
    # A second closer planned to start on day 0 in the conveyor: at the switch it is one more
    # empty seat, hired with the others at day 4 + 10, so two deals close at once.
    sc = scenario(
        *TO_CONVEYOR_AT_4, "structures.conveyor.hires=[{role='closer', day=0.0, lag_days=0.0}]"
    )
    tables = run("conveyor", hand_leads([0.0] * 3), sc)
    assert _outcomes(tables) == [(0, "won", "", 17.0), (1, "won", "", 17.0), (2, "won", "", 20.0)]
    closers = tables.reps.loc[tables.reps["role"] == "closer"]
    assert sorted(closers["hired_day"].unique()) == [14.0]
    assert closers["person_id"].nunique() == 2


def test_the_growing_startup_starts_all_in_and_moves_on_day_365():
    sc = Scenario.from_file("scenarios/growth/growing_startup.toml")
    assert sc.structures.names == ("allin", "conveyor", "pods")
    for name in ("conveyor", "pods"):
        plan = getattr(sc.structures, name).reorganise
        assert (plan.from_structure, plan.switch_day(sc.horizon_days)) == ("allin", 365.0)
    assert sc.leads.growth_per_year == 0.4 and sc.horizon_days == 3 * 365


def _dip_table(differences: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "structure": "pods",
            "from_structure": "allin",
            "switch_day": 60.0,
            "measure": "wins",
            "period_start_day": [30.0 * k for k in range(len(differences))],
            "difference": differences,
            "ci_low": float("nan"),
            "ci_high": float("nan"),
        }
    )


def test_the_switch_summary_finds_the_dip_and_the_break_even_day():
    # Periods of 30 days; the switch on day 60. After it: -3, -1, +2, +4: the sum since
    # the switch is -3, -4, -2, +2, back above zero at the end of the period from day 150.
    summary = switch_summary(_dip_table([0.0, 0.0, -3.0, -1.0, 2.0, 4.0]))
    row = summary.iloc[0]
    assert row["deepest_period_start_day"] == 60.0 and row["deepest_difference"] == -3.0
    assert row["break_even_day"] == 180.0
    assert row["difference_after_switch"] == 2.0
    never_below = switch_summary(_dip_table([0.0, 0.0, 1.0, 2.0])).iloc[0]
    assert np.isnan(never_below["break_even_day"])


def test_the_dip_is_zero_before_the_switch_and_paired_after_it():
    sc = Scenario.from_file(
        "scenarios/baseline.toml",
        [
            "replications=2",
            "horizon_days=240",
            "structures.pods.reorganise={from_structure='allin', day=120.0}",
        ],
    )
    result = simulate(sc, ("allin", "pods"))
    dip = switch_dip(result.leads, sc)
    wins = dip[dip["measure"] == "wins"]
    before = wins[wins["period_start_day"] + 30.0 <= 120.0]
    assert len(before) == 4 and (before["difference"] == 0.0).all()
    # Each period's mean difference is the difference of the two structures' mean wins.
    won = result.leads[result.leads["outcome"] == "won"]
    late = won[(won["end_day"] >= 180.0) & (won["end_day"] < 210.0)]
    counts = late.groupby("structure", observed=True).size() / 2
    period = wins[wins["period_start_day"] == 180.0].iloc[0]
    assert period["difference"] == pytest.approx(counts["pods"] - counts["allin"])
