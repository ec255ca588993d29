"""Routing and priorities: senior routing, queue order, the open-deal cap, nurture."""

import dataclasses

import numpy as np
import pytest

from sim.analysis import kpi_values
from sim.analysis.funnel_tables import funnel_table
from sim.cli.main import main
from sim.config.scenario import ScenarioError
from sim.model.nurture import nurture_draws
from sim.model.seeding import replication_streams
from tests.builders import SMALL_TOML, hand_leads, run, scenario

KEY_TIER = (
    'leads.tiers=[{name = "standard", share = 1.0, senior_required = true, '
    "without_senior_pass_factor = 0.5}]"
)
# Two closers: seat 0 a junior, seat 1 a senior (``people.role_levels``).
JUNIOR_THEN_SENIOR = "people.levels.mix.closer={junior = 0.6, mid = 0.0, senior = 0.4}"


def _with(leads, **columns):
    """The stream with some per-lead columns replaced."""
    return dataclasses.replace(leads, **{k: np.asarray(v, dtype=float) for k, v in columns.items()})


def _column(df, name):
    return df.sort_values("lead_id")[name].tolist()


# --- queue order -------------------------------------------------------------------------


@pytest.mark.parametrize(("order", "second"), [("fifo", 1), ("value", 2)])
def test_a_pooled_team_serves_the_bigger_deal_first_under_value_priority(order, second):
    # One lead-gen rep busy with lead 0 over [0, 1]; leads 1 (worth 500) and 2 (3000)
    # wait. First come: lead 1 starts at 1.0 and lead 2 at 2.0; by value, the reverse.
    leads = _with(hand_leads([0.0, 0.1, 0.2]), deal_value=[1000.0, 500.0, 3000.0])
    sc = scenario(f'routing.priority.lead_gen="{order}"')
    starts = _column(run("conveyor", leads, sc).leads, "prospecting_start_day")
    assert starts[0] == 0.0
    assert starts[second] == 1.0
    assert starts[3 - second] == 2.0


def test_quality_priority_serves_the_likelier_lead_first():
    # Prospecting passes with 0.5 for an average lead; quality +1 lifts lead 2 above
    # lead 1 (quality -1), so lead 2 is worked first although it came later.
    leads = _with(hand_leads([0.0, 0.1, 0.2]), quality=[0.0, -1.0, 1.0])
    sc = scenario(
        'routing.priority.lead_gen="quality"',
        "leads.quality_weight=1.0",
        "stages.prospecting.pass_prob=0.5",
    )
    starts = _column(run("conveyor", leads, sc).leads, "prospecting_start_day")
    assert starts == [0.0, 2.0, 1.0]


# --- open-deal cap -------------------------------------------------------------------------


def test_a_lead_that_finds_every_rep_at_the_cap_waits_for_a_slot():
    # One generalist, at most two open deals. Leads 0 and 1 take the slots at 0.0 and
    # 0.1; lead 2 (0.2) waits. The rep works in request order: lead 0's stages end at
    # 1, 4 and 9 (1 + 2 + 3 days, lead 1's tasks in between), so lead 2 takes the
    # freed slot at 9.0 and queues behind lead 1's closing (requested at 6.0).
    leads = hand_leads([0.0, 0.1, 0.2])
    capped = run("allin", leads, scenario("routing.max_open_deals_per_rep=2")).leads
    assert _column(capped, "end_day")[0] == 9.0
    assert _column(capped, "prospecting_queue_day")[2] == 9.0
    assert _column(capped, "prospecting_start_day")[2] == 12.0
    assert _column(capped, "outcome") == ["won", "won", "won"]
    free = run("allin", leads, scenario()).leads
    assert _column(free, "prospecting_queue_day")[2] == pytest.approx(0.2)


def test_a_lead_that_gave_up_waiting_for_a_slot_leaves_it_to_the_next():
    # One generalist, one open deal. Lead 1 waits from 0.1 with 0.5 days of patience
    # and goes cold at 0.6; lead 2 waits from 0.2 with 50 days. Lead 0 is won at
    # 1 + 2 + 3 = 6.0, and its slot goes to lead 2, not to lead 1's abandoned place.
    leads = hand_leads([0.0, 0.1, 0.2], patience=[[100.0] * 3, [1.0] * 3, [100.0] * 3])
    sc = scenario("routing.max_open_deals_per_rep=1", "decay.mean_patience_days=0.5")
    df = run("allin", leads, sc).leads
    assert _column(df, "lost_reason")[1] == "went_cold"
    assert _column(df, "end_day")[1] == pytest.approx(0.6)
    assert _column(df, "prospecting_queue_day")[2] == 6.0
    assert _column(df, "outcome") == ["won", "lost", "won"]


