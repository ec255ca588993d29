"""The runs whose output tables are hashed: shipped scenarios and tied-time variants.

Each variant is a small, fixed run of the full model through the Python API:
a scenario (shipped file plus overrides) goes through ``sim.model.runner.simulate``
(or, for the tied-arrival variants, the same loop over ``run_structure`` on an
edited lead stream), then ``sim.analysis.kpi_values.run_kpis``. Four tables come out:
``leads``, ``reps``, ``samples`` and ``kpis``.

Kept short (about 12 s for all of them on a shared 2-core machine): the
shipped scenarios with one replication over their full horizon, except
baseline (two replications, so the seed tree is covered, over 200 days) and
the massive-market preset (70 days, 60 leads a day: too short for a quota
period to count; the KPI window shortened to fit); variants of baseline
with one replication over 180 days.

Tied event times: times drawn from continuous distributions never coincide,
so the order of events at one instant (``sim.model.pools.Pool``'s docstring) only
shows with deterministic times. The ``*_tied*`` variants make many events
coincide: arrivals on whole days (several leads per day), deterministic
efforts of dyadic lengths (exact in binary, so sums of them tie), deterministic
whole-day lags, relay delays and patience (a patience timeout on the same
instant as a grant), every multiplier on effort 1.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.kpi_values import run_kpis
from sim.config.scenario import Scenario, without_sales_effects
from sim.model.leads import LeadStream, generate_leads
from sim.model.runner import simulate
from sim.model.seeding import replication_streams
from sim.model.structures import run_structure

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
TABLES = ("leads", "reps", "samples", "kpis")

SHORT_BASELINE = ("replications=1", "horizon_days=180")
OWNER_QUEUES = (
    *SHORT_BASELINE,
    "structures.two_party.assignment=round_robin",
    "structures.conveyor.assignment=least_loaded",
    "structures.pods.assignment=round_robin",
    "people.turnover.open_deals=lose",
    "accounts.review_priority=fifo",
)
"""Every stage queue owner-assigned (a PriorityPool per rep), leavers' leads lost, FIFO reviews."""


@dataclasses.dataclass(frozen=True)
class Variant:
    """One hashed run: a scenario, and optionally an edit of each replication's leads."""

    scenario: Callable[[], Scenario]
    edit_leads: Callable[[LeadStream], LeadStream] | None = None


def shipped(path: str, *overrides: str) -> Callable[[], Scenario]:
    """A scenario file under scenarios/ with overrides."""
    return lambda: Scenario.from_file(SCENARIOS / path, overrides)


def edited(
    scenario: Callable[[], Scenario], edit: Callable[[dict], None]
) -> Callable[[], Scenario]:
    """A scenario changed through its dumped dict (for what ``--set`` cannot say: None, arrays)."""

    def build() -> Scenario:
        sc = scenario()
        data = sc.model_dump(mode="json")
        edit(data)
        return Scenario.from_dict(data, sc.name)

    return build


def tied_times(data: dict) -> None:
    """Deterministic dyadic efforts, whole-day lags and delays, every effort multiplier 1."""
    lags = {"prospecting": 0.0, "qualification": 10.0, "closing": 30.0}
    for (name, stage), effort in zip(data["stages"].items(), (0.25, 0.75, 1.75), strict=True):
        stage.update(
            mean_effort_days=effort,
            effort_distribution="deterministic",
            mean_lag_days=lags[name],
            lag_distribution="deterministic",
        )
    for tier in data["leads"]["tiers"]:
        tier["effort_multiplier"] = 1.0
    data["generalist"].update(effort_factor=1.0, context_switch_cost=0.0)
    people = data["people"]
    for effect in ("levels", "ramp", "performance"):  # their factors are not dyadic
        people[effect]["enabled"] = False
    people["ramp"]["initial_ramped_share"] = 1.0
    for block in data["structures"].values():
        if block is None:
            continue
        handoff = block.get("handoff")
        if handoff is None:
            continue
        # The structure's default and every relay that sets its own (Pods' to_pod).
        for costs in (handoff, *(v for v in handoff.values() if isinstance(v, dict))):
            costs.update(mean_delay_days=1.0, delay_distribution="deterministic")
    data["accounts"]["mean_review_effort_days"] = 0.5
    data["people"]["turnover"]["hiring_lag_days"] = 30.0


