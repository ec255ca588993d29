"""A hiring plan: seats added during the run, each ramping from its start; backfill or not."""

import contextlib
import io

import pandas as pd
import pytest

from sim.cli.main import main
from sim.config import potential
from tests.builders import hand_leads, run, scenario

# Prospecting and qualification take almost no time, so all 60 leads wait for the closers
# from the first hours on: 180 days of closing against a horizon of 100.
FAST_FRONT = (
    "stages.prospecting.mean_effort_days=0.001",
    "stages.qualification.mean_effort_days=0.001",
)
CLOSER_AT_30 = "structures.conveyor.hires=[{role='closer', day=30.0, lag_days=0.0}]"


def _closers(tables) -> pd.DataFrame:
    reps = tables.reps
    return (
        reps.loc[reps["role"] == "closer"]
        .groupby("person_id")
        .agg(
            hired_day=("hired_day", "first"),
            busy_days=("busy_days", "sum"),
            days_present=("days_present", "sum"),
            hired=("hired", "any"),
            rep_id=("rep_id", "first"),
        )
    )


def test_a_planned_closer_works_the_queue_from_their_start_day():
    leads = hand_leads([0.0] * 60)
    fixed = run("conveyor", leads, scenario(*FAST_FRONT))
    grown = run("conveyor", leads, scenario(*FAST_FRONT, CLOSER_AT_30))
    closers = _closers(grown)
    assert len(closers) == 2
    new = closers.loc[closers["hired"]].iloc[0]
    # Seats numbered after every seat of day 0: lead gen, qualifier, closer, account manager.
    assert new["rep_id"] == 4 and new["hired_day"] == 30.0
    assert new["days_present"] == pytest.approx(70.0)
    assert new["busy_days"] == pytest.approx(70.0)  # a backlog all the way to the horizon
    # The first closer closes every 3 days from t0 (the front takes 0.002 days a lead, so
    # t0 is a few thousandths); the hire every 3 days from day 30: 33 + 23 wins by day 100.
    assert int((fixed.leads["outcome"] == "won").sum()) == 33
    assert int((grown.leads["outcome"] == "won").sum()) == 33 + 23


def test_the_start_waits_for_the_hiring_lag():
    sc = scenario(
        *FAST_FRONT,
        "people.turnover.hiring_lag_days=10.0",
        "structures.conveyor.hires=[{role='closer', day=30.0}]",
    )
    closers = _closers(run("conveyor", hand_leads([0.0] * 60), sc))
    assert sorted(closers["hired_day"])[-1] == 40.0


def test_a_planned_seat_is_vacant_from_its_requisition_not_from_day_0():
    # Four seats for 100 days and the planned closer's from its requisition on day 30; its
    # person starts after the 10-day lag: 10 of 470 seat-days vacant, five seats at the end.
    from sim.analysis.people import people_kpis

    sc = scenario(
        *FAST_FRONT,
        "people.turnover.hiring_lag_days=10.0",
        "structures.conveyor.hires=[{role='closer', day=30.0}]",
    )
    kpis = people_kpis(run("conveyor", hand_leads([0.0] * 60), sc).reps, sc)
    assert kpis["headcount"] == 5
    assert kpis["vacancy_share"] == pytest.approx(10 / 470)


def test_a_hire_starting_after_the_horizon_changes_nothing():
    leads = hand_leads([float(d) for d in range(0, 90, 3)])
    plain = run("conveyor", leads, scenario())
    late = run(
        "conveyor",
        leads,
        scenario("structures.conveyor.hires=[{role='closer', day=100.0, count=3, lag_days=0.0}]"),
    )
    pd.testing.assert_frame_equal(plain.leads, late.leads)
    pd.testing.assert_frame_equal(plain.reps, late.reps)


def test_without_backfill_a_leavers_seat_stays_empty():
    churny = (
        "people.turnover.enabled=true",
        "people.turnover.attrition_per_year.closer=10.0",
        "people.turnover.hiring_lag_days=1.0",
        "horizon_days=365.0",
    )
    leads = hand_leads([float(d) for d in range(0, 360, 2)])
    kept = run("conveyor", leads, scenario(*churny)).reps
    frozen = run("conveyor", leads, scenario(*churny, "people.turnover.backfill=false")).reps
    kept_closers = kept.loc[kept["role"] == "closer", "person_id"].nunique()
    frozen_closers = frozen.loc[frozen["role"] == "closer"]
    assert kept_closers > 2  # at 10 a year for a year, about 10 leave
    assert frozen_closers["person_id"].nunique() == 1  # the first leaver is never replaced
    assert frozen_closers["left_day"].notna().all()


def test_the_quota_rule_counts_a_hire_for_the_share_of_the_horizon_it_is_filled():
    sc = scenario(
        "horizon_days=100.0",
        "structures.conveyor.hires=[{role='closer', day=50.0, lag_days=0.0}]",
    )
    assert potential.planned_seats(sc, "conveyor", "closer") == pytest.approx(0.5)
    plain = scenario("horizon_days=100.0")
    assert sc.quota("conveyor", "closer") == pytest.approx(plain.quota("conveyor", "closer") / 1.5)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("structures.allin.hires=[{role='closer', day=10.0}]", "allin has no closer"),
        ("structures.pods.hires=[{role='closer', day=10.0, pod='q'}]", "'q' is not a pod"),
        ("structures.conveyor.hires=[{role='closer', day=10.0, pod='p'}]", "only Pods have pods"),
    ],
)
def test_a_hire_the_structure_cannot_take_is_one_line_and_exit_2(tmp_path, setting, expected):
    out = tmp_path / "out"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["simulate", "scenarios/baseline.toml", "--set", setting, "--out", str(out)])
    assert code == 2 and "Traceback" not in err.getvalue()
    problems = [line for line in err.getvalue().splitlines() if "hires" in line]
    assert len(problems) == 1 and expected in problems[0]
    assert not out.exists()
