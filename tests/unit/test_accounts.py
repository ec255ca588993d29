"""Accounts: churn, expansion, revenue recognition, review work."""

from array import array
from types import SimpleNamespace

import pytest

from sim.model.accounts import account_draws, review_draws
from sim.model.seeding import keyed_rng, replication_streams
from tests.builders import hand_leads, run, scenario


def test_revenue_accrues_daily_until_the_horizon():
    df = run("conveyor", hand_leads([0.0]), scenario()).leads
    assert df["account_start_day"].tolist() == [6.0]
    assert df["account_outcome"].tolist() == ["active"]
    assert df["revenue"].iloc[0] == pytest.approx(1000.0 * (100.0 - 6.0) / 365.0)


NO_CONTRACT = "accounts.contract_months=0"
"""The model before contracts: churn and expansion at each review, a dropped customer lost."""


def test_without_contracts_certain_churn_happens_at_the_first_review():
    sc = scenario(NO_CONTRACT, "accounts.churn_prob_per_review=1.0")
    df = run("conveyor", hand_leads([0.0]), sc).leads
    assert df["account_outcome"].tolist() == ["churned"]
    assert df["account_end_day"].tolist() == [36.0]
    assert df["revenue"].iloc[0] == pytest.approx(1000.0 * 30.0 / 365.0)


def test_a_twelve_month_contract_never_churns_before_its_renewal():
    # Won and handed over at day 6; the first review (day 36) decides to leave,
    # the contract bills to its renewal at 6 + 365 = 371, then the customer leaves.
    sc = scenario("accounts.churn_prob_per_review=1.0", "horizon_days=500.0")
    df = run("conveyor", hand_leads([0.0]), sc).leads
    assert df["account_outcome"].tolist() == ["churned"]
    assert df["account_end_day"].tolist() == [371.0]
    assert df["revenue"].iloc[0] == pytest.approx(1000.0)  # one year at 1000 a year
    # A horizon before the renewal: the customer is still there, paying.
    early = run("conveyor", hand_leads([0.0]), sc.replace(["horizon_days=300.0"])).leads
    assert early["account_outcome"].tolist() == ["active"]
    assert early["revenue"].iloc[0] == pytest.approx(1000.0 * (300.0 - 6.0) / 365.0)


def test_without_contracts_expansion_raises_the_annual_value_at_each_review():
    sc = scenario(
        NO_CONTRACT, "accounts.expansion_prob_per_review=1.0", "accounts.expansion_fraction=0.5"
    )
    df = run("conveyor", hand_leads([0.0]), sc).leads
    # Reviews at days 36, 66, 96 each add 500 to the annual value of 1000.
    expected = (1000 * 30 + 1500 * 30 + 2000 * 30 + 2500 * 4) / 365.0
    assert df["revenue"].iloc[0] == pytest.approx(expected)
    assert df["account_value"].iloc[0] == 2500.0


def test_expansions_agreed_in_a_term_start_at_the_renewal():
    sc = scenario(
        "accounts.expansion_prob_per_review=1.0",
        "accounts.expansion_fraction=0.5",
        "horizon_days=700.0",
    )
    df = run("conveyor", hand_leads([0.0]), sc).leads
    # The twelve reviews of the first term (days 36 to 366) each agree 500 more;
    # all start at the renewal on day 371, those of the second term not before 736.
    assert df["account_value"].iloc[0] == 1000.0 + 12 * 500.0
    expected = 1000.0 * 365.0 / 365.0 + 7000.0 * (700.0 - 371.0) / 365.0
    assert df["revenue"].iloc[0] == pytest.approx(expected)


def test_without_contracts_an_account_dropped_in_the_handover_earns_nothing():
    sc = scenario(NO_CONTRACT, "structures.conveyor.handoff.drop_prob=0.5")
    leads = hand_leads([0.0], handoff_u=[[0.9, 0.9, 0.1]])
    df = run("conveyor", leads, sc).leads
    assert df["outcome"].tolist() == ["won"]
    assert df["account_outcome"].tolist() == ["dropped_in_handoff"]
    assert df["account_handover_dropped"].tolist() == [True]
    assert df["revenue"].tolist() == [0.0]


