"""The claims scoreboard: built-in claims load, and verdicts follow the evidence."""

import pandas as pd
import pytest

from sim.analysis import kpi_values
from sim.analysis.claims import Claim, load_claims, score_claims
from sim.config.scenario import ScenarioError
from sim.model.runner import simulate
from tests.builders import scenario


def _kpis(*overrides: str):
    sc = scenario("replications=4", "horizon_days=200.0", "leads.arrivals_per_day=2.0", *overrides)
    result = simulate(sc, ["allin", "conveyor"])
    return kpi_values.run_kpis(result.leads, result.reps, sc)


def test_the_shipped_claims_load_and_name_known_kpis_or_say_they_are_untested():
    claims = load_claims()
    assert len(claims) >= 10
    kpis = _kpis()
    scored = score_claims(kpis, claims)
    assert list(scored["id"]) == [c.id for c in claims]
    for row in scored.itertuples():
        tested = row.kpi in kpis.columns and {row.structure, row.versus} <= {"allin", "conveyor"}
        # A claim with a condition is untested without the scenario to check it against.
        tested = tested and not row.condition and (not row.kpi_2 or row.kpi_2 in kpis.columns)
        assert (row.verdict != "not tested") == tested, row.id


def test_a_claim_built_to_hold_holds_and_its_opposite_does_not():
    # Half of all handoffs drop the lead: the Conveyor (three relays) must lose more leads
    # in relays than All-In (none).
    kpis = _kpis(
        "structures.conveyor.handoff.drop_prob=0.5",
        "structures.conveyor.lead_gen=3",
        "structures.conveyor.qualifiers=3",
        "structures.conveyor.closers=3",
        "structures.allin.generalists=6",
    )
    line_loss = Claim(
        id="line_loss",
        claim="the conveyor loses leads in relays",
        kpi="lost_dropped_in_handoff",
        structure="conveyor",
        versus="allin",
        expect="higher",
    )
    opposite = line_loss.model_copy(update={"id": "opposite", "expect": "lower"})
    above = Claim(
        id="above",
        claim="the conveyor drops more than 5 leads",
        kpi="lost_dropped_in_handoff",
        structure="conveyor",
        threshold=5.0,
        expect="higher",
    )
    scored = score_claims(kpis, (line_loss, opposite, above)).set_index("id")
    assert scored.loc["line_loss", "verdict"] == "holds"
    assert scored.loc["opposite", "verdict"] == "does not hold"
    assert scored.loc["above", "verdict"] == "holds"
    assert scored.loc["line_loss", "ci_low"] > 0


def test_a_claim_with_no_difference_is_not_significant():
    # No handoff costs and ample capacity: nothing is dropped anywhere.
    kpis = _kpis("structures.allin.generalists=20", "structures.conveyor.closers=10")
    equal = Claim(
        id="equal",
        claim="same",
        kpi="lost_dropped_in_handoff",
        structure="conveyor",
        versus="allin",
        expect="higher",
    )
    scored = score_claims(kpis, (equal,)).iloc[0]
    assert scored["difference"] == 0.0
    assert scored["verdict"] == "not significant"


