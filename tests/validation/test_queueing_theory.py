"""With the sales effects off, the simulator must be a textbook queueing network.

DESIGN.md, "Ground truth": a single pooled stage with Poisson arrivals and
exponential effort is an M/M/c queue (Erlang C), a Conveyor is a Jackson
network, Little's law holds, the end-to-end conversion is the product of the
stage pass probabilities, and with ample capacity every structure converts like
a plain funnel calculation.

Every statistical check takes one number per replication (replications are
independent), builds a t confidence interval across replications and asserts
that the formula lies inside it. It also asserts that the interval is narrow,
so that a noisy or broken estimator cannot pass by being vague. The intervals
are at 99.9 % because one file makes a few dozen such checks; the formulas
come from ``theory.py``, written from the textbook definitions, not from ``sim``.

Seeds are fixed, so a run is reproducible; a check that fails after a change
of seed or size is a reason to look for a bug, not to pick another seed.

Each simulation fixture comes in two sizes: ``fast`` runs in ``make test``
(about 35 s on one core), ``slow`` (``-m slow``, part of ``make validate``)
runs about four times as many lead-days and demands intervals half as wide.

Time unit: days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.config.scenario import STAGES, STRUCTURES, Scenario, without_sales_effects
from sim.model.runner import SimulationResult, simulate

from .theory import (
    MMc,
    funnel_conversion,
    jackson_sojourn,
    t_interval,
    tandem_funnel,
    visit_probabilities,
)

CONFIDENCE = 0.999

ROLE_OF_STAGE = {"prospecting": "lead_gen", "qualification": "qualifier", "closing": "closer"}
"""Conveyor role working each stage."""


@dataclass(frozen=True)
class Size:
    """How much to simulate, and how narrow the intervals must then be.

    Attributes:
        replications: independent replications (the CI's sample size).
        horizon_days: simulated days per replication.
        warmup_days: leads arriving earlier are not measured (the queues start empty).
        margin_days: leads arriving within this of the horizon are not measured,
            so every measured lead has finished (checked, not assumed).
        wait_rel: largest allowed CI half-width of a mean wait, relative to theory,
            at a stage every lead visits (a stage visited by a share v of the leads
            sees fewer of them and may have 1 / sqrt(v) times as much).
        util_abs: largest allowed CI half-width of a utilisation.
    """

    replications: int
    horizon_days: float
    warmup_days: float
    margin_days: float
    wait_rel: float = math.nan
    util_abs: float = math.nan

    @property
    def window_days(self) -> float:
        """Arrival window of the measured leads."""
        return self.horizon_days - self.margin_days - self.warmup_days


def sized(fast: Size, slow: Size) -> list:
    """Fixture params: ``fast`` by default, ``slow`` behind the ``slow`` marker."""
    return [pytest.param(fast, id="fast"), pytest.param(slow, id="slow", marks=pytest.mark.slow)]


def check(label: str, values, theory: float, max_half_width: float) -> None:
    """The theory value lies in the CI of ``values`` (one per replication), and the CI is narrow."""
    ci = t_interval(values, CONFIDENCE)
    print(f"{label}: observed {ci}, theory {theory:.4f}")
    assert ci.contains(theory), f"{label}: theory {theory:.4f} outside the {CONFIDENCE:.1%} CI {ci}"
    assert ci.half_width <= max_half_width, (
        f"{label}: CI too wide to test anything: {ci} (allowed half-width {max_half_width:.4f})"
    )


def check_share(label: str, values, p: float, leads_per_replication: float) -> None:
    """Like ``check`` for a share of leads, allowing 1.5 times the binomial noise as half-width."""
    replications = len(values)
    t = stats.t.ppf(0.5 + CONFIDENCE / 2.0, replications - 1)
    binomial = t * math.sqrt(p * (1.0 - p) / (leads_per_replication * replications))
    check(label, values, p, 1.5 * binomial)


def check_funnel(
    structure: str, df: pd.DataFrame, leads_per_replication: float, pass_probs
) -> None:
    """End-to-end conversion is the product of the pass probabilities; stage k's is p_k."""
    won = (df["outcome"] == "won").astype(float)
    check_share(
        f"{structure} end-to-end conversion",
        per_replication(won, df),
        funnel_conversion(pass_probs),
        leads_per_replication,
    )
    for index, (stage, visits) in enumerate(
        zip(STAGES, visit_probabilities(pass_probs), strict=True)
    ):
        check_share(
            f"{structure} {stage} conversion",
            stage_conversion(df, index),
            pass_probs[index],
            leads_per_replication * visits,
        )


def stage_conversion(df: pd.DataFrame, index: int) -> pd.Series:
    """Per replication: share of the leads that entered a stage and went past it."""
    stage = STAGES[index]
    entered = df[df[f"{stage}_queue_day"].notna()]
    if index + 1 < len(STAGES):
        passed = entered[f"{STAGES[index + 1]}_queue_day"].notna()
    else:
        passed = entered["outcome"] == "won"
    return per_replication(passed.astype(float), entered)


def per_replication(series: pd.Series, frame: pd.DataFrame) -> pd.Series:
    """Mean of ``series`` within each replication of ``frame``."""
    return series.groupby(frame["replication"]).mean()


def measured(leads: pd.DataFrame, size: Size, structure: str = "conveyor") -> pd.DataFrame:
    """Leads of one structure that arrived after the warm-up and well before the horizon."""
    arrival = leads["arrival_day"]
    keep = (
        (leads["structure"] == structure)
        & (arrival >= size.warmup_days)
        & (arrival < size.horizon_days - size.margin_days)
    )
    return leads[keep]


def wait(df: pd.DataFrame, stage: str) -> pd.Series:
    return df[f"{stage}_start_day"] - df[f"{stage}_queue_day"]


def service(df: pd.DataFrame, stage: str) -> pd.Series:
    return df[f"{stage}_end_day"] - df[f"{stage}_start_day"]


def run(raw: dict) -> SimulationResult:
    return simulate(without_sales_effects(Scenario.from_dict(raw)))


def scenario_dict(
    name: str,
    size: Size,
    lam: float,
    pass_probs: tuple[float, float, float],
    efforts: tuple[float, float, float],
    structures: dict,
    seed: int,
    lags: tuple[float, float, float] = (0.0, 0.0, 0.0),
    **extra,
) -> dict:
    stages = {
        stage: {"pass_prob": p, "mean_effort_days": e, "mean_lag_days": lag}
        for stage, p, e, lag in zip(STAGES, pass_probs, efforts, lags, strict=True)
    }
    leads = {"arrivals_per_day": lam, "mean_deal_value": 10_000.0}
    leads.update(extra.pop("leads", {}))
    return {
        "name": name,
        "seed": seed,
        "replications": size.replications,
        "horizon_days": size.horizon_days,
        "warmup_days": size.warmup_days,
        "leads": leads,
        "stages": stages,
        # Won deals become accounts; with no review effort they cost no rep time, and
        # yearly reviews keep the account processes from dominating the run time.
        "accounts": {"review_interval_days": 365.0},
        "structures": structures,
        **extra,
    }


# --------------------------------------------------------------------------
# The oracle itself: theory.py against closed forms and an independent recursion.
# --------------------------------------------------------------------------


def erlang_c_by_erlang_b(c: int, a: float) -> float:
    """Erlang C from the Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)), B(0) = 1."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def test_erlang_c_matches_closed_forms():
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lam).
    q = MMc(lam=0.8, mu=1.0, c=1)
    assert q.prob_wait == pytest.approx(0.8)
    assert q.wq == pytest.approx(0.8 / 0.2)
    # M/M/2: P(wait) = 2 rho^2 / (1 + rho), Lq = 2 rho^3 / (1 - rho^2).
    q = MMc(lam=1.0, mu=1.0, c=2)
    assert q.prob_wait == pytest.approx(2 * 0.25 / 1.5)
    assert q.lq == pytest.approx(2 * 0.125 / 0.75)
    # M/M/3 with a = 2: P0 = 1/9, P(wait) = 4/9, Wq = (4/9) / (3 - 2).
    q = MMc(lam=2.0, mu=1.0, c=3)
    assert q.prob_wait == pytest.approx(4 / 9)
    assert q.wq == pytest.approx(4 / 9)
    assert q.w == pytest.approx(4 / 9 + 1.0)
    for c, a in [(1, 0.5), (3, 2.34), (4, 3.0), (10, 8.7), (200, 190.0)]:
        assert MMc(lam=a, mu=1.0, c=c).prob_wait == pytest.approx(erlang_c_by_erlang_b(c, a))
    with pytest.raises(ValueError):
        MMc(lam=3.0, mu=1.0, c=3)


def test_jackson_helpers():
    assert visit_probabilities([0.6, 0.5, 0.4]) == pytest.approx([1.0, 0.6, 0.3])
    assert funnel_conversion([0.6, 0.5, 0.4]) == pytest.approx(0.12)
    stations = tandem_funnel(3.0, [0.6, 0.5, 0.4], [1.0, 1.25, 1.0 / 0.6], [4, 3, 2])
    assert [s.lam for s in stations] == pytest.approx([3.0, 1.8, 0.9])
    assert [s.rho for s in stations] == pytest.approx([0.75, 0.75, 0.75])
    expected = stations[0].w + 0.6 * stations[1].w + 0.3 * stations[2].w
    assert jackson_sojourn([0.6, 0.5, 0.4], stations) == pytest.approx(expected)


def test_interval_covers_known_mean():
    # Coverage of the t interval on normal data, over many independent draws.
    rng = np.random.default_rng(1)
    hits = sum(t_interval(rng.normal(5.0, 2.0, 10), 0.9).contains(5.0) for _ in range(2000))
    assert 0.87 < hits / 2000 < 0.93


# --------------------------------------------------------------------------
# 1. One pooled stage is an M/M/c queue.
# --------------------------------------------------------------------------

SINGLE_LAM = 2.34  # leads per day
SINGLE_SERVERS = 3
SINGLE_EFFORT = 1.0  # days; rho = 2.34 / 3 = 0.78
SINGLE = MMc(SINGLE_LAM, 1.0 / SINGLE_EFFORT, SINGLE_SERVERS)


@pytest.fixture(
    scope="module",
    params=sized(
        Size(
            replications=20,
            horizon_days=2000,
            warmup_days=100,
            margin_days=30,
            wait_rel=0.25,
            util_abs=0.025,
        ),
        Size(
            replications=40,
            horizon_days=3650,
            warmup_days=100,
            margin_days=30,
            wait_rel=0.12,
            util_abs=0.012,
        ),
    ),
)
def single_stage(request):
    size: Size = request.param
    raw = scenario_dict(
        "mmc",
        size,
        lam=SINGLE_LAM,
        # Few leads go on, and plenty of qualifiers and closers serve them: the
        # later stages cost little run time and cannot feed back (they never do).
        pass_probs=(0.1, 0.5, 0.5),
        efforts=(SINGLE_EFFORT, 0.5, 0.5),
        structures={
            "conveyor": {
                "lead_gen": SINGLE_SERVERS,
                "qualifiers": 5,
                "closers": 5,
                "account_managers": 1,
            }
        },
        seed=20_240_601,
    )
    return size, run(raw)


def test_single_stage_wait_matches_erlang_c(single_stage):
    size, result = single_stage
    df = measured(result.leads, size)
    assert df["prospecting_start_day"].notna().all(), "a measured lead never started prospecting"
    check(
        "M/M/3 prospecting Wq",
        per_replication(wait(df, "prospecting"), df),
        SINGLE.wq,
        size.wait_rel * SINGLE.wq,
    )
    # The effort itself is what was configured (exponential with mean 1 / mu).
    check(
        "M/M/3 prospecting effort",
        per_replication(service(df, "prospecting"), df),
        SINGLE_EFFORT,
        0.05,
    )


def test_single_stage_share_that_waits_matches_erlang_c(single_stage):
    size, result = single_stage
    df = measured(result.leads, size)
    waited = (wait(df, "prospecting") > 0).astype(float)
    check("M/M/3 P(wait)", per_replication(waited, df), SINGLE.prob_wait, 2 * size.util_abs)


def test_single_stage_utilisation_matches_rho(single_stage):
    size, result = single_stage
    reps = result.reps[
        (result.reps["structure"] == "conveyor") & (result.reps["role"] == "lead_gen")
    ]
    assert (reps.groupby("replication")["rep_id"].nunique() == SINGLE_SERVERS).all()
    window = size.horizon_days - size.warmup_days
    utilisation = reps.groupby("replication")["busy_days"].sum() / (SINGLE_SERVERS * window)
    check("M/M/3 lead_gen utilisation", utilisation, SINGLE.rho, size.util_abs)


# --------------------------------------------------------------------------
# 2-4. A Conveyor is a Jackson network (tandem M/M/c with Bernoulli exits).
# --------------------------------------------------------------------------

NET_LAM = 3.0
NET_PASS = (0.6, 0.5, 0.4)
NET_EFFORT = (1.0, 1.25, 1.0 / 0.6)
# Customer lag: an infinite-server delay after the rep's work. It lengthens the
# journey but must not hold the rep, so the queues stay exactly M/M/c.
NET_LAG = (1.0, 2.0, 3.0)
NET_SERVERS = (4, 3, 2)  # each stage at rho = 0.75
NET = tandem_funnel(NET_LAM, NET_PASS, NET_EFFORT, NET_SERVERS)
NET_SAMPLE_DAYS = 0.5


@pytest.fixture(
    scope="module",
    params=sized(
        Size(20, horizon_days=1800, warmup_days=100, margin_days=60, wait_rel=0.22, util_abs=0.03),
        Size(40, horizon_days=3650, warmup_days=100, margin_days=60, wait_rel=0.11, util_abs=0.015),
    ),
)
def network(request):
    size: Size = request.param
    lead_gen, qualifiers, closers = NET_SERVERS
    raw = scenario_dict(
        "jackson",
        size,
        lam=NET_LAM,
        pass_probs=NET_PASS,
        efforts=NET_EFFORT,
        lags=NET_LAG,
        structures={
            "conveyor": {
                "lead_gen": lead_gen,
                "qualifiers": qualifiers,
                "closers": closers,
                "account_managers": 1,
            }
        },
        seed=20_240_602,
        sample_interval_days=NET_SAMPLE_DAYS,
    )
    return size, run(raw)


def stage_wait_rel(size: Size, index: int) -> float:
    """Allowed relative CI half-width of a mean wait at a Conveyor stage."""
    return size.wait_rel / math.sqrt(visit_probabilities(NET_PASS)[index])


def test_every_measured_lead_finished(network):
    size, result = network
    df = measured(result.leads, size)
    assert len(df) > 0.9 * NET_LAM * size.window_days * size.replications
    assert (df["outcome"] != "open").all(), (
        "a lead that arrived long before the horizon is still open"
    )
    for stage in STAGES:
        entered = df[f"{stage}_queue_day"].notna()
        assert df.loc[entered, f"{stage}_end_day"].notna().all(), (
            f"a measured lead is stuck in {stage}"
        )


@pytest.mark.parametrize("index", range(3), ids=STAGES)
def test_conveyor_stage_is_mmc(network, index):
    size, result = network
    stage, station = STAGES[index], NET[index]
    df = measured(result.leads, size)
    df = df[df[f"{stage}_queue_day"].notna()]
    label = f"conveyor {stage} (M/M/{station.c}, rho {station.rho:.2f})"
    check(
        f"{label} Wq",
        per_replication(wait(df, stage), df),
        station.wq,
        stage_wait_rel(size, index) * station.wq,
    )
    # Effort and customer lag are what was configured (exponential, these means).
    spread = 0.03 / math.sqrt(visit_probabilities(NET_PASS)[index])
    effort, lag = NET_EFFORT[index], NET_LAG[index]
    check(f"{label} effort", per_replication(service(df, stage), df), effort, spread * effort)
    customer = df[f"{stage}_done_day"] - df[f"{stage}_end_day"]
    check(f"{label} customer lag", per_replication(customer, df), lag, spread * lag)
    # The stage sees a Poisson stream thinned by the earlier stages: rate lam * v_k.
    arrivals = df.groupby("replication").size() / size.window_days
    check(f"{label} arrival rate", arrivals, station.lam, 0.05 * station.lam)
    reps = result.reps[result.reps["role"] == ROLE_OF_STAGE[stage]]
    assert (reps.groupby("replication")["rep_id"].nunique() == station.c).all()
    utilisation = reps.groupby("replication")["busy_days"].sum() / (
        station.c * (size.horizon_days - size.warmup_days)
    )
    check(f"{label} utilisation", utilisation, station.rho, size.util_abs)


def test_conveyor_sojourn_matches_jackson(network):
    size, result = network
    df = measured(result.leads, size)
    # Sum over the stages a lead visited of its wait and its effort there.
    sojourn = sum(
        (df[f"{stage}_end_day"] - df[f"{stage}_queue_day"]).fillna(0.0) for stage in STAGES
    )
    theory = jackson_sojourn(NET_PASS, NET)
    check(
        "conveyor mean time with reps, waiting or worked (Jackson)",
        per_replication(sojourn, df),
        theory,
        0.6 * size.wait_rel * theory,
    )
    # Customer lags are infinite-server stations of the same network; with no
    # relay they fill the rest of the time from arrival to the end.
    lags = sum((df[f"{stage}_done_day"] - df[f"{stage}_end_day"]).fillna(0.0) for stage in STAGES)
    np.testing.assert_allclose(sojourn + lags, df["end_day"] - df["arrival_day"], atol=1e-9)
    visits = visit_probabilities(NET_PASS)
    theory += sum(v * lag for v, lag in zip(visits, NET_LAG, strict=True))
    check(
        "conveyor mean time from arrival to won or lost (Jackson with lags)",
        per_replication(df["end_day"] - df["arrival_day"], df),
        theory,
        0.6 * size.wait_rel * theory,
    )


@pytest.mark.parametrize("index", range(3), ids=STAGES)
def test_littles_law_at_each_team(network, index):
    """Time-average queue length from the sampler = arrival rate x mean wait, per team."""
    size, result = network
    stage, station = STAGES[index], NET[index]
    role = ROLE_OF_STAGE[stage]
    start, end = size.warmup_days, size.horizon_days - size.margin_days
    samples = result.samples
    samples = samples[
        (samples["structure"] == "conveyor")
        & (samples["role"] == role)
        & (samples["day"] >= start)
        & (samples["day"] < end)
    ]
    per_rep_samples = samples.groupby("replication").size()
    expected_samples = (end - start) / NET_SAMPLE_DAYS
    assert ((per_rep_samples - expected_samples).abs() <= 1).all(), "the sampler skipped intervals"
    queue_length = samples.groupby("replication")["waiting"].mean()

    # Leads that joined this team's queue in the same window: rate and mean wait.
    leads = result.leads
    leads = leads[leads["structure"] == "conveyor"]
    queued = leads[f"{stage}_queue_day"]
    joined = leads[(queued >= start) & (queued < end)]
    assert joined[f"{stage}_start_day"].notna().all(), f"a lead is still waiting for {role}"
    rate = joined.groupby("replication").size() / (end - start)
    mean_wait = per_replication(wait(joined, stage), joined)
    little = rate * mean_wait

    label = f"Little's law at {role}"
    # L - lambda W is zero up to the edges of the window and the sampling grid.
    check(f"{label}: Lq(samples) - lambda W", queue_length - little, 0.0, 0.05 * station.lq)
    check(
        f"{label}: Lq(samples) vs M/M/{station.c}",
        queue_length,
        station.lq,
        stage_wait_rel(size, index) * station.lq,
    )


def test_conversion_is_product_of_pass_probabilities(network):
    size, result = network
    df = measured(result.leads, size)
    assert (df["outcome"] != "open").all(), "the conversion of a cohort with open leads is censored"
    check_funnel("conveyor", df, NET_LAM * size.window_days, NET_PASS)


# --------------------------------------------------------------------------
# 5. With ample capacity every structure is the plain funnel calculation.
# --------------------------------------------------------------------------

AMPLE_LAM = 4.0
AMPLE_PASS = (0.5, 0.4, 0.3)
AMPLE_EFFORT = (0.5, 1.0, 1.5)
# Work per lead: 0.5 + 0.5 * 1.0 + 0.2 * 1.5 = 1.3 rep-days, so 5.2 rep-days a day in
# all; every team below runs at 25 % utilisation or less.
AMPLE_STRUCTURES = {
    "allin": {"generalists": 30},
    "two_party": {"lead_gen": 8, "closers": 20, "account_managers": 2},
    "conveyor": {"lead_gen": 8, "qualifiers": 8, "closers": 8, "account_managers": 2},
    "pods": {
        "pods": [
            {
                "name": "north",
                "segments": ["a"],
                "lead_gen": 5,
                "qualifiers": 5,
                "closers": 5,
                "account_managers": 1,
            },
            {
                "name": "south",
                "segments": ["b", "c"],
                "lead_gen": 5,
                "qualifiers": 5,
                "closers": 5,
                "account_managers": 1,
            },
        ]
    },
}


@pytest.fixture(
    scope="module",
    params=sized(
        Size(replications=20, horizon_days=300, warmup_days=0, margin_days=40),
        Size(replications=40, horizon_days=600, warmup_days=0, margin_days=40),
    ),
)
def ample(request):
    size: Size = request.param
    raw = scenario_dict(
        "ample",
        size,
        lam=AMPLE_LAM,
        pass_probs=AMPLE_PASS,
        efforts=AMPLE_EFFORT,
        structures=AMPLE_STRUCTURES,
        seed=20_240_603,
        leads={
            "segments": [
                {"name": "a", "share": 0.5},
                {"name": "b", "share": 0.3},
                {"name": "c", "share": 0.2},
            ]
        },
    )
    result = run(raw)
    assert result.structures == STRUCTURES
    return size, result


@pytest.mark.parametrize("structure", STRUCTURES)
def test_ample_capacity_gives_funnel_conversion(ample, structure):
    size, result = ample
    df = measured(result.leads, size, structure)
    assert len(df) > 0.9 * AMPLE_LAM * size.window_days * size.replications
    assert (df["outcome"] != "open").all(), (
        f"{structure}: a lead is still open long before the horizon"
    )
    assert (df["lost_reason"].isin(["", "failed"])).all(), (
        f"{structure}: a lead was lost other than by failing"
    )
    check_funnel(structure, df, AMPLE_LAM * size.window_days, AMPLE_PASS)


def test_ample_capacity_structures_agree_lead_by_lead(ample):
    """Same leads, same luck, no effects: every finished lead ends the same way everywhere."""
    size, result = ample
    outcomes = {}
    for structure in STRUCTURES:
        df = measured(result.leads, size, structure)
        outcomes[structure] = df.set_index(["replication", "lead_id"])[
            ["outcome", "lost_at"]
        ].astype(str)
    reference = outcomes["conveyor"]
    for structure, table in outcomes.items():
        pd.testing.assert_frame_equal(table, reference, obj=f"{structure} vs conveyor")
