"""The quota rule: a seat's share of what the market offers, checked by hand and by sampling."""

import math

import numpy as np
import pytest

from sim.config import potential
from tests.builders import scenario

HAND = (
    "horizon_days=365.0",
    "leads.arrivals_per_day=2.0",
    "leads.mean_deal_value=10000.0",
    "stages.prospecting.pass_prob=0.5",
    "stages.qualification.pass_prob=0.4",
    "stages.closing.pass_prob=0.25",
    "structures.conveyor.lead_gen=2",
    "structures.conveyor.qualifiers=4",
    "structures.conveyor.closers=1",
    "structures.allin.generalists=5",
    "quotas.stage_realisation=0.8",
)


def test_the_rule_matches_a_hand_computed_conveyor():
    # 730 leads a year; half pass prospecting, a fifth qualification, 1 in 20 is won
    # at 10,000; each stage up to the credited one counts at 0.8.
    sc = scenario(*HAND)
    assert sc.quota("conveyor", "lead_gen") == pytest.approx(730 * 0.5 * 0.8 / 2)  # 146
    assert sc.quota("conveyor", "qualifier") == pytest.approx(730 * 0.2 * 0.8**2 / 4)  # 23.36
    assert sc.quota("conveyor", "closer") == pytest.approx(730 * 0.05 * 10_000 * 0.8**3)
    assert sc.quota("allin", "generalist") == pytest.approx(730 * 0.05 * 10_000 * 0.8**3 / 5)
    # Account managers carry the net-revenue-retention quota of [quotas.roles].
    assert sc.quota("conveyor", "account_manager") == 1.0
    # A structure without the role has no quota for it.
    assert sc.quota("allin", "closer") is None


def test_a_number_replaces_the_rule_and_a_structure_override_replaces_both():
    sc = scenario(*HAND, "quotas.roles.closer=5000.0", "structures.conveyor.quotas.closer=7000.0")
    assert sc.quota("conveyor", "closer") == 7000.0
    assert sc.quota("two_party", "closer") == 5000.0
    assert sc.quota("conveyor", "qualifier") == pytest.approx(23.36)
    assert scenario(*HAND, "quotas.roles.lead_gen=0.0").quota("conveyor", "lead_gen") == 0.0


def test_the_same_market_asks_the_same_of_every_structure():
    # Every structure's seats of a role share the same potential: quota x seats is equal.
    sc = scenario(*HAND, "structures.two_party.closers=3")
    per_structure = {
        name: sc.quota(name, "closer") * potential.seats(sc, name, "closer")
        for name in ("two_party", "conveyor", "pods")
    }
    assert len({round(v, 6) for v in per_structure.values()}) == 1
    assert sc.quota("allin", "generalist") * 5 == pytest.approx(per_structure["conveyor"])


def test_the_average_over_quality_matches_sampling():
    sc = scenario(
        "stages.prospecting.pass_prob=0.6",
        "stages.qualification.pass_prob=0.3",
        "stages.closing.pass_prob=0.2",
        "leads.quality_weight=1.2",
    )
    rng = np.random.default_rng(1)
    quality = rng.standard_normal(2_000_000)
    base = np.array([0.6, 0.3, 0.2])
    logit = np.log(base / (1 - base))
    shifted = 1 / (1 + np.exp(-(logit[None, :] + 1.2 * quality[:, None])))
    sampled = np.cumprod(shifted, axis=1).mean(axis=0)
    np.testing.assert_allclose(potential.reach_probabilities(sc), sampled, rtol=3e-3)
    # Quality makes the stages correlated: passing all three is likelier than the product.
    assert potential.reach_probabilities(sc)[2] > 0.6 * 0.3 * 0.2


def test_mean_deal_value_averages_the_mix_and_the_drift():
    sc = scenario(
        "leads.segments=[{name='a', share=0.75, share_at_end=0.25, value_multiplier=1.0}, "
        "{name='b', share=0.25, share_at_end=0.75, value_multiplier=3.0}]",
        "leads.tiers=[{name='s', share=0.75, value_multiplier=1.0}, "
        "{name='l', share=0.25, value_multiplier=5.0}]",
        "structures.pods.pods=[{name='p', segments=['a', 'b'], lead_gen=1, qualifiers=1, "
        "closers=1, account_managers=1}]",
    )
    # Segment b's share drifts from 25 % to 75 %: the multiplier averages 2; so do tiers.
    assert potential.mean_deal_value(sc) == pytest.approx(1000.0 * 2.0 * 2.0)


def test_seasonality_counts_in_leads_a_year():
    flat = scenario("horizon_days=365.0")
    seasonal = scenario("horizon_days=182.5", "leads.seasonality_amplitude=0.5")
    assert potential.organic_leads(flat) == pytest.approx(365.0)
    expected = 182.5 + 0.5 * math.sin(2 * math.pi * 182.5 / 365) / (2 * math.pi / 365)
    assert potential.organic_leads(seasonal) == pytest.approx(expected)
