"""Hypothesis strategies: small random scenarios with every effect in play."""

from __future__ import annotations

from hypothesis import strategies as st

from sim.config.scenario import Scenario

probability = st.floats(0.05, 1.0)
effort = st.floats(0.05, 2.0)
lag = st.floats(0.0, 5.0)
count = st.integers(1, 3)
distribution = st.sampled_from(["exponential", "deterministic", "gamma"])


@st.composite
def stage(draw) -> dict:
    return {
        "pass_prob": draw(probability),
        "mean_effort_days": draw(effort),
        "effort_distribution": draw(distribution),
        "effort_cv": draw(st.floats(0.2, 2.0)),
        "mean_lag_days": draw(lag),
    }


CONVEYOR_RELAYS = ("to_qualification", "to_closing", "to_account_management")


@st.composite
def relay_costs(draw) -> dict:
    return {
        "drop_prob": draw(st.floats(0.0, 0.5)),
        "mean_delay_days": draw(st.floats(0.0, 3.0)),
        "context_loss": draw(st.floats(0.0, 0.5)),
        "delay_distribution": draw(st.sampled_from(["exponential", "deterministic"])),
    }


@st.composite
def handoff(draw, relays: tuple[str, ...] = ("to_qualification", "to_account_management")):
    """A structure's default relay costs, and some of its relays with some fields of their own."""
    costs = draw(relay_costs())
    for relay in relays:
        own = draw(relay_costs())
        fields = draw(st.sets(st.sampled_from(sorted(own))))
        if fields:
            costs[relay] = {field: own[field] for field in fields}
    return costs


@st.composite
def scenarios(draw) -> Scenario:
    """A small valid scenario running all four structures, effects (people too) on at random."""
    assignment = draw(st.sampled_from(["pooled", "round_robin", "least_loaded"]))
    owner = draw(st.sampled_from(["round_robin", "least_loaded"]))
    raw = {
        "name": "prop",
        "seed": draw(st.integers(0, 2**32 - 1)),
        "replications": 1,
        "horizon_days": draw(st.floats(10.0, 60.0)),
        "warmup_days": 2.0,
        "leads": {
            "arrivals_per_day": draw(st.floats(0.5, 6.0)),
            "mean_deal_value": 10_000.0,
            "quality_weight": draw(st.floats(0.0, 2.0)),
            "segments": [
                {"name": "a", "share": draw(st.floats(0.1, 1.0))},
                {"name": "b", "share": draw(st.floats(0.1, 1.0))},
            ],
            "tiers": [
                {"name": "small", "share": 0.7},
                {
                    "name": "key",
                    "share": 0.3,
                    "complexity": 2.0,
                    "effort_multiplier": 1.5,
                    "value_multiplier": 4.0,
                },
            ],
        },
        "stages": {
            "prospecting": draw(stage()),
            "qualification": draw(stage()),
            "closing": draw(stage()),
        },
        "decay": {
            "half_life_days": draw(st.one_of(st.none(), st.floats(1.0, 50.0))),
            "mean_patience_days": draw(st.one_of(st.none(), st.floats(0.5, 20.0))),
        },
        "generalist": {
            "pass_prob_factor": draw(st.floats(0.5, 1.0)),
            "effort_factor": draw(st.floats(1.0, 2.0)),
            "context_switch_cost": draw(st.floats(0.0, 0.2)),
        },
        "accounts": {
            "review_interval_days": draw(st.floats(5.0, 30.0)),
            "mean_review_effort_days": draw(st.floats(0.0, 1.0)),
            "churn_prob_per_review": draw(st.floats(0.0, 0.3)),
            "neglect_churn_multiplier": 2.0,
            "expansion_prob_per_review": draw(st.floats(0.0, 0.3)),
            "expansion_fraction": 0.2,
            "contract_months": draw(st.sampled_from([0, 1, 12])),
            "dropped_handover_churn_multiplier": draw(st.floats(1.0, 5.0)),
        },
        "structures": {
            "allin": {"generalists": draw(count), "owner_assignment": owner},
            "two_party": {
                "lead_gen": draw(count),
                "closers": draw(count),
                "account_managers": draw(count),
                "handoff": draw(handoff()),
                "assignment": assignment,
                "owner_assignment": owner,
            },
            "conveyor": {
                "lead_gen": draw(count),
                "qualifiers": draw(count),
                "closers": draw(count),
                "account_managers": draw(count),
                "handoff": draw(handoff(CONVEYOR_RELAYS)),
                "assignment": assignment,
                "owner_assignment": owner,
            },
            "pods": {
                "pods": [
                    {
                        "name": "p1",
                        "segments": ["a"],
                        "lead_gen": draw(count),
                        "qualifiers": draw(count),
                        "closers": draw(count),
                        "account_managers": 1,
                    },
                    {
                        "name": "p2",
                        "segments": ["b"],
                        "lead_gen": draw(count),
                        "qualifiers": draw(count),
                        "closers": draw(count),
                        "account_managers": 1,
                    },
                ],
                "handoff": draw(handoff((*CONVEYOR_RELAYS, "to_pod"))),
                "assignment": assignment,
                "segment_expertise_factor": draw(st.floats(1.0, 1.3)),
                "overflow": {
                    "policy": draw(st.sampled_from(["none", "least_loaded"])),
                    "threshold_leads_per_rep": draw(st.floats(0.5, 3.0)),
                },
            },
        },
    }
    raw["people"] = draw(people())
    raw["fulfilment"] = {
        "enabled": draw(st.booleans()),
        "ops_staff": draw(st.integers(1, 3)),
        "mean_effort_days": draw(st.floats(0.0, 5.0)),
        "target_days": draw(st.floats(0.0, 10.0)),
    }
    raw["referrals"] = {
        "enabled": draw(st.booleans()),
        "reviews_to_advocate": draw(st.integers(1, 3)),
        # Fast enough that referral leads happen in a short horizon.
        "per_advocate_per_year": draw(st.floats(0.0, 20.0)),
    }
    pods = raw["structures"]["pods"]
    pods["commission"] = draw(st.sampled_from(["individual", "team"]))
    pods["monitor_individuals"] = draw(st.booleans())
    return Scenario.from_dict(raw)


