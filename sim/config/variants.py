"""Variants of a scenario with groups of effects switched off.

Every sales-specific effect has a neutral value that switches it off (a drop
probability of 0, a half-life of ``None``, a factor of 1). ``without_sales_effects``
applies all of them at once and turns the model into a plain queueing network,
which is what the theory tests run; ``as_markovian_network`` goes on to the
M/M/c and Jackson-network limit, and ``without_people_effects`` leaves only
fully ramped mid-level reps who never leave.
"""

from __future__ import annotations

from sim.config.schema import Scenario


def without_sales_effects(scenario: Scenario) -> Scenario:
    """The same scenario with every sales-specific effect switched off.

    What remains is a plain open queueing network: Poisson arrivals, pass
    probabilities, effort and lag as configured, no handoff loss, delay or
    context loss, no decay, patience or competitor, no generalist penalty, no lead-quality
    effect, no segment expertise or versatility, accounts that neither need effort nor churn,
    reps who are all mid-level, fully ramped and never leave, and no working
    calendar (reps work around the clock).
    """
    data = scenario.model_dump(mode="json")
    data["people"] = without_people_effects(scenario).model_dump(mode="json")["people"]
    data["leads"]["quality_weight"] = 0.0
    data["decay"] = {}
    data["competition"] = {}
    data["fulfilment"] = {}
    data["referrals"] = {}
    data["generalist"] = {}
    data["accounts"] = {}
    data["calendar"] = {}  # around the clock: queueing theory knows no weekends
    for name, block in data["structures"].items():
        if block is None:
            continue
        if "handoff" in block:
            block["handoff"] = {}
        if name == "pods":
            block["segment_expertise_factor"] = 1.0
            block["versatility"] = {}  # one role per rep: a pod is a small Jackson network
            block["team_relays"] = {}
    return Scenario.from_dict(data, scenario.name)


def without_people_effects(scenario: Scenario) -> Scenario:
    """The same scenario with levels, ramp-up, turnover, skill and learning switched off.

    Every rep is then a fully ramped, fully experienced mid-level rep who never leaves: the core
    model of the structures without the people effects.
    """
    data = scenario.model_dump(mode="json")
    for effect in ("levels", "ramp", "turnover", "performance", "learning"):
        data["people"][effect]["enabled"] = False
    data["people"]["ramp"]["initial_ramped_share"] = 1.0  # tenure facts: everyone ramped
    return Scenario.from_dict(data, scenario.name)


def as_markovian_network(scenario: Scenario) -> Scenario:
    """Sales effects off, and the market made Markovian: the queueing-theory limit.

    On top of ``without_sales_effects``: a flat (homogeneous Poisson) arrival
    rate, exponential effort at every stage and the same effort for every size
    tier, so a pooled stage is exactly an M/M/c queue and a Conveyor a Jackson
    network. Customer lag keeps its shape: it is an infinite-server delay that
    does not change the queues.
    """
    data = without_sales_effects(scenario).model_dump(mode="json")
    data["leads"]["seasonality_amplitude"] = 0.0
    for tier in data["leads"]["tiers"]:
        tier["effort_multiplier"] = 1.0
    for stage in data["stages"].values():
        stage["effort_distribution"] = "exponential"
    return Scenario.from_dict(data, scenario.name)
