"""The calibrated team, and the same people organised as another structure.

``calibrated_team`` sizes the team the export shows (``sim.crm.capacity`` for
the rules); ``same_team_as`` gives another structure the same people, shared
by each role's work, so that a comparison of structures on a calibrated
market compares organisations, not headcounts.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from sim.config.scenario import STAGES
from sim.crm import capacity
from sim.crm.estimates import Estimate, measured

if TYPE_CHECKING:
    from sim.crm.calibrate import Calibration


class Team(NamedTuple):
    """What ``calibrated_team`` finds."""

    headcount: dict[str, Estimate]
    pods: list[dict]
    load: dict[str, float]  # each role's expected utilisation (the busiest pod's for Pods)
    groups: list[capacity.OwnerGroup]
    work_per_day: dict[str, float]  # each stage's days of effort a day


def calibrated_team(
    df: pd.DataFrame,
    structure: str,
    stages: dict[str, Any],
    horizon: float,
    utilisation: float,
    effort_known: bool,
    peak: float = 1.0,
) -> Team:
    """Headcount per role (and per pod), effort from throughput, and each role's expected load.

    When the export has no ``worked`` timestamps, each owned stage's effort is
    what keeps its owners ``utilisation`` busy (``sim.crm.capacity``), and the
    customer lag is the rest of the time in work; ``stages`` is updated.

    The load is the busiest month's: ``peak`` is its arrival rate over the
    export's mean (the largest monthly factor the scenario simulates). A team
    that was ``utilisation`` busy on average through a ramp would be more than
    that in its last months, and the simulated queues there, not the
    customers, would set the cycle; the team carried its busiest month, so
    that month is the one sized at ``utilisation``.

    Returns:
        The headcount, the pods, each role's expected utilisation, the owner
        groups and each stage's work (days of effort a day).
    """
    groups = capacity.owner_groups(df)
    per_day = _stage_leads_per_day(df, stages["pass_prob"], horizon, peak)
    in_work = {s: _days_in_work(stages, s) for s in STAGES}
    if not effort_known:
        for stage, effort in capacity.effort_from_throughput(
            groups, per_day, in_work, utilisation
        ).items():
            if peak > 1.0:
                month = f" in the busiest month ({peak:.2f} x the mean arrivals)"
                effort = dataclasses.replace(effort, note=effort.note + month)
            stages["effort_days"][stage] = effort
            stages["lag_days"][stage] = Estimate(
                in_work[stage] - effort.value, math.nan, math.nan, effort.n,
                "the rest of the time in work",
            )  # fmt: skip
    work = {s: per_day[s] * measured(stages["effort_days"][s]) for s in STAGES}
    headcount = capacity.role_headcount(structure, groups, work, utilisation)
    if structure != "allin":
        headcount["account_managers"] = _account_managers(df, groups)
    pods = _find_pods(df, stages, horizon, utilisation, peak) if structure == "pods" else []
    if pods:  # the busiest pod's, per role: a pod cannot lend its people to another
        load = {
            role: max(pod["load"][role] for pod in pods) for role in capacity.ROLE_STAGES[structure]
        }
    else:
        load = capacity.utilisation(work, headcount, structure)
    return Team(headcount, pods, load, groups, work)


def _days_in_work(stages: dict[str, Any], stage: str) -> float:
    """A stage's mean time from taken (or entered) to passed or failed: effort plus lag."""
    return measured(stages["effort_days"][stage]) + measured(stages["lag_days"][stage])


def _stage_leads_per_day(
    df: pd.DataFrame, pass_prob: dict, horizon: float, peak: float = 1.0
) -> dict[str, float]:
    """Leads a day worked at each stage in the busiest month (``peak`` times the mean day).

    Counted where the export dates the stages, else implied: without stage
    dates a lead's later stages are not seen; the leads reaching a stage are
    then the arrivals times the calibrated pass probabilities before it.
    """
    per_day, reach = {}, peak * len(df) / horizon
    for stage in STAGES:
        entered = int(df[f"{stage}_queue_day"].notna().sum())
        per_day[stage] = peak * entered / horizon if entered else reach
        reach *= measured(pass_prob[stage])
    return per_day


def _account_managers(df: pd.DataFrame, groups: list[capacity.OwnerGroup]) -> Estimate:
    """Account owners per quarter; the deal owners keeping their accounts do not count twice."""
    owner = df["account_handler"].astype(str)
    counted = capacity.quarterly_owners(owner, df["account_start_day"])
    keepers = set(owner) - {""}
    deal_owners = {person for s in STAGES for person in set(df[f"{s}_handler"].astype(str)) - {""}}
    if counted.n and len(keepers & deal_owners) < capacity.SAME_PEOPLE_SHARE * len(keepers):
        return counted
    why = (
        "the deal owners kept their accounts in the export"
        if counted.n
        else "no account owners recorded"
    )
    return Estimate(
        1.0, math.nan, math.nan, 0,
        f"{why}; account reviews take no effort in this scenario (not measured): one seat",
    )  # fmt: skip


