"""Order fulfilment (win to go-live), advocates and referral leads."""

import math
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.config.scenario import Scenario
from sim.model.lead_table import (
    DEAL_VALUE,
    EFFORT_UNIT,
    LAG_UNIT,
    PASS_PROB,
    lead_table,
    per_stage,
    referral_table,
)
from sim.model.leads import (
    LeadMix,
    draw_leads,
    generate_leads,
    referral_chances,
    referral_days,
)
from sim.model.referrals import Advocacy, draw_days_together
from sim.model.runner import simulate
from sim.model.seeding import replication_streams
from tests.builders import hand_leads, run, scenario

ROOT_SCENARIO = "scenarios/baseline.toml"
ROOMY_CONVEYOR = (
    "structures.conveyor.lead_gen=2",
    "structures.conveyor.qualifiers=3",
    "structures.conveyor.closers=4",
    "structures.conveyor.account_managers=2",
)


def test_go_live_waits_for_the_operations_team_first_come_first_served():
    sc = scenario(
        "fulfilment.enabled=true",
        "fulfilment.ops_staff=1",
        "fulfilment.mean_effort_days=5.0",
        "fulfilment.target_days=7.0",
    )
    leads = run("conveyor", hand_leads([0.0, 1.0, 2.0, 30.0]), sc).leads
    won = leads["end_day"].to_numpy()
    expected, free = [], 0.0
    for day in won:
        free = max(free, day) + 5.0  # one implementer, unit effort units in hand_leads
        expected.append(free)
    assert leads["go_live_day"].tolist() == pytest.approx(expected)
    # The account (its revenue and reviews) starts at go-live.
    assert leads["account_start_day"].tolist() == pytest.approx(expected)


def test_a_late_go_live_makes_the_first_renewal_shakier():
    # Churn 0.5 per review doubled by a late go-live: every late account churns at its
    # first review; of the others, some survive it.
    sc = scenario(
        "horizon_days=450.0",
        "accounts.contract_months=0",  # churn at the review itself, not at a renewal
        "accounts.churn_prob_per_review=0.5",
        "fulfilment.enabled=true",
        "fulfilment.ops_staff=1",
        "fulfilment.mean_effort_days=3.0",
        "fulfilment.target_days=10.0",
        "fulfilment.late_churn_multiplier=2.0",
        *ROOMY_CONVEYOR,
    )
    # Bursts of six leads every 20 days: the first of a burst go live in time, the last late.
    bursts = [float(d) for d in range(0, 300, 20) for _ in range(6)]
    leads = run("conveyor", hand_leads(bursts), sc).leads
    accounts = leads[leads["account_start_day"].notna()]
    late = (accounts["go_live_day"] - accounts["end_day"]) > 10.0
    first_review = accounts["account_start_day"] + sc.accounts.review_interval_days
    churned_first = accounts["account_end_day"].eq(first_review)
    assert late.sum() >= 10 and (~late).sum() >= 10
    assert churned_first[late].all()
    assert not churned_first[~late].all()


def test_well_served_accounts_become_advocates_after_enough_reviews():
    sc = scenario(
        "horizon_days=300.0",
        "referrals.enabled=true",
        "referrals.reviews_to_advocate=3",
        "referrals.per_advocate_per_year=0.0",
    )
    leads = run("conveyor", hand_leads([0.0, 5.0, 250.0]), sc).leads
    interval = sc.accounts.review_interval_days
    expected = leads["account_start_day"] + 3 * interval
    expected = expected.where(expected <= sc.horizon_days)
    pd.testing.assert_series_equal(leads["advocate_day"], expected, check_names=False)
    assert leads["advocate_at_end"].tolist() == [True, True, False]