def test_a_lead_that_finds_every_rep_full_goes_to_nurture_and_comes_back():
    # Lead 2 finds both slots taken at 0.2: nurture for 5 days (deterministic), back
    # at 5.2 still full, again, back at 10.2: lead 0 freed its slot at 9.0.
    full = (
        "routing.max_open_deals_per_rep=2",
        'routing.when_full="nurture"',
        "nurture.enabled=true",
        "nurture.mean_delay_days=5.0",
        'nurture.delay_distribution="deterministic"',
    )
    leads = hand_leads([0.0, 0.1, 0.2])
    back = run("allin", leads, scenario(*full, "nurture.return_prob=1.0")).leads
    assert _column(back, "prospecting_queue_day")[2] == pytest.approx(10.2)
    assert _column(back, "nurture_visits") == [0, 0, 2]
    assert _column(back, "nurture_returns") == [0, 0, 2]
    sc = scenario(*full, "nurture.return_prob=0.0")
    gone = run("allin", leads, sc).leads
    kpis = kpi_values.run_kpis(gone, run("allin", leads, sc).reps, sc).iloc[0]
    assert (kpis["leads_nurtured"], kpis["leads_back_from_nurture"]) == (1, 0)
    funnel = funnel_table(gone).set_index("point")
    assert funnel.loc["prospecting", "no_free_rep"] == 1
    assert _column(gone, "outcome")[2] == "lost"
    assert _column(gone, "lost_reason")[2] == "no_free_rep"
    assert _column(gone, "lost_at")[2] == "prospecting"
    assert _column(gone, "end_day")[2] == pytest.approx(0.2)


# --- nurture --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "start", "visits"), [("conveyor", 2.6, [0, 1]), ("allin", 3.0, [1, 2])]
)
def test_a_cold_lead_comes_back_from_nurture_after_patience_plus_delay(name, start, visits):
    # Lead 1 arrives at 0.1 while lead 0 holds the only rep until 1.0; its patience is
    # 0.5 days, so it goes cold at 0.6, and with a certain return after 2 days it
    # re-enters the prospecting queue at 0.1 + 0.5 + 2 = 2.6. The Conveyor's lead-gen
    # rep is free then; the All-In rep works lead 0's qualification until 1 + 2 = 3.
    # All-In goes on juggling: lead 0's closing, queued at 3.0 behind lead 1's
    # prospecting (3 to 4), goes cold at 3.5 and comes back at 5.5; lead 1's closing
    # goes cold once too (queued at 6.0 behind lead 0's, cold at 6.5, back at 8.5).
    sc = scenario(
        "decay.mean_patience_days=0.5",
        "nurture.enabled=true",
        "nurture.return_prob=1.0",
        "nurture.mean_delay_days=2.0",
        'nurture.delay_distribution="deterministic"',
    )
    df = run(name, hand_leads([0.0, 0.1]), sc).leads
    assert _column(df, "prospecting_queue_day")[1] == pytest.approx(2.6)
    assert _column(df, "prospecting_start_day")[1] == pytest.approx(start)
    assert _column(df, "nurture_visits") == visits
    assert _column(df, "nurture_returns") == visits
    assert _column(df, "outcome") == ["won", "won"]
    off = run(name, hand_leads([0.0, 0.1]), scenario("decay.mean_patience_days=0.5")).leads
    assert _column(off, "lost_reason")[1] == "went_cold"
    assert "nurture_visits" not in off.columns  # no column (no memory) when nurture is off
    assert "leads_nurtured" not in kpi_values.run_kpis(
        off, run(name, hand_leads([0.0]), sc).reps, sc
    )


def test_nurture_draws_are_the_leads_own_luck():
    seed = replication_streams(7, 0).leads
    assert nurture_draws(seed, (3,), 0) == nurture_draws(seed, (3,), 0)
    assert nurture_draws(seed, (3,), 0) != nurture_draws(seed, (3,), 1)
    assert nurture_draws(seed, (3,), 0) != nurture_draws(seed, (4,), 0)


def test_a_lead_meets_the_same_nurture_luck_in_every_structure():
    # A one-pod Pods is a Conveyor: with half the cold leads coming back after an
    # exponential delay, the same leads come back at the same days in both.
    sc = scenario(
        "leads.arrivals_per_day=3.0",
        "decay.mean_patience_days=0.5",
        "nurture.enabled=true",
        "nurture.return_prob=0.5",
        "nurture.mean_delay_days=10.0",
    )
    leads = hand_leads(list(np.linspace(0.0, 30.0, 90)))
    conveyor = run("conveyor", leads, sc).leads
    pods = run("pods", leads, sc).leads
    visits = _column(conveyor, "nurture_visits")
    assert sum(visits) > 10 and 0 < sum(_column(conveyor, "nurture_returns")) < sum(visits)
    for column in ("nurture_visits", "nurture_returns", "prospecting_queue_day", "outcome"):
        assert _column(conveyor, column) == _column(pods, column)


# --- senior routing -----------------------------------------------------------------------