def test_under_a_contract_a_dropped_handover_bills_and_raises_the_first_churn_chance():
    sc = scenario(
        "structures.conveyor.handoff.to_account_management.drop_prob=1.0",
        "accounts.churn_prob_per_review=0.1",
        "accounts.dropped_handover_churn_multiplier=10.0",
        "horizon_days=500.0",
    )
    df = run("conveyor", hand_leads([0.0]), sc).leads
    assert df["account_handover_dropped"].tolist() == [True]
    assert df["account_start_day"].tolist() == [6.0]
    # Churn chance at the first review: 0.1 x 10 = 1, so the customer leaves at
    # the renewal (371) after paying the year.
    assert df["account_end_day"].tolist() == [371.0]
    assert df["revenue"].iloc[0] == pytest.approx(1000.0)


@pytest.mark.parametrize("priority", ["accounts_first", "fifo", "sales_first"])
def test_all_in_review_work_competes_with_sales_work(priority):
    # One generalist, prospecting takes 2 days: lead 0 is won at day 7, its first
    # review is due at 37 while lead 1 (arrived 36) is being prospected until 38;
    # lead 2 (arrived 36.5) waits from before the review, lead 3 (37.5) from after.
    # At 38 the rep serves the review first when accounts come first, after lead 2
    # in arrival order (fifo), and after both leads when sales come first.
    sc = scenario(
        "accounts.mean_review_effort_days=1.0",
        "stages.prospecting.mean_effort_days=2.0",
        f"accounts.review_priority='{priority}'",
    )
    tables = run("allin", hand_leads([0.0, 36.0, 36.5, 37.5]), sc)
    start = tables.leads["prospecting_start_day"].tolist()
    if priority == "accounts_first":
        assert start[2] > 38.0
    else:
        assert start[2] == 38.0
    if priority == "sales_first":
        assert start[3] == 40.0  # the review still waits
    else:
        assert start[3] > 40.0  # the review (effort drawn, > 0) went first
    assert tables.reps["reviews"].iloc[0] >= 3


def test_the_lone_wolf_hunts_first_by_default():
    assert scenario().accounts.review_priority == "sales_first"


def test_neglect_counts_reviews_that_waited_too_long():
    sc = scenario(
        "accounts.mean_review_effort_days=0.001",
        "accounts.neglect_after_days=0.5",
        "accounts.review_priority='fifo'",
        "stages.closing.mean_effort_days=30.0",
    )
    # Lead 0 is won at day 33 (1 + 2 + 30); lead 1 (arrived at 40) is in closing
    # from 43 to 73, so lead 0's review due at 63 waits 10 days: neglected. The
    # review at 93 finds the rep free.
    df = run("allin", hand_leads([0.0, 40.0]), sc).leads
    assert df["neglected_reviews"].tolist()[0] == 1


@pytest.mark.parametrize("reviews", [0, 1, 13])
def test_an_accounts_draws_are_its_keyed_generators_three_calls(reviews):
    """Drawn into one buffer, the draws are those of the three calls made one by one."""
    seed = replication_streams(7, 2).accounts
    churn_u, expand_u, effort_units = account_draws(seed, (41, 1), reviews)
    rng = keyed_rng(seed, 41, 1)
    assert list(churn_u) == rng.uniform(size=reviews).tolist()
    assert list(expand_u) == rng.uniform(size=reviews).tolist()
    assert list(effort_units) == rng.standard_exponential(reviews).tolist()
    assert all(isinstance(values, array) for values in (churn_u, expand_u, effort_units))


def test_accounts_due_a_first_review_draw_together_and_each_takes_its_own():
    """The first account to need its draws makes those of every account noted; each gets its own."""
    seed = replication_streams(7, 2).accounts
    noted = [(5, (5,), 3), (9, (41, 1, 2), 13), (12, (12,), 1)]
    book = SimpleNamespace(seed=seed, first_reviews=list(noted), review_draws={})
    own = {lead: account_draws(seed, key, reviews) for lead, key, reviews in noted}
    first = review_draws(book, 9, (41, 1, 2), 13)
    assert first == own[9]
    assert book.first_reviews == [] and sorted(book.review_draws) == [5, 12]  # made, not taken
    assert review_draws(book, 12, (12,), 1) == own[12]
    assert review_draws(book, 5, (5,), 3) == own[5]
    assert book.review_draws == {}
    # An account nobody noted draws alone, the same draws.
    assert review_draws(book, 30, (30,), 4) == account_draws(seed, (30,), 4)
