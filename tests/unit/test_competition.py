"""Competition: a competitor decides contested leads; market share over time."""

import numpy as np
import pandas as pd
import pytest

from sim.analysis import kpi_values, over_time
from sim.config.scenario import Scenario, without_sales_effects
from sim.model.runner import simulate
from tests.builders import event_log, hand_leads, run, scenario


def test_a_lead_not_closed_before_the_competitor_decides_is_lost_to_it():
    # Conveyor, one rep per role, efforts 1/2/3 days: lead 0 is won at day 6, lead 1
    # queues behind it and would be won at day 9. The competitor decides lead 1 at day 5
    # (arrival 0.5 + 4.5): we learn it when its qualification is done (day 5).
    sc = scenario("competition.enabled=true", "competition.mean_decision_days=1.0")
    leads = hand_leads([0.0, 0.5])
    leads = type(leads)(
        **{
            **leads.__dict__,
            "contest_u": np.array([0.5, 0.5]),
            "competitor_units": np.array([100.0, 4.5]),
        }
    )
    df = run("conveyor", leads, sc).leads
    assert event_log(df)[-1] == (1, "lost", "qualification", "lost_to_competitor", 5.0)
    assert df["outcome"].tolist() == ["won", "lost"]
    uncontested = sc.replace(["competition.contested_share=0.4"])  # 0.5 >= 0.4: not contested
    assert run("conveyor", leads, uncontested).leads["outcome"].tolist() == ["won", "won"]


def test_a_competitor_that_never_decides_changes_nothing_and_leaves_us_every_deal():
    base = Scenario.from_file("scenarios/baseline.toml", ["horizon_days=200", "replications=1"])
    off = simulate(base.replace(["competition.enabled=false"]))
    never = simulate(base.replace(["competition.enabled=true", "competition.contested_share=0.0"]))
    pd.testing.assert_frame_equal(off.leads, never.leads)
    kpis = kpi_values.run_kpis(never.leads, never.reps, base)
    assert (kpis["market_share"] == 1.0).all()
    assert (kpis["lost_to_competitor"] == 0).all()


def test_market_share_over_time_and_its_trend():
    sc = scenario("horizon_days=90.0")
    rows = []
    # Replication 0: share 1.0 in month 1, 0.5 in month 2, 0.0 in month 3.
    for day, outcome, reason in [
        (10.0, "won", ""),
        (40.0, "won", ""),
        (45.0, "lost", "lost_to_competitor"),
        (70.0, "lost", "lost_to_competitor"),
        (75.0, "lost", "failed"),  # not decided by the market
    ]:
        rows.append({"end_day": day, "outcome": outcome, "lost_reason": reason})
    leads = pd.DataFrame(rows).assign(structure="conveyor", replication=0)
    leads["structure"] = pd.Categorical(leads["structure"])
    table = over_time.market_share_over_time(leads, sc)
    assert table["market_share"].tolist() == [1.0, 0.5, 0.0]
    # Falls by 0.5 every 30 days: -0.5 * 365 / 30 per year.
    assert over_time.market_share_trend(leads, sc) == pytest.approx(-0.5 * 365 / 30)


def test_without_sales_effects_switches_the_competitor_off():
    sc = scenario("competition.enabled=true")
    assert not without_sales_effects(sc).competition.enabled
