"""Segment expertise from experience: each person's learning curve per segment.

Like a new account executive moved to the banking vertical: the first deals
go slower to win, and after a few dozen they know the buyers' language. Each
person counts the deals they have worked in each segment (a deal counts once
per person, whichever of its stages they work, won or lost); the pass
probability of the next deal they work in that segment is multiplied by
``LearningConfig.factor`` of that count. The count belongs to the person, not
the seat: a new hire starts at zero, and the people in post at day 0 at
``initial_deals`` in every segment, in every structure.

Nothing here favours a structure: a pod's rep sees the deals of one or two
segments, a Conveyor's or All-In rep those of all, so the pod's rep climbs
each curve faster. Time unit: days.
"""

from __future__ import annotations

from array import array

import numpy as np

from sim.config.scenario import LearningConfig
from sim.model.lead_table import LeadBook
from sim.model.teams import Rep


class SegmentExperience:
    """The deals each person has worked in each segment during one structure run.

    Attributes:
        learning: the learning curve.
        leads: the run's leads (each lead's segment).
        deals: deals worked by person and segment, keyed ``person_id * segments + segment``;
            absent = the person's starting count.
    """

    __slots__ = ("learning", "leads", "segments", "organic_segments", "handler", "deals", "factors")

    def __init__(self, learning: LearningConfig, leads: LeadBook, handler: list[array]):
        self.learning = learning
        self.leads = leads
        self.segments = len(leads.stream.segment_names)
        # The stream's segment codes, read per task, as an ``array("i")`` (4 bytes a
        # lead): its item is a Python int at once, a numpy element a scalar to convert.
        codes = np.asarray(leads.stream.segment, dtype=np.int32)
        self.organic_segments = array("i", codes.tobytes())
        self.handler = handler  # the lead log's stage handlers, by stage
        self.deals: dict[int, float] = {}
        self.factors: dict[float, float] = {}  # the curve by count (a few hundred counts a run)

    def segment_of(self, lead: int) -> int:
        """The lead's segment code (a referral's is kept with the run's referrals)."""
        organic = self.leads.n_organic
        if lead < organic:
            return self.organic_segments[lead]
        return self.leads.referrals.segment[lead - organic]

    def factor(self, lead: int, s: int, rep: Rep) -> float:
        """Pass-probability multiplier of ``rep`` working stage ``s`` of ``lead``; counts the deal.

        The deals worked before this one set the factor. A person who worked
        the stage before too (a generalist, or a pod member who covered)
        already counted the deal there.
        """
        record = rep.record
        organic = self.leads.n_organic  # ``segment_of``, inlined: once per task
        segment = self.organic_segments[lead] if lead < organic else self.segment_of(lead)
        key = record.person_id * self.segments + segment
        worked = self.deals.get(key)
        if worked is None:
            worked = self.learning.initial_deals if record.initial else 0.0
        if s > 0 and self.handler[s - 1][lead] == rep.rep_id:
            worked = worked - 1.0 if worked > 1.0 else 0.0  # ``max(worked - 1, 0)``
        else:
            self.deals[key] = worked + 1.0
        factor = self.factors.get(worked)  # ``curve``, inlined on its common path
        return self.curve(worked) if factor is None else factor

    def curve(self, deals_worked: float) -> float:
        """``LearningConfig.factor`` of a count of deals, worked out once per count."""
        factor = self.factors.get(deals_worked)
        if factor is None:
            factor = self.factors[deals_worked] = self.learning.factor(deals_worked)
        return factor


def segment_experience(
    learning: LearningConfig, leads: LeadBook, handler: list[array]
) -> SegmentExperience | None:
    """The run's experience counts, or None when the learning curve is off."""
    return SegmentExperience(learning, leads, handler) if learning.enabled else None
