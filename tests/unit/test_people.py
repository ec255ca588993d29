"""People: levels, ramp-up, turnover, quotas and pay, checked exactly or against theory."""

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import kpi_values, money
from sim.config.scenario import LevelMix, Scenario, without_people_effects
from sim.model.people import initial_tenure, mean_ramp_factor, period_edges, role_levels
from sim.model.runner import simulate
from tests.builders import hand_leads, run, scenario

ROOT_SCENARIO = "scenarios/baseline.toml"
NO_RAMP_DAYS = [
    f"people.ramp.days.{role}=0.0"
    for role in ("generalist", "lead_gen", "qualifier", "closer", "account_manager")
]
NO_ATTRITION = [
    f"people.turnover.attrition_per_year.{role}=0.0"
    for role in ("generalist", "lead_gen", "qualifier", "closer", "account_manager")
]


def _same_tables(a, b) -> None:
    pd.testing.assert_frame_equal(a.leads, b.leads)
    pd.testing.assert_frame_equal(a.reps, b.reps)
    pd.testing.assert_frame_equal(a.samples, b.samples)


def test_people_effects_switched_on_but_neutral_reproduce_the_core_model_exactly():
    # The core model is people effects off. Switched on with neutral values (every
    # factor 1, everyone ramped, nobody leaving), every code path of the people model
    # runs and must change nothing, bit for bit.
    base = Scenario.from_file(ROOT_SCENARIO, ["horizon_days=200", "replications=1"])
    core = without_people_effects(base)
    neutral = core.replace(
        [
            "people.levels.enabled=true",
            "people.levels.junior.pass_prob_factor=1.0",
            "people.levels.junior.effort_factor=1.0",
            "people.levels.senior.pass_prob_factor=1.0",
            "people.levels.senior.effort_factor=1.0",
            "people.ramp.enabled=true",
            "people.ramp.initial_ramped_share=1.0",
            "people.turnover.enabled=true",
            *NO_ATTRITION,
        ]
    )
    _same_tables(simulate(core), simulate(neutral))


def test_levels_follow_the_role_mix_across_the_structure_without_randomness():
    closer_mix = LevelMix(junior=0.2, mid=0.5, senior=0.3)
    assert sorted(role_levels(closer_mix, 0, 3)) == ["junior", "mid", "senior"]
    assert role_levels(closer_mix, 0, 1) == ["mid"]
    # Split over pods of 2 and 1 closers, the role has the same mix as one team of 3.
    assert role_levels(closer_mix, 0, 2) + role_levels(closer_mix, 2, 1) == role_levels(
        closer_mix, 0, 3
    )
    ten = role_levels(LevelMix(junior=0.5, mid=0.4, senior=0.1), 0, 10)
    assert [ten.count(level) for level in ("junior", "mid", "senior")] == [5, 4, 1]
    assert role_levels(closer_mix, 0, 0) == []


def test_a_senior_closer_works_faster_and_a_junior_slower():
    # One closer; the mix makes them senior (effort x 0.9) or junior (x 1.2). Closing
    # effort is 3 days at mid level.
    for level, expected in (("senior", 2.7), ("junior", 3.6)):
        sc = scenario(
            "people.levels.enabled=true",
            f"people.levels.mix.closer={{junior = {float(level == 'junior')}, mid = 0.0, "
            f"senior = {float(level == 'senior')}}}",
        )
        tables = run("conveyor", hand_leads([0.0]), sc)
        df = tables.leads
        assert df["closing_end_day"][0] - df["closing_start_day"][0] == pytest.approx(expected)
        assert set(tables.reps.loc[tables.reps["role"] == "closer", "level"]) == {level}