def test_a_bad_claims_file_names_the_field(tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text('[[claims]]\nid = "x"\nclaim = "c"\nkpi = "k"\nstructure = "nowhere"\n')
    with pytest.raises(ScenarioError) as error:
        load_claims(path)
    text = str(error.value)
    assert "claims.toml: claims.0.structure" in text
    assert "claims.0.expect" in text


def _table(values: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """A hand-made per-run KPI table: {structure: {kpi: one value per replication}}."""
    rows = []
    for structure, kpis in values.items():
        for replication in range(len(next(iter(kpis.values())))):
            rows.append(
                {
                    "structure": structure,
                    "replication": replication,
                    **{k: v[replication] for k, v in kpis.items()},
                }
            )
    return pd.DataFrame(rows)


TRADE = Claim(
    id="trade",
    claim="faster but leakier",
    kind="trade_off",
    kpi="p50_days_to_close",
    expect="lower",
    kpi_2="lost_dropped_in_handoff",
    expect_2="higher",
    structure="conveyor",
    versus="allin",
)


@pytest.mark.parametrize(
    ("dropped", "verdict"),
    [
        ([5.0, 6.0, 7.0, 6.0, 5.5], "holds"),  # faster and leakier: both halves hold
        ([0.1, -0.1, 0.2, -0.2, 0.0], "not significant"),  # no loss difference
        ([-5.0, -6.0, -7.0, -6.0, -5.5], "does not hold"),  # faster and tighter
    ],
)
def test_a_trade_off_needs_both_halves(dropped, verdict):
    kpis = _table(
        {
            "allin": {
                "p50_days_to_close": [40, 42, 41, 43, 40],
                "lost_dropped_in_handoff": [0] * 5,
            },
            "conveyor": {
                "p50_days_to_close": [30, 31, 29, 32, 30],
                "lost_dropped_in_handoff": dropped,
            },
        }
    )
    row = score_claims(kpis, (TRADE,)).iloc[0]
    assert row["verdict"] == verdict
    assert row["difference"] == pytest.approx(30.4 - 41.2)
    assert row["difference_2"] == pytest.approx(sum(dropped) / 5)


def test_a_spread_claim_compares_p10_to_p90_ranges():
    claim = Claim(
        id="spread",
        claim="big win or big loss",
        kind="spread",
        kpi="profit",
        structure="two_party",
        versus="conveyor",
        expect="higher",
    )
    wild = [-100.0, 300.0, -200.0, 400.0, 0.0, 500.0, -300.0, 200.0, 100.0, -400.0]
    calm = [10.0, 12.0, 9.0, 11.0, 10.0, 13.0, 8.0, 10.0, 11.0, 9.0]
    kpis = _table({"two_party": {"profit": wild}, "conveyor": {"profit": calm}})
    row = score_claims(kpis, (claim,)).iloc[0]
    # numpy's linear percentiles of the ten values, by hand: wild P10 = -310, P90 = 410;
    # calm P10 = 8.9, P90 = 12.1.
    assert row["difference"] == pytest.approx((410 - -310) - (12.1 - 8.9))
    assert row["verdict"] == "holds" and row["ci_low"] > 0
    again = score_claims(kpis, (claim,)).iloc[0]
    assert (again["ci_low"], again["ci_high"]) == (row["ci_low"], row["ci_high"])
    narrower = claim.model_copy(update={"expect": "lower"})
    assert score_claims(kpis, (narrower,)).iloc[0]["verdict"] == "does not hold"


def test_a_claim_with_a_condition_is_tested_only_inside_it():
    kpis = _table({"allin": {"profit": [1.0, 2.0, 3.0]}, "pods": {"profit": [5.0, 6.5, 7.0]}})
    claim = Claim(
        id="scale",
        claim="pods at scale",
        kpi="profit",
        structure="pods",
        versus="allin",
        expect="higher",
        condition=({"path": "leads.arrivals_per_day", "at_least": 20},),
    )
    small = scenario("leads.arrivals_per_day=10.0")
    large = scenario("leads.arrivals_per_day=25.0")
    assert score_claims(kpis, (claim,), small).iloc[0]["verdict"] == "not tested"
    assert score_claims(kpis, (claim,)).iloc[0]["verdict"] == "not tested"
    scored = score_claims(kpis, (claim,), large).iloc[0]
    assert scored["verdict"] == "holds"
    assert scored["condition"] == "leads.arrivals_per_day >= 20"


def test_a_condition_on_a_switch_holds_only_when_it_is_on():
    kpis = _table({"conveyor": {"profit": [1.0, 2.0, 3.0]}, "pods": {"profit": [5.0, 6.5, 7.0]}})
    claim = Claim(
        id="versatile",
        claim="pods with versatility",
        kpi="profit",
        structure="pods",
        versus="conveyor",
        expect="higher",
        condition=({"path": "structures.pods.versatility.enabled", "equals": True},),
    )
    on = scenario("structures.pods.versatility.enabled=true")
    off = scenario("structures.pods.versatility.enabled=false")
    assert score_claims(kpis, (claim,), on).iloc[0]["verdict"] == "holds"
    assert score_claims(kpis, (claim,), off).iloc[0]["verdict"] == "not tested"
    assert score_claims(kpis, (claim,), on).iloc[0]["condition"] == (
        "structures.pods.versatility.enabled = true"
    )
    # A number is not a switch: 1 does not equal true.
    one = Claim(**{**claim.model_dump(), "condition": ({"path": "seed", "equals": True},)})
    assert score_claims(kpis, (one,), scenario("seed=1")).iloc[0]["verdict"] == "not tested"


def test_the_report_shows_input_claims_apart_from_mechanisms():
    from sim.reports.claims_section import claims_html

    claims = load_claims()
    kpis = _table({"allin": {"profit": [1.0, 2.0]}, "conveyor": {"profit": [2.0, 3.0]}})
    page = claims_html(score_claims(kpis, claims), {})
    mechanisms, inputs = page.split("<h3>Claims that restate an input</h3>")
    assert "<h3>Claims that test a mechanism</h3>" in mechanisms
    for claim in claims:
        assert (claim.claim in inputs) == (claim.tests == "input"), claim.id
    tests = {c.id: c.tests for c in claims}
    assert tests["pods_cheaper_handoffs"] == "input"  # restates team_relays.drop_factor
    assert tests["pods_segment_expertise"] == "mechanism"  # emerges from the learning curve


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "trade_off"}, "kpi_2 and expect_2 go with kind = 'trade_off'"),
        ({"kpi_2": "profit", "expect_2": "higher"}, "kpi_2 and expect_2 go with kind"),
        ({"kind": "spread", "versus": None, "threshold": 1.0}, "compares with versus"),
        ({"condition": ({"path": "seed"},)}, "a condition needs at_least, at_most or equals"),
        (
            {"condition": ({"path": "seed", "equals": True, "at_least": 1},)},
            "bounds or equals, not both",
        ),
    ],
)
def test_a_malformed_claim_is_refused(fields, message):
    base = {
        "id": "x",
        "claim": "c",
        "kpi": "profit",
        "structure": "pods",
        "versus": "allin",
        "expect": "higher",
    }
    with pytest.raises(ValueError, match=message):
        Claim.model_validate({**base, **fields})