def test_neglect_ends_advocacy_and_an_advocate_churns_less():
    # Advocates never churn (multiplier 0): every churn happens before advocacy.
    sc = scenario(
        "horizon_days=500.0",
        "accounts.contract_months=0",  # churn at the review itself, not at a renewal
        "accounts.churn_prob_per_review=0.1",
        "referrals.enabled=true",
        "referrals.reviews_to_advocate=2",
        "referrals.advocate_churn_multiplier=0.0",
        "referrals.per_advocate_per_year=0.0",
        *ROOMY_CONVEYOR,
    )
    leads = run("conveyor", hand_leads([float(d) for d in range(0, 300, 2)]), sc).leads
    churned = leads[leads["account_outcome"] == "churned"]
    assert len(churned) >= 10
    assert (
        churned["advocate_day"].isna() | (churned["account_end_day"] <= churned["advocate_day"])
    ).all()


def test_referral_leads_arrive_at_the_advocates_rate():
    rate = 0.5
    sc = scenario(
        "horizon_days=720.0",
        "referrals.enabled=true",
        "referrals.reviews_to_advocate=2",
        f"referrals.per_advocate_per_year={rate}",
        *ROOMY_CONVEYOR,
    )
    leads = generate_leads(sc, np.random.default_rng(replication_streams(sc.seed, 0).leads))
    df = run("conveyor", leads, sc).leads
    # No churn and no neglect: an advocate stays one until the horizon.
    advocate_years = (sc.horizon_days - df["advocate_day"].dropna()).sum() / 365.0
    expected = rate * advocate_years
    referrals = int((df["referred_by"] >= 0).sum())
    assert expected > 100
    assert abs(referrals - expected) < 4 * math.sqrt(expected)
    # Referral leads are appended after the lead stream, each referred by an advocate.
    referral = df[df["referred_by"] >= 0]
    assert (referral["lead_id"] >= len(leads)).all()
    referrer_advocate = df.set_index("lead_id").loc[referral["referred_by"], "advocate_day"]
    assert (referrer_advocate.to_numpy() <= referral["arrival_day"].to_numpy()).all()


def test_referral_leads_convert_better_and_move_faster():
    sc = scenario("referrals.enabled=true", "stages.qualification.pass_prob=0.5")
    chances = referral_chances(sc, 10.0, np.random.default_rng(3))
    assert len(chances) > 0
    organic = lead_table(chances, sc)[0].tolist()
    row = referral_table(chances, sc)[0].tolist()
    qualification = PASS_PROB + 1
    assert row[qualification] == pytest.approx(min(1.0, 0.5 * sc.referrals.pass_prob_factor))
    for field in (EFFORT_UNIT, LAG_UNIT):
        units = per_stage(field)
        assert row[units] == pytest.approx([u * sc.referrals.cycle_factor for u in organic[units]])
    assert row[DEAL_VALUE:] == organic[DEAL_VALUE:]


