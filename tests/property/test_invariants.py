"""Invariants that hold for any valid scenario, checked on random ones."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis import kpi_values
from sim.config.scenario import STAGES, Scenario, ScenarioError, apply_overrides
from sim.model.runner import simulate
from tests.strategies import BAD_VALUES, scenarios


@pytest.mark.integration  # over 20 s of CPU: make test stays under 4 minutes
@given(scenarios())
def test_every_lead_ends_exactly_one_way_and_counts_add_up(sc):
    result = simulate(sc)
    df = result.leads
    for _, one in df.groupby("structure", observed=True):
        counts = one["outcome"].value_counts()
        assert counts.sum() == len(one) == one["lead_id"].nunique()
    won = df["outcome"] == "won"
    lost = df["outcome"] == "lost"
    open_ = df["outcome"] == "open"
    assert (df.loc[won, "lost_reason"] == "").all() and df.loc[
        won, "closing_done_day"
    ].notna().all()
    assert (df.loc[lost, "lost_reason"] != "").all() and (df.loc[lost, "lost_at"] != "").all()
    assert (
        df.loc[open_, "end_day"].isna().all()
        and (df.loc[~open_, "end_day"] <= sc.horizon_days).all()
    )
    kpis = kpi_values.run_kpis(df, result.reps, sc)
    for row in kpis.itertuples():
        assert row.leads_in == row.won + row.lost + row.open
        assert row.lost == (
            row.lost_failed + row.lost_dropped_in_handoff + row.lost_went_cold + row.lost_rep_left
        )


@pytest.mark.integration  # over 20 s of CPU: make test stays under 4 minutes
@given(scenarios())
def test_stage_timestamps_never_decrease(sc):
    df = simulate(sc).leads
    columns = ["arrival_day"] + [
        f"{s}_{w}" for s in STAGES for w in ("queue_day", "start_day", "end_day", "done_day")
    ]
    times = df[columns].to_numpy()
    for row in times:
        seen = row[~np.isnan(row)]
        assert (np.diff(seen) >= -1e-9).all(), row
    ended = df["end_day"].notna()
    last = np.nanmax(times, axis=1)
    assert (df.loc[ended, "end_day"].to_numpy() >= last[ended.to_numpy()] - 1e-9).all()
    accounts = df["account_start_day"].notna()
    assert (df.loc[accounts, "account_start_day"] >= df.loc[accounts, "end_day"]).all()
    live = df["go_live_day"].notna()
    assert (df.loc[live, "go_live_day"] >= df.loc[live, "end_day"]).all()
    # A referral arrives after its referrer became an advocate (and was won).
    referral = df[df["referred_by"] >= 0]
    for (structure, replication), one in referral.groupby(
        ["structure", "replication"], observed=True
    ):
        same = df[(df["structure"] == structure) & (df["replication"] == replication)]
        advocate_day = same.set_index("lead_id").loc[one["referred_by"], "advocate_day"]
        assert (advocate_day.to_numpy() <= one["arrival_day"].to_numpy()).all()


@pytest.mark.integration  # over 20 s of CPU: make test stays under 4 minutes
@given(scenarios(), st.booleans())
def test_reps_are_never_busier_than_the_window(sc, calendar):
    if calendar:  # a five-day week with leave: busy and present in working time
        sc = sc.replace(["calendar.enabled=true", "calendar.leave_days_per_year=10"])
    reps = simulate(sc).reps
    # Per person and quota period: busy only while present, and only inside the window.
    assert (reps["busy_days"] >= 0).all()
    assert (reps["busy_days"] <= reps["window_working_days"] + 1e-9).all()
    # At most one working day per calendar day (a part day at each end).
    assert (reps["window_working_days"] <= reps["window_days_present"] + 1 + 1e-9).all()
    assert (reps["window_days_present"] <= reps["days_present"] + 1e-9).all()
    assert (reps["days_present"] <= sc.quotas.period_days + 1e-9).all()


@pytest.mark.integration  # over 20 s of CPU: make test stays under 4 minutes
@given(scenarios(), st.integers(0, 3))
def test_same_seed_same_tables(sc, replication):
    sc = sc.replace([f"replications={replication + 1}"])
    first, second = simulate(sc), simulate(sc)
    pd.testing.assert_frame_equal(first.leads, second.leads)
    pd.testing.assert_frame_equal(first.reps, second.reps)
    pd.testing.assert_frame_equal(first.samples, second.samples)


@given(scenarios())
def test_every_structure_sees_the_identical_lead_stream(sc):
    sc = sc.replace(["replications=2"])
    df = simulate(sc).leads
    lead_columns = [
        "replication",
        "lead_id",
        "arrival_day",
        "segment",
        "tier",
        "deal_value",
        "quality",
    ]
    # The lead stream's leads; referral leads depend on how each structure serves customers.
    stream = df[df["referred_by"] < 0]
    views = [
        one[lead_columns].reset_index(drop=True)
        for _, one in stream.groupby("structure", observed=True)
    ]
    assert len(views) == 4
    for view in views[1:]:
        pd.testing.assert_frame_equal(views[0], view)
    # ... and replications are different draws.
    by_rep = [one for _, one in df[df["structure"] == "conveyor"].groupby("replication")]
    assert (
        not by_rep[0]["arrival_day"]
        .reset_index(drop=True)
        .equals(by_rep[1]["arrival_day"].reset_index(drop=True))
    )


@given(scenarios(), st.sampled_from(BAD_VALUES))
def test_invalid_values_are_rejected_naming_the_field(sc, bad):
    path, value = bad
    raw = apply_overrides(sc.model_dump(mode="json"), [], "x")
    node = raw
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(raw, "prop.toml")
    assert any(line.startswith(f"prop.toml: {path}") for line in info.value.problems), (
        info.value.problems
    )
    assert isinstance(info.value, ValueError)