def _senior_ids(result):
    reps = result.reps
    return set(reps.loc[(reps["role"] == "closer") & (reps["level"] == "senior"), "rep_id"])


def _closing_handlers(name, leads, *overrides):
    base = ("people.levels.enabled=true", JUNIOR_THEN_SENIOR, KEY_TIER)
    result = run(name, leads, scenario(*base, *overrides))
    return _column(result.leads, "closing_handler"), _senior_ids(result), result.leads


@pytest.mark.parametrize(("mode", "to_senior"), [("off", False), ("prefer", True)])
def test_a_pooled_team_gives_a_key_account_to_a_free_senior(mode, to_senior):
    # Two pooled closers both free: the longest idle (the junior, seat 0) would take
    # the lead; senior routing gives it to the senior.
    handlers, seniors, _ = _closing_handlers(
        "conveyor",
        hand_leads([0.0]),
        "structures.conveyor.closers=2",
        f'routing.senior_routing="{mode}"',
    )
    assert (handlers[0] in seniors) is to_senior


def test_an_owner_assigned_team_routes_key_accounts_to_a_senior_or_waits():
    # Two-Party, two closers (a junior and a senior), one open deal each at most.
    # The lead-gen rep is a junior (1.2 x effort): leads 0 and 1 reach the closers at
    # 1.2 and 2.4. A senior works at 0.9 x: lead 0's qualification and closing take
    # 1.8 and 2.7 days, so the senior frees its slot at 1.2 + 1.8 + 2.7 = 5.7.
    leads = hand_leads([0.0, 0.1])
    two = ("structures.two_party.closers=2", "routing.max_open_deals_per_rep=1")
    # prefer: lead 0 to the senior, lead 1 (senior full) to the junior.
    handlers, seniors, df = _closing_handlers(
        "two_party", leads, *two, 'routing.senior_routing="prefer"'
    )
    assert handlers[0] in seniors and handlers[1] not in seniors
    # wait: lead 1 waits from 2.4 for the senior, who closes lead 0 at 5.7.
    handlers, seniors, df = _closing_handlers(
        "two_party", leads, *two, 'routing.senior_routing="wait"'
    )
    assert handlers[0] in seniors and handlers[1] in seniors
    assert _column(df, "end_day")[0] == pytest.approx(5.7)
    assert _column(df, "qualification_queue_day")[1] == pytest.approx(5.7)
    # Without senior routing, least loaded: the two leads go to different closers.
    handlers, _, _ = _closing_handlers("two_party", leads, *two)
    assert handlers[0] != handlers[1]


@pytest.mark.parametrize(("mode", "to_senior"), [("off", False), ("prefer", True)])
def test_a_key_account_is_looked_after_by_a_senior_account_manager(mode, to_senior):
    # Two account managers, a junior (seat 0) and a senior; least loaded gives the
    # new account to seat 0 unless senior routing sends it to the senior.
    sc = scenario(
        "people.levels.enabled=true",
        "people.levels.mix.account_manager={junior = 0.6, mid = 0.0, senior = 0.4}",
        "structures.conveyor.account_managers=2",
        KEY_TIER,
        f'routing.senior_routing="{mode}"',
    )
    result = run("conveyor", hand_leads([0.0]), sc)
    reps = result.reps
    seniors = set(reps.loc[reps["level"] == "senior", "rep_id"])
    assert (result.leads["account_handler"][0] in seniors) is to_senior


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('routing.senior_routing="prefer"', "routing.senior_routing: needs a tier"),
        ('routing.when_full="nurture"', "routing.when_full: nurture applies only"),
        ("nurture.enabled=true", "nurture.enabled: no lead can go to nurture"),
        ("routing.max_open_deals_per_rep=0", "max_open_deals_per_rep"),
        ('routing.priority.closer="biggest"', "routing.priority.closer"),
        ("nurture.return_prob=1.5", "nurture.return_prob"),
    ],
)
def test_routing_settings_that_do_nothing_or_are_out_of_bounds_are_refused(setting, message):
    with pytest.raises(ScenarioError) as error:
        scenario(setting)
    assert message in str(error.value)


def test_the_command_line_names_each_routing_problem_on_a_line_and_runs_nothing(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(SMALL_TOML)
    out = tmp_path / "out"
    settings = ['routing.senior_routing="wait"', 'routing.when_full="nurture"']
    args = [arg for setting in settings for arg in ("--set", setting)]
    assert main(["simulate", str(path), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    # As every cross-field rule of a scenario, the problems share the file's line.
    assert err.startswith("tiny.toml: ") and "Traceback" not in err
    for problem in (
        "routing.senior_routing: needs a tier",
        "routing.when_full: nurture applies only with routing.max_open_deals_per_rep",
        "routing.when_full: nurture needs nurture.enabled = true",
    ):
        assert problem in err
    assert not out.exists()
