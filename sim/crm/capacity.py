"""How big the team was: headcount per role and effort per lead, from what it handled.

An export rarely says how long a rep worked on a deal, and often names one
owner for the whole deal. What it does say is how many leads the team
carried through each stage and how many people carried them, and a team
carries what its hours allow (Little's law: work arriving per day = people x
the share of their time spent on it). So, at a stated utilisation ``u``:

- **owner groups**: the stages whose owners are (mostly) the same people
  form one group ("a deal owner owns every stage" is one group of three);
  its headcount is the median number of distinct owners per quarter;
- **effort from throughput**, when the export has no ``worked`` timestamps:
  a group of ``N`` owners working stages ``S`` gives each lead at stage ``s``
  ``e_s = u N w_s / sum_t(lambda_t w_t)`` days of effort, where ``lambda_t``
  is the leads a day worked at stage ``t`` in the busiest month (an export
  that ramps up carries more at its end than on average) and ``w_t`` the
  stage's time in work; the group is then exactly ``u`` busy in that month
  and less in the others, and the stages share its time
  as they share the time in work. Effort never exceeds the time in work;
- **headcount per role** of the structure asked for: counted when the export
  has that role (its owners work exactly the role's stages), else sized from
  the role's work at ``u``: a group's people are shared among the roles its
  stages belong to, in proportion to their work (largest remainder, at least
  one each), so the calibrated team has the headcount the export shows;
- a role whose stages have no owners at all is sized from its work at ``u``,
  its effort being the assumed share of the time in work.

Every number says which rule made it (``Estimate.note``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config.scenario import STAGES
from sim.crm.estimates import Estimate

QUARTER_DAYS = 91.25
SAME_PEOPLE_SHARE = 0.5
"""Two stages belong to one owner group when at least half of the owners of the
smaller one also own the other (a deal owner column makes them all the same)."""

DEFAULT_UTILISATION = 0.75
"""Share of working time spent on the stages' work, when sizing from throughput: an
assumption (the queueing checks in DESIGN.md show queues growing fast above 0.9)."""

ROLE_STAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "allin": {"generalists": STAGES},
    "two_party": {"lead_gen": ("prospecting",), "closers": ("qualification", "closing")},
    "conveyor": {
        "lead_gen": ("prospecting",),
        "qualifiers": ("qualification",),
        "closers": ("closing",),
    },
    "pods": {
        "lead_gen": ("prospecting",),
        "qualifiers": ("qualification",),
        "closers": ("closing",),
    },
}
"""Which stages each headcount field of a structure block works."""


@dataclass(frozen=True)
class OwnerGroup:
    """Stages worked by the same people, and how many of them there were."""

    stages: tuple[str, ...]
    people: Estimate


def quarterly_owners(owner: pd.Series, day: pd.Series) -> Estimate:
    """Distinct owners per quarter: the median whole quarter, with the range over quarters."""
    known = (owner != "") & day.notna()
    if not known.any():
        return Estimate(math.nan, math.nan, math.nan, 0, "no owners recorded")
    quarter = (day[known] // QUARTER_DAYS).astype(int)
    per_quarter = owner[known].groupby(quarter).nunique()
    last_full = int(day[known].max() // QUARTER_DAYS)
    full = per_quarter[per_quarter.index < last_full]
    counts = full if len(full) else per_quarter
    total = int(owner[known].nunique())
    return Estimate(
        float(np.median(counts)), float(counts.min()), float(counts.max()), int(known.sum()),
        f"distinct owners per quarter (median of {len(counts)} quarters; "
        f"{total} over the export)",
    )  # fmt: skip


def stage_owners(df: pd.DataFrame, stages: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Who worked the stages, and when: the day they took the lead, else it entered or arrived."""
    owners = pd.concat([df[f"{s}_handler"].astype(str) for s in stages], ignore_index=True)
    days = pd.concat(
        [
            df[f"{s}_start_day"].fillna(df[f"{s}_queue_day"]).fillna(df["arrival_day"])
            for s in stages
        ],
        ignore_index=True,
    )
    return owners, days


def owner_groups(df: pd.DataFrame) -> list[OwnerGroup]:
    """The stages grouped by the people who own them (stages without owners left out)."""
    owned = {
        stage: set(df[f"{stage}_handler"].astype(str)) - {""}
        for stage in STAGES
        if (df[f"{stage}_handler"].astype(str) != "").any()
    }
    groups: list[list[str]] = []
    for stage, people in owned.items():
        for group in groups:
            if any(_same_people(people, owned[other]) for other in group):
                group.append(stage)
                break
        else:
            groups.append([stage])
    return [
        OwnerGroup(tuple(group), quarterly_owners(*stage_owners(df, tuple(group))))
        for group in groups
    ]