def tied_no_patience(data: dict) -> None:
    """``tied_times`` with no patience: pooled tasks take a free rep at once (``Pool.take``)."""
    tied_times(data)
    data["decay"]["mean_patience_days"] = None


def whole_day_leads(leads: LeadStream) -> LeadStream:
    """Arrivals on whole days and every unit-mean draw 1: many same-instant events."""
    ones = np.ones_like
    leads = leads.whole()
    return dataclasses.replace(
        leads,
        arrival_day=np.floor(leads.arrival_day),
        effort_units=ones(leads.effort_units),
        lag_units=ones(leads.lag_units),
        patience_units=ones(leads.patience_units),
        handoff_delay_units=ones(leads.handoff_delay_units),
    )


VARIANTS: dict[str, Variant] = {
    "allin": Variant(shipped("allin.toml", "replications=1")),
    "two_party": Variant(shipped("two_party.toml", "replications=1")),
    "conveyor": Variant(shipped("conveyor.toml", "replications=1")),
    "pods": Variant(shipped("pods.toml", "replications=1")),
    "baseline": Variant(shipped("baseline.toml", "replications=2", "horizon_days=200")),
    "presets/concentrated_dedicated": Variant(
        shipped("presets/concentrated_dedicated.toml", "replications=1")
    ),
    "presets/massive_generalist": Variant(
        shipped(
            "presets/massive_generalist.toml",
            "replications=1",
            "horizon_days=70",
            "warmup_days=10",
            "maturity_days=40",
        )
    ),
    "growth/growing_startup": Variant(
        shipped("growth/growing_startup.toml", "replications=1", "horizon_days=450")
    ),
    "baseline_no_sales_effects": Variant(
        lambda: without_sales_effects(shipped("baseline.toml", *SHORT_BASELINE)())
    ),
    "baseline_owner_queues": Variant(shipped("baseline.toml", *OWNER_QUEUES)),
    "baseline_tied": Variant(
        edited(shipped("baseline.toml", *SHORT_BASELINE), tied_times), whole_day_leads
    ),
    "baseline_tied_no_patience": Variant(
        edited(shipped("baseline.toml", *SHORT_BASELINE), tied_no_patience), whole_day_leads
    ),
}
"""Every hashed run by name (the keys of ``output_hashes.json``)."""


def run_tables(name: str) -> dict[str, pd.DataFrame]:
    """Run one variant: its ``leads``, ``reps``, ``samples`` and ``kpis`` tables."""
    variant = VARIANTS[name]
    sc = variant.scenario()
    if variant.edit_leads is None:
        result = simulate(sc)
        leads, reps, samples = result.leads, result.reps, result.samples
    else:
        leads, reps, samples = _simulate_edited(sc, variant.edit_leads)
    return {
        "leads": leads,
        "reps": reps,
        "samples": samples,
        "kpis": run_kpis(leads, reps, sc),
    }


def _simulate_edited(
    sc: Scenario, edit: Callable[[LeadStream], LeadStream]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``sim.model.runner.simulate`` with each replication's lead stream edited before the runs."""
    names = sc.structures.names
    parts: dict[str, list[pd.DataFrame]] = {"leads": [], "reps": [], "samples": []}
    for replication in range(sc.replications):
        streams = replication_streams(sc.seed, replication)
        stream = edit(generate_leads(sc, np.random.default_rng(streams.leads)))
        for structure in names:
            tables = run_structure(structure, stream, sc, streams)
            for key in parts:
                parts[key].append(getattr(tables, key))
    out = []
    for frames in parts.values():
        df = pd.concat(frames, ignore_index=True)
        df["structure"] = pd.Categorical(df["structure"].astype(str), categories=list(names))
        out.append(df)
    return out[0], out[1], out[2]