def test_a_new_hire_works_at_the_ramp_pace_of_their_tenure_exactly():
    # Nobody is ramped at day 0; the only closer ramps over 100 days from 30 % pace: a
    # task started at tenure t takes 3 / (0.3 + 0.7 t / 100) days.
    sc = scenario(
        "horizon_days=200.0",
        "people.ramp.enabled=true",
        "people.ramp.initial_ramped_share=0.0",
        *[o for o in NO_RAMP_DAYS if ".closer=" not in o],
        "people.ramp.days.closer=100.0",
    )
    tables = run("conveyor", hand_leads([0.0, 20.0, 40.0, 150.0]), sc)
    df, reps = tables.leads, tables.reps
    (hired,) = set(reps.loc[reps["role"] == "closer", "hired_day"])
    assert -100.0 < hired <= 0.0  # ramping at day 0 (tenures spread over the ramp)
    start = df["closing_start_day"].to_numpy()
    pace = np.minimum(1.0, 0.3 + 0.7 * (start - hired) / 100.0)
    assert df["closing_end_day"].to_numpy() - start == pytest.approx(3.0 / pace)
    assert pace[-1] == 1.0


def test_mean_ramp_factor_is_the_exact_integral():
    # Linear from 0.3 to 1 over 100 days: the mean over the ramp is 0.65.
    assert mean_ramp_factor(0.0, 100.0, 100.0, 0.3) == pytest.approx(0.65)
    # Half the interval ramping (mean 0.65), half ramped (1): 0.825.
    assert mean_ramp_factor(0.0, 200.0, 100.0, 0.3) == pytest.approx(0.825)
    assert mean_ramp_factor(150.0, 200.0, 100.0, 0.3) == 1.0
    assert mean_ramp_factor(0.0, 50.0, 0.0, 0.3) == 1.0
    assert period_edges(365.0, 91.25) == [0.0, 91.25, 182.5, 273.75, 365.0]


def _turnover_scenario(*extra: str) -> Scenario:
    # Few leads, so seats are rarely busy: attrition and hiring lag dominate.
    return scenario(
        "horizon_days=3650.0",
        "leads.arrivals_per_day=0.05",
        "structures.conveyor.lead_gen=20",
        "structures.conveyor.qualifiers=20",
        "structures.conveyor.closers=20",
        "structures.conveyor.account_managers=20",
        "people.turnover.enabled=true",
        *[o.replace("=0.0", "=1.0") for o in NO_ATTRITION],
        "people.turnover.under_quota_multiplier=1.0",
        "people.turnover.hiring_lag_days=30.0",
        *extra,
    )


def test_attrition_and_hiring_lag_give_the_renewal_theory_averages():
    # Each seat alternates: a person present for an exponential time (mean 365 / a days),
    # then a vacancy of L days. Over a long horizon a seat sees 365 / (365 / a + L)
    # leavers a year and is vacant L / (365 / a + L) of the time (renewal theory).
    sc = _turnover_scenario()
    result = simulate(sc, ["conveyor"])
    kpis = kpi_values.run_kpis(result.leads, result.reps, sc).iloc[0]
    cycle = 365.0 / 1.0 + 30.0
    seat_years = 80 * 10.0
    expected_leavers = seat_years * 365.0 / cycle
    # Leavers over 800 seat-years are close to Poisson: allow 4 standard deviations.
    assert abs(kpis["leavers"] - expected_leavers) < 4 * math.sqrt(expected_leavers)
    assert kpis["vacancy_share"] == pytest.approx(30.0 / cycle, abs=0.015)
    # Every leaver's seat is filled again unless the horizon came first.
    assert 0 <= kpis["leavers"] - kpis["hires"] <= 80