def _find_pods(
    df: pd.DataFrame, stages: dict[str, Any], horizon: float, utilisation: float, peak: float
) -> list[dict]:
    """Pods as groups of segments sharing owners (an owner's segments: 10 % of their leads+)."""
    segment = df["segment"].where(df["segment"] != "", "all").astype(str)
    links: dict[str, set[str]] = {}
    for stage in STAGES:
        owner = df[f"{stage}_handler"].astype(str)
        known = owner != ""
        shares = pd.crosstab(owner[known], segment[known], normalize="index")
        for name, row in shares.iterrows():
            links.setdefault(f"{stage}:{name}", set()).update(row.index[row >= 0.1])
    groups: list[set[str]] = []
    for owned in links.values():
        touching = [g for g in groups if g & owned]
        merged = set(owned).union(*touching)
        groups = [g for g in groups if not g & owned] + [merged]
    if not groups:
        groups = [set(segment.unique())]
    groups.sort(key=lambda g: sorted(g))
    return [
        _pod(
            df[segment.isin(segments)], index, sorted(segments), stages, horizon, utilisation, peak
        )  # fmt: skip
        for index, segments in enumerate(groups, start=1)
    ]


def _pod(
    part: pd.DataFrame,
    index: int,
    segments: list[str],
    stages: dict[str, Any],
    horizon: float,
    utilisation: float,
    peak: float,
) -> dict:
    """One pod: its segments, headcount per role from its own leads, and each role's load."""
    per_day = _stage_leads_per_day(part, stages["pass_prob"], horizon, peak)
    work = {s: per_day[s] * measured(stages["effort_days"][s]) for s in STAGES}
    groups = capacity.owner_groups(part)
    counts = capacity.role_headcount("pods", groups, work, utilisation)
    counts["account_managers"] = _account_managers(part, groups)
    load = capacity.utilisation(work, counts, "pods")
    return {"name": f"pod{index}", "segments": segments, "headcount": counts, "load": load}


def same_team_as(cal: Calibration, structure: str) -> tuple[dict[str, Estimate], list[dict]]:
    """The calibrated team's people organised as ``structure``: the same headcount, by their work.

    All-In gets everyone (stage owners and account managers) as generalists;
    the other structures keep the account managers (at least one; taken from
    the stage owners when the team had none) and share the rest among their
    roles by the roles' work (``capacity.role_headcount``); Pods get one pod
    per segment, each with at least one person per role and an account
    manager, people following each segment's share of the work.

    Returns:
        The headcount per role, and the pods (empty unless ``structure`` is Pods).
    """
    if structure == cal.structure:
        return cal.headcount, cal.pods
    total = _stage_people(cal) + _account_seats(cal)
    note = f"the calibrated team of {total} as {structure}, shared by the roles' work"
    if structure == "allin":
        return {"generalists": Estimate(float(total), math.nan, math.nan, 0, note)}, []
    if structure == "pods":
        return {}, _segment_pods(cal, total)
    keepers = max(1, _account_seats(cal))
    people = Estimate(float(total - keepers), math.nan, math.nan, 1, note)
    headcount = capacity.role_headcount(
        structure, [capacity.OwnerGroup(STAGES, people)], cal.work_per_day, 1.0
    )
    headcount["account_managers"] = Estimate(float(keepers), math.nan, math.nan, 0, note)
    return headcount, []


def _stage_people(cal: Calibration) -> int:
    if cal.pods:
        return sum(_pod_people(pod, with_accounts=False) for pod in cal.pods)
    return sum(capacity.seats(e) for r, e in cal.headcount.items() if r != "account_managers")


def _pod_people(pod: dict, with_accounts: bool) -> int:
    return sum(
        capacity.seats(e)
        for role, e in pod["headcount"].items()
        if with_accounts or role != "account_managers"
    )


def _account_seats(cal: Calibration) -> int:
    if cal.pods:
        return sum(capacity.seats(pod["headcount"]["account_managers"]) for pod in cal.pods)
    if "account_managers" in cal.headcount:
        return capacity.seats(cal.headcount["account_managers"])
    return 0


POD_ROLES = 4
"""People a pod needs at least: lead generation, a qualifier, a closer, an account manager."""


def pod_count(cal: Calibration) -> int:
    """Pods the calibrated team can staff: one per segment, at most one per four people."""
    return min(len(cal.segments), (_stage_people(cal) + _account_seats(cal)) // POD_ROLES)


def _segment_pods(cal: Calibration, total: int) -> list[dict]:
    """Pods of segments (``pod_count``), the team shared by each pod's share of the work.

    With fewer pods than segments, segments go to pods largest first, each to
    the pod with the least work so far.
    """
    df = cal.history.leads
    segment = df["segment"].where(df["segment"] != "", "all").astype(str)
    shares = segment.value_counts(normalize=True)
    owned: list[list[str]] = [[] for _ in range(max(1, pod_count(cal)))]
    load = [0.0] * len(owned)
    for name, share in shares.items():  # largest first: value_counts sorts so
        lightest = load.index(min(load))
        owned[lightest].append(str(name))
        load[lightest] += float(share)
    pod_share = {f"pod{k + 1}": load[k] for k in range(len(owned))}
    keepers = capacity.share_people(max(_account_seats(cal), len(owned)), pod_share)
    roles = capacity.ROLE_STAGES["pods"]
    work = {
        f"{pod}\x00{role}": share * sum(cal.work_per_day.get(s, 0.0) for s in stages)
        for pod, share in pod_share.items()
        for role, stages in roles.items()
    }
    seats = capacity.share_people(total - sum(keepers.values()), work)
    note = f"the calibrated team of {total} in {len(owned)} pods of segments, shared by the work"

    def seat(count: int) -> Estimate:
        return Estimate(float(count), math.nan, math.nan, 0, note)

    return [
        {
            "name": pod,
            "segments": sorted(segments),
            "headcount": {
                **{role: seat(seats[f"{pod}\x00{role}"]) for role in roles},
                "account_managers": seat(keepers[pod]),
            },
        }
        for pod, segments in zip(pod_share, owned, strict=True)
    ]
