"""Key accounts: a tier that needs a senior at closing and in account care."""

import pytest

from tests.builders import hand_leads, run, scenario

KEY_TIER = (
    'leads.tiers=[{name = "standard", share = 1.0, senior_required = true, '
    "without_senior_pass_factor = 0.5, without_senior_churn_multiplier = 20.0}]"
)


def _closer_level(level: str) -> str:
    shares = {name: float(name == level) for name in ("junior", "mid", "senior")}
    return "people.levels.mix.closer={" + ", ".join(f"{k} = {v}" for k, v in shares.items()) + "}"


@pytest.mark.parametrize(
    ("level", "rule", "outcome"),
    [
        # A junior passes with 0.9 (level) x 0.5 (no senior) = 0.45 < 0.6: lost.
        ("junior", True, "lost"),
        # Without the rule the junior's 0.9 beats the lead's 0.6: won.
        ("junior", False, "won"),
        # A senior closes the key account at min(1, 1.08): won.
        ("senior", True, "won"),
    ],
)
def test_a_key_account_closed_without_a_senior_passes_less(level, rule, outcome):
    overrides = ["people.levels.enabled=true", _closer_level(level)]
    if rule:
        overrides.append(KEY_TIER)
    leads = hand_leads([0.0], pass_u=[[0.0, 0.0, 0.6]])
    df = run("conveyor", leads, scenario(*overrides)).leads
    assert df["outcome"].tolist() == [outcome]


def test_a_key_account_looked_after_without_a_senior_churns_more():
    # Churn 5 % a review x 20 without a senior = certain churn at the first review.
    sc = scenario(
        KEY_TIER,
        "people.levels.enabled=true",
        "people.levels.mix.account_manager={junior = 1.0, mid = 0.0, senior = 0.0}",
        "accounts.churn_prob_per_review=0.05",
        "accounts.contract_months=0",  # churn at the review itself, not at a renewal
        "horizon_days=200.0",
    )
    df = run("conveyor", hand_leads([0.0]), sc).leads
    assert df["account_outcome"].tolist() == ["churned"]
    assert df["account_end_day"][0] == pytest.approx(df["account_start_day"][0] + 30.0)
    # With people levels off there is no seniority and so no key-account rule.
    off = run("conveyor", hand_leads([0.0]), sc.replace(["people.levels.enabled=false"])).leads
    assert off["account_end_day"][0] != pytest.approx(off["account_start_day"][0] + 30.0)
