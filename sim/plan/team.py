"""A structure's team: headcount per (pod, role), read from and written into a scenario.

The capacity plan (``sim.plan.search``) changes a structure's team one role at
a time: "add a closer", or in Pods "add a closer to the east pod". A team is a
dict from (pod, role) to reps; here it is read from the scenario, written back
into a validated copy, summed per role and printed.
"""

from __future__ import annotations

from sim.config.scenario import STAGE_ROLES, Scenario, ScenarioError

HEADCOUNT_FIELDS: dict[str, str] = {
    "generalist": "generalists",
    "lead_gen": "lead_gen",
    "qualifier": "qualifiers",
    "closer": "closers",
    "account_manager": "account_managers",
}
"""Role -> the scenario field holding its headcount."""

Unit = tuple[str, str]
"""Where a rep is added or removed: (pod name, role); the pod is "" outside Pods."""


def unit_label(unit: Unit) -> str:
    """``closer`` or, in Pods, ``east/closer``."""
    pod, role = unit
    return f"{pod}/{role}" if pod else role


def searched_roles(structure: str) -> tuple[str, ...]:
    """Roles whose headcount the search changes: those working the three sales stages."""
    return tuple(dict.fromkeys(STAGE_ROLES[structure][:3]))


def team_of(scenario: Scenario, structure: str) -> dict[Unit, int]:
    """The structure's headcount per (pod, role), every role including account managers."""
    block = getattr(scenario.structures, structure)
    if block is None:
        raise ScenarioError([f"{scenario.name}: structure {structure!r} is not configured"])
    roles = dict.fromkeys(STAGE_ROLES[structure])
    if structure == "pods":
        return {
            (pod.name, role): getattr(pod, HEADCOUNT_FIELDS[role])
            for pod in block.pods
            for role in roles
        }
    return {("", role): getattr(block, HEADCOUNT_FIELDS[role]) for role in roles}


def with_team(scenario: Scenario, structure: str, team: dict[Unit, int]) -> Scenario:
    """A validated copy of the scenario with the structure's headcounts set to ``team``."""
    data = scenario.model_dump(mode="json")
    block = data["structures"][structure]
    pods = {pod["name"]: pod for pod in block.get("pods") or ()}
    for (pod, role), count in team.items():
        (pods[pod] if pod else block)[HEADCOUNT_FIELDS[role]] = int(count)
    return Scenario.from_dict(data, f"{scenario.name} (plan)")


def role_totals(team: dict[Unit, int]) -> dict[str, int]:
    """Headcount per role, summed over pods."""
    totals: dict[str, int] = {}
    for (_, role), count in team.items():
        totals[role] = totals.get(role, 0) + count
    return totals


def team_text(team: dict[Unit, int]) -> str:
    """``lead_gen 3, closer 4, account_manager 3``; pods as ``east: ...; west: ...``."""
    pods = list(dict.fromkeys(pod for pod, _ in team))
    parts = []
    for pod in pods:
        roles = ", ".join(f"{role} {n}" for (p, role), n in team.items() if p == pod)
        parts.append(f"{pod}: {roles}" if pod else roles)
    return "; ".join(parts)