def test_prospects_drawn_when_the_first_referral_comes_are_those_drawn_at_once():
    # Advocacy draws the chances' days first and their prospects when one becomes a lead.
    sc = scenario("referrals.enabled=true")
    at_once = referral_chances(sc, 10.0, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    days = referral_days(sc, 10.0, rng)
    np.random.default_rng(99).random(5)  # other generators drawing meanwhile change nothing
    later = draw_leads(sc, days, rng)
    assert len(at_once) > 1
    assert np.array_equal(referral_table(at_once, sc), referral_table(later, sc))
    assert np.array_equal(at_once.arrival_day, later.arrival_day)
    assert np.array_equal(at_once.segment, later.segment)


def advocacies(seed: int) -> Callable[[int, int], Advocacy]:
    """A maker of ``Advocacy`` objects (lead, streak) on the parts of a run they read."""
    sc = scenario(
        "referrals.enabled=true",
        "referrals.reviews_to_advocate=3",
        "referrals.per_advocate_per_year=20.0",
    )
    book = SimpleNamespace(
        seed=replication_streams(seed, 0).accounts, referrals=sc.referrals, prospects_due=[]
    )
    leads = SimpleNamespace(scenario=sc, key=lambda lead: (lead,), mix=LeadMix.of(sc))
    run_parts = SimpleNamespace(accounts=book, leads=leads)

    def advocacy(lead: int, streak: int) -> Advocacy:
        made = Advocacy(run_parts, lead)
        made.streak = streak
        return made

    return advocacy


def test_advocates_and_accounts_one_review_short_draw_their_days_together():
    """A new advocate draws the days of the candidates still one review short; the same days."""
    advocacy = advocacies(5)
    still, fell_back, drawn = advocacy(1, 2), advocacy(2, 0), advocacy(3, 2)
    drawn.days = [7.0]
    candidates = [still, fell_back, drawn]
    new = advocacy(4, 3)
    draw_days_together(candidates, new)
    assert candidates == []
    assert fell_back.days is None and drawn.days == [7.0]
    for made in (new, still):
        alone = advocacy(made.lead, 0)
        alone.draw_days()
        assert made.days == alone.days and len(made.days) > 0
        # The generator goes on where it was: the prospects drawn later are the same.
        assert made.rng.random() == alone.rng.random()


def test_advocates_with_chances_due_draw_their_prospects_together():
    """The first chance taken draws the prospects of every advocate noted; each its own."""
    advocacy = advocacies(6)
    first, noted, unnoted = (advocacy(lead, 3) for lead in (1, 2, 3))
    for made in (first, noted, unnoted):
        made.draw_days()
    due = first.run.accounts.prospects_due
    due.append(noted)
    taken = first.chance(0)
    assert due == [] and noted.chances is not None and unnoted.chances is None
    for made in (first, noted):
        alone = advocacy(made.lead, 3)
        alone.draw_days()
        alone.draw_prospects()
        assert [c.row for c in made.chances] == [c.row for c in alone.chances]
        assert [c.day for c in made.chances] == alone.days == made.days
    assert taken is first.chances[0]


def test_the_same_advocate_refers_the_same_prospects_in_every_structure():
    sc = Scenario.from_file(
        ROOT_SCENARIO,
        [
            "replications=1",
            "referrals.enabled=true",
            "referrals.per_advocate_per_year=3.0",
            "referrals.reviews_to_advocate=1",
        ],
    )
    leads = simulate(sc).leads
    n_organic = int((leads["referred_by"] < 0).sum() / leads["structure"].nunique())
    first_generation = leads[(leads["referred_by"] >= 0) & (leads["referred_by"] < n_organic)]
    keyed = first_generation.set_index(["referred_by", "arrival_day"])
    by_structure = {s: g["deal_value"] for s, g in keyed.groupby("structure", observed=True)}
    pairs = 0
    structures = list(by_structure)
    for a in structures:
        for b in structures:
            common = by_structure[a].index.intersection(by_structure[b].index)
            pairs += len(common) if a != b else 0
            assert (by_structure[a][common] == by_structure[b][common]).all()
    assert pairs > 0


def _without_columns(tables, columns):
    return tables.leads.drop(columns=columns), tables.reps, tables.samples


@pytest.mark.parametrize(
    "neutral",
    [
        # Advocacy is tracked at every review, but advocates neither refer nor churn less.
        [
            "referrals.enabled=true",
            "referrals.per_advocate_per_year=0.0",
            "referrals.advocate_churn_multiplier=1.0",
        ],
        # Every win goes through the operations team, which takes no time.
        [
            "fulfilment.enabled=true",
            "fulfilment.mean_effort_days=0.0",
            "fulfilment.ops_staff=10000",
        ],
    ],
    ids=["referrals", "fulfilment"],
)
def test_switched_on_but_neutral_customer_effects_reproduce_the_model_exactly(neutral):
    base = Scenario.from_file(
        ROOT_SCENARIO,
        [
            "replications=1",
            "horizon_days=200",
            "referrals.enabled=false",
            "fulfilment.enabled=false",
        ],
    )
    off, on = simulate(base), simulate(base.replace(neutral))
    extra = ["go_live_day", "advocate_day", "advocate_at_end"]
    for a, b in zip(_without_columns(off, extra), _without_columns(on, extra), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