def test_no_lead_disappears_when_reps_leave():
    # Heavy turnover with "lose": owner-assigned teams lose leads to it, with a reason;
    # every lead still ends won, lost or open, and only owned leads are lost to it.
    sc = scenario(
        "horizon_days=400.0",
        "leads.arrivals_per_day=2.0",
        "people.turnover.enabled=true",
        *[o.replace("=0.0", "=6.0") for o in NO_ATTRITION],
        "people.turnover.hiring_lag_days=20.0",
        'people.turnover.open_deals="lose"',
        "structures.allin.generalists=4",
        "structures.two_party.closers=3",
    )
    result = simulate(sc)
    leads = result.leads
    for structure, df in leads.groupby("structure", observed=True):
        counts = df["outcome"].value_counts()
        assert counts.sum() == len(df) == counts["won"] + counts["lost"] + counts["open"]
        left = df[df["lost_reason"] == "rep_left"]
        assert (left["outcome"] == "lost").all()
        if structure in ("allin", "two_party"):
            assert len(left) > 0, structure
        else:
            # Pooled teams own no leads: a leaver finishes the task in hand, nothing is lost.
            assert len(left) == 0, structure
    reassigned = simulate(sc.replace(['people.turnover.open_deals="reassign"']))
    assert not (reassigned.leads["lost_reason"] == "rep_left").any()
    reps = reassigned.reps
    assert reps["left"].sum() > 0 and reps["hired"].sum() > 0


def test_pay_and_cost_by_hand():
    sc = scenario(
        "horizon_days=365.0",
        "money.commission_rate=0.1",
        "money.accelerator=2.0",
        "money.salary_closer=100000.0",
        "money.salary_lead_gen=50000.0",
        "money.bonus_lead_gen=10000.0",
        "money.manager_span=8",
        "money.salary_manager=150000.0",
        "money.bonus_manager=20000.0",
        "money.overhead_per_head=10000.0",
        "money.hiring_cost=5000.0",
        "money.onboarding_cost=1000.0",
    )
    reps = pd.DataFrame(
        {
            "structure": ["conveyor"] * 3,
            "replication": [0] * 3,
            "team": ["closer", "lead_gen", "lead_gen"],
            "period": [0] * 3,
            "rep_id": [0, 1, 1],
            "person_id": [0, 1, 2],
            "role": ["closer", "lead_gen", "lead_gen"],
            "level": ["mid", "mid", "mid"],
            "period_start_day": [0.0, 0.0, 0.0],
            "period_end_day": [365.0] * 3,
            "days_present": [365.0, 182.5, 146.0],
            "hired": [False, False, True],
            # Closer: 300k of bookings against a 200k quota. Lead gen: 150 % and 50 %.
            "credit": [300_000.0, 75.0, 20.0],
            "quota": [200_000.0, 50.0, 40.0],
            "attainment": [1.5, 1.5, 0.5],
        }
    )
    pay = money.rep_pay(reps, sc)
    # Closer: 10 % of 200k + 2 x 10 % of the 100k above quota = 40k.
    # Lead gen: 10k a year on target, half a year at 150 % (100 % + 2 x 50 %) = 10k;
    # 0.4 of a year at 50 % = 2k.
    assert pay["variable_pay"].tolist() == pytest.approx([40_000.0, 10_000.0, 2_000.0])
    assert pay["base_pay"].tolist() == pytest.approx([100_000.0, 25_000.0, 20_000.0])
    cost = money.team_cost(reps, sc)
    assert cost["salary_cost"] == pytest.approx(145_000.0)
    assert cost["commission_cost"] == pytest.approx(40_000.0)
    assert cost["bonus_cost"] == pytest.approx(12_000.0)
    # One manager (2 seats, span 8): base + bonus at the mean attainment of the rows that
    # count (present at least half the period: not the hire's 146 days), 1.5.
    assert cost["manager_cost"] == pytest.approx(150_000.0 + 20_000.0 * 1.5)
    # Overhead for 1 + 0.5 + 0.4 rep-years and one manager-year; one hire.
    assert cost["overhead_cost"] == pytest.approx(10_000.0 * 2.9)
    assert cost["hiring_cost"] == pytest.approx(6_000.0)
    gross = money.rep_pay(reps, sc.replace(['money.commission_basis="gross_margin"']))
    assert gross["variable_pay"][0] == pytest.approx(40_000.0 * sc.money.gross_margin)
    # Paid on team results: both lead-gen people count at the team's 95 / 90 of quota,
    # each on their own quota and time; the lone closer's team is the closer.
    team = money.rep_pay(reps, sc.replace(['structures.conveyor.commission="team"']))
    earned = 1.0 + 2.0 * (95.0 / 90.0 - 1.0)
    assert team["variable_pay"].tolist() == pytest.approx(
        [40_000.0, 10_000.0 * 0.5 * earned, 10_000.0 * 0.4 * earned]
    )