@st.composite
def people(draw) -> dict:
    """Levels, ramp-up, turnover and skill spread, each on or off; turnover fast enough."""
    roles = ("generalist", "lead_gen", "qualifier", "closer", "account_manager")
    return {
        "levels": {"enabled": draw(st.booleans())},
        "ramp": {
            "enabled": draw(st.booleans()),
            "days": {role: draw(st.floats(0.0, 60.0)) for role in roles},
            "initial_ramped_share": draw(st.floats(0.0, 1.0)),
        },
        "turnover": {
            "enabled": draw(st.booleans()),
            "attrition_per_year": {role: draw(st.floats(0.0, 8.0)) for role in roles},
            "hiring_lag_days": draw(st.floats(0.0, 20.0)),
            "open_deals": draw(st.sampled_from(["reassign", "lose"])),
            "under_quota_multiplier": draw(st.floats(1.0, 3.0)),
        },
        "performance": {
            "enabled": draw(st.booleans()),
            "skill_sd": draw(st.floats(0.0, 0.5)),
            "pace_sd": draw(st.floats(0.0, 0.5)),
            "coaching_gain": draw(st.floats(0.0, 0.3)),
            "coaching_focus": draw(st.sampled_from(["even", "poor_performers"])),
        },
    }


# (dotted path, bad value): each breaks one bound or type of the schema.
BAD_VALUES = [
    ("stages.closing.pass_prob", 1.5),
    ("stages.closing.pass_prob", -0.1),
    ("stages.prospecting.mean_effort_days", 0.0),
    ("structures.conveyor.closers", 0),
    ("structures.conveyor.closers", 2.5),
    ("structures.conveyor.handoff.drop_prob", 2.0),
    ("leads.arrivals_per_day", -3.0),
    ("leads.arrivals_per_day", "many"),
    ("horizon_days", True),
    ("replications", 0),
    ("decay.half_life_days", -1.0),
    ("money.gross_margin", 1.2),
    ("structures.conveyor.assignment", "random"),
    ("structures.conveyor.colour", "red"),
]
