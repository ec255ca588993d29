"""The claims scoreboard: built-in claims load, and verdicts follow the evidence."""

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