def test_quota_attainment_in_the_rep_table():
    # One closer, quota 3,650 a year: 10 a day; each won lead books 1,000.
    sc = scenario("horizon_days=100.0", "quotas.period_days=50.0", "quotas.roles.closer=3650.0")
    reps = run("conveyor", hand_leads([0.0, 1.0, 60.0]), sc).reps
    closer = reps[reps["role"] == "closer"].set_index("period")
    # Wins at day 6 and 9 fall in period 0, the third in period 1; quotas 500 each.
    assert closer["bookings"].tolist() == [2000.0, 1000.0]
    assert closer["quota"].tolist() == pytest.approx([500.0, 500.0])
    assert closer["attainment"].tolist() == pytest.approx([4.0, 2.0])
    lead_gen = reps[reps["role"] == "lead_gen"].set_index("period")
    assert lead_gen["credit"].tolist() == [2.0, 1.0]  # passed leads


def test_ramp_and_attrition_give_the_renewal_theory_mean_ramp_factor():
    # Every person ramps linearly from 0.3 to 1 over
    # T = 100 days and stays an exponential time X (mean 365 days). Per person present,
    # the time-average ramp factor is 1 - E[integral of (1 - p(t)) over [0, X]] / E[X],
    # with E[integral] = integral over [0, T] of 0.7 (1 - t / T) P(X > t) dt. (Day-0 reps
    # start part-way through the ramp: about 1 person in 9 per seat, a bias below 0.005.)
    sc = _turnover_scenario(
        "people.ramp.enabled=true",
        "people.ramp.initial_ramped_share=0.0",
        *[o.replace("=0.0", "=100.0") for o in NO_RAMP_DAYS],
    )
    result = simulate(sc, ["conveyor"])
    kpis = kpi_values.run_kpis(result.leads, result.reps, sc).iloc[0]
    t = np.linspace(0.0, 100.0, 100_001)
    deficit = np.trapezoid(0.7 * (1.0 - t / 100.0) * np.exp(-t / 365.0), t)
    assert kpis["mean_ramp_factor"] == pytest.approx(1.0 - deficit / 365.0, abs=0.01)


def test_ramping_seats_are_spread_over_the_structure_not_rounded_per_team():
    # A quarter of 12 seats ramp, whatever the team sizes: seats 3, 7 and 11.
    tenures = [initial_tenure(seat, 100.0, 0.75) for seat in range(12)]
    assert [seat for seat, t in enumerate(tenures) if t < 100.0] == [3, 7, 11]
    assert tenures[3] == 0.0 and 0.0 < tenures[7] < 100.0
    assert all(initial_tenure(seat, 100.0, 1.0) == 100.0 for seat in range(12))
    assert all(initial_tenure(seat, 100.0, 0.0) < 100.0 for seat in range(12))


def test_a_seats_turnover_luck_depends_on_its_role_and_number_not_on_other_roles():
    # One more lead-gen rep renumbers every later seat, but each closer keeps its draws.
    def closers_left(lead_gen: int) -> list:
        sc = _turnover_scenario(f"structures.conveyor.lead_gen={lead_gen}")
        reps = simulate(sc, ["conveyor"]).reps
        closers = reps[reps["role"] == "closer"].drop_duplicates("person_id")
        return sorted(closers["left_day"].dropna().round(9).tolist())

    assert closers_left(20) == closers_left(21)