def _same_people(a: set[str], b: set[str]) -> bool:
    return len(a & b) >= SAME_PEOPLE_SHARE * min(len(a), len(b))


def effort_from_throughput(
    groups: list[OwnerGroup],
    leads_per_day: dict[str, float],
    days_in_work: dict[str, float],
    utilisation: float,
) -> dict[str, Estimate]:
    """Effort per lead at each owned stage that keeps its group ``utilisation`` busy."""
    effort = {}
    for group in groups:
        work = sum(leads_per_day[s] * days_in_work[s] for s in group.stages)
        if not (work > 0 and group.people.n):
            continue
        for stage in group.stages:
            value = utilisation * group.people.value * days_in_work[stage] / work
            capped = value > days_in_work[stage]
            effort[stage] = Estimate(
                min(value, days_in_work[stage]), math.nan, math.nan, group.people.n,
                f"from throughput: {group.people.value:g} owners of "
                f"{'/'.join(group.stages)} at {utilisation:.0%} utilisation carrying "
                f"{sum(leads_per_day[s] for s in group.stages):.3g} stage-leads a day"
                + ("; capped at the time in work" if capped else ""),
            )  # fmt: skip
    return effort


def role_headcount(
    structure: str,
    groups: list[OwnerGroup],
    work_per_day: dict[str, float],
    utilisation: float,
) -> dict[str, Estimate]:
    """Headcount per role of ``structure``: counted where the export has the role, else sized.

    ``work_per_day`` is each stage's leads a day times its effort per lead (days
    of work a day). A group's people are shared among the roles it spans by
    largest remainder on their work, at least one each.
    """
    roles = ROLE_STAGES[structure]
    counts: dict[str, Estimate] = {}
    for group in groups:
        spanned = [r for r, stages in roles.items() if set(stages) & set(group.stages)]
        if len(spanned) == 1 and set(roles[spanned[0]]) == set(group.stages):
            counts[spanned[0]] = group.people
            continue
        work = {r: sum(work_per_day.get(s, 0.0) for s in roles[r]) for r in spanned}
        shares = share_people(round(group.people.value), work)
        for role in spanned:
            counts[role] = _plus(
                counts.get(role), shares[role], group.people.n,
                f"{group.people.value:g} owners of {'/'.join(group.stages)} shared among "
                f"{', '.join(spanned)} by their work",
            )  # fmt: skip
    for role, stages in roles.items():
        if role not in counts:
            work = sum(work_per_day.get(s, 0.0) for s in stages)
            counts[role] = _sized(work, utilisation, "no owners recorded for " + "/".join(stages))
    return {role: counts[role] for role in roles}


def _plus(before: Estimate | None, people: int, n: int, why: str) -> Estimate:
    """A role's people from one more owner group (several groups may feed one role)."""
    if before is None:
        return Estimate(float(people), math.nan, math.nan, n, why)
    return Estimate(
        before.value + people, math.nan, math.nan, before.n + n, f"{before.note}; {why}"
    )


def _sized(work_per_day: float, utilisation: float, why: str) -> Estimate:
    """People needed for ``work_per_day`` days of work a day at ``utilisation``."""
    people = max(1, math.ceil(work_per_day / utilisation - 1e-9)) if work_per_day > 0 else 1
    return Estimate(
        float(people), math.nan, math.nan, 0,
        f"{why}: sized to carry {work_per_day:.3g} days of work a day at {utilisation:.0%}",
    )  # fmt: skip


def share_people(total: int, work: dict[str, float]) -> dict[str, int]:
    """``total`` people shared in proportion to ``work``, at least one each."""
    names = list(work)
    total = max(total, len(names))
    weights = np.array([max(work[n], 0.0) for n in names])
    if weights.sum() <= 0:
        weights = np.ones(len(names))
    spare = total - len(names)
    exact = spare * weights / weights.sum()
    whole = np.floor(exact).astype(int)
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[: spare - int(whole.sum())]] += 1
    return {n: 1 + int(w) for n, w in zip(names, whole, strict=True)}


def seats(estimate: Estimate) -> int:
    """A headcount estimate as the whole seats the scenario gets (at least one)."""
    return max(1, round(estimate.value)) if not math.isnan(estimate.value) else 1


def utilisation(work_per_day: dict[str, float], headcount: dict[str, Estimate], structure: str):
    """Expected utilisation of each role: its work a day over its people."""
    return {
        role: sum(work_per_day.get(s, 0.0) for s in stages) / seats(headcount[role])
        for role, stages in ROLE_STAGES[structure].items()
    }
