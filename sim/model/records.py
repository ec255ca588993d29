"""What happened to each lead and each rep, and how it becomes a DataFrame.

The simulation writes raw facts only: when a lead entered each stage's queue,
when a rep started and finished the work, when the customer answered, who
handled it, and how it ended. Everything derived (cycle time, win rate,
utilisation) is computed later in ``metrics.py`` from these tables, so a
metric can be corrected without re-running anything.

The log is columnar (one preallocated typed array per field, indexed by lead
id) rather than one object per lead per stage: the processes write a handful
of floats per event, and the table is built in one go at the end. The columns
are ``array.array``s: a write costs about 50 ns (a Python list: a few ns, a
numpy array: about 100 ns), a value takes 8 bytes instead of a pointer and a
float object, and numpy reads the finished column without a copy (converting a
list of 100,000 floats takes about 7 ms, for each of 37 columns). The lead
table is made of those very arrays, so the log is never held twice (a
million-lead log is about 200 MB).

Times are in days since the start of the horizon; NaN means "never happened".
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.config.potential import BOOKINGS_ROLES
from sim.config.scenario import STAGES, Scenario
from sim.model.calendar import WorkCalendar
from sim.model.people import mean_ramp_factor, period_edges, period_quota

NAN = float("nan")

OUTCOMES: tuple[str, ...] = ("open", "won", "lost")
LOST_AT: tuple[str, ...] = (
    "",
    "prospecting",
    "qualification",
    "closing",
    "handoff_to_qualification",
    "handoff_to_closing",
    "handoff_to_pod",
    "reorganisation",
)
LOST_REASONS: tuple[str, ...] = (
    "",
    "failed",
    "dropped_in_handoff",
    "went_cold",
    "rep_left",
    "lost_to_competitor",
    "no_free_rep",
)
ACCOUNT_OUTCOMES: tuple[str, ...] = ("", "active", "churned", "dropped_in_handoff")

OPEN, WON, LOST = range(3)
FAILED, DROPPED, WENT_COLD, REP_LEFT, COMPETITOR, NO_FREE_REP = 1, 2, 3, 4, 5, 6
ACTIVE, CHURNED, ACCOUNT_DROPPED = 1, 2, 3

STAGE_TIME_FIELDS: tuple[str, ...] = ("queue_day", "start_day", "end_day", "done_day")
"""Per stage: entered the queue, rep started, rep finished, customer answered."""


_LEAD_FACTS = ("arrival_day", "segment", "tier", "deal_value", "quality")


def stage_column(stage: str, what: str) -> str:
    """Column name of one stage timestamp or attribute, e.g. ``closing_start_day``."""
    return f"{stage}_{what}"


def as_numpy(column: array, dtype: type) -> np.ndarray:
    """The column as a numpy array of ``dtype`` (no copy when the C types agree)."""
    return np.asarray(column).astype(dtype, copy=False)


class LeadLog:
    """Preallocated columns for every lead of one structure run.

    Each column has the C type of its column in ``leads_frame`` (rep ids
    int32, pod int16, flags and codes int8), so the frame takes the log's
    memory as it is instead of a converted copy.
    """

    def __init__(self, n: int):
        self.n = n
        self.fills: list[tuple[array, float | int]] = []  # every column and its fill, for add_lead
        self.stage_times = {
            (stage, what): self._column("d", NAN) for stage in STAGES for what in STAGE_TIME_FIELDS
        }
        # The same lists by stage index, for the processes: stage_queue_day[s][lead].
        self.stage_queue_day = [self.stage_times[(stage, "queue_day")] for stage in STAGES]
        self.stage_start_day = [self.stage_times[(stage, "start_day")] for stage in STAGES]
        self.stage_end_day = [self.stage_times[(stage, "end_day")] for stage in STAGES]
        self.stage_done_day = [self.stage_times[(stage, "done_day")] for stage in STAGES]
        self.handler = {stage: self._column("i", -1) for stage in STAGES}
        self.stage_handler = [self.handler[stage] for stage in STAGES]
        self.outcome = self._column("b", OPEN)
        self.lost_at = self._column("b", 0)
        self.lost_reason = self._column("b", 0)
        self.end_day = self._column("d", NAN)
        self.pod = self._column("h", -1)
        self.overflowed = self._column("b", False)
        self.account_handler = self._column("i", -1)
        self.account_start_day = self._column("d", NAN)
        self.account_end_day = self._column("d", NAN)
        self.account_outcome = self._column("b", 0)
        self.account_handover_dropped = self._column("b", False)
        self.account_value = self._column("d", NAN)
        self.neglected_reviews = self._column("i", 0)
        self.revenue = self._column("d", 0.0)
        # Up to when each account's revenue is recognised: by lead, for accounts only
        # (not a column of the lead table, and a few per cent of leads become one).
        self.revenue_until_day: dict[int, float] = {}
        self.go_live_day = self._column("d", NAN)
        self.advocate_day = self._column("d", NAN)  # when the account first became an advocate
        self.advocate = self._column("b", False)  # an advocate now (at the horizon: at the end)
        self.referred_by = self._column("q", -1)  # the account whose referral this lead is
        # Ids of outbound leads (sim.model.outbound); None when outbound is off.
        self.outbound_leads: array | None = None
        # Visits to nurture and returns from it: columns only when nurture is on
        # (``track_nurture``), as every column costs bytes per lead.
        self.nurture_visits: array | None = None
        self.nurture_returns: array | None = None

    def track_nurture(self) -> None:
        """Add the nurture columns (``routing``'s nurture is on)."""
        self.nurture_visits = self._column("i", 0)
        self.nurture_returns = self._column("i", 0)

    def _column(self, typecode: str, fill: float | int) -> array:
        """A new column of ``n`` values ``fill``, registered for ``add_lead``."""
        column = array(typecode, [fill]) * self.n
        self.fills.append((column, fill))
        return column

    def add_lead(self) -> int:
        """One more lead (a referral), with every column at its "never happened" value."""
        for column, fill in self.fills:
            column.append(fill)
        lead = self.n
        self.n += 1
        return lead

    def lose(self, lead: int, day: float, at: str, reason: int) -> None:
        """Record that a lead left the funnel without a win."""
        self.outcome[lead] = LOST
        self.lost_at[lead] = LOST_AT.index(at)
        self.lost_reason[lead] = reason
        self.end_day[lead] = day


class RepLog:
    """One person's record in one seat of a structure run (mutable while the run goes on).

    A seat (``rep_id``) is held by a sequence of people when reps leave and are
    replaced; each person has a log of their own. Counters are kept per quota
    period (index ``int(day // period_days)``); ``busy_days`` counts only work
    inside the measured window [warm-up, horizon].
    """

    __slots__ = (
        "rep_id", "person_id", "role", "team", "pod", "level", "initial", "hired_day", "left_day",
        "busy_since", "busy_days", "stage_tasks", "passes", "reviews", "review_wait_days",
        "wins", "bookings", "expansion_value", "churned_value", "book_start_value",
        "accounts_at_end", "skill_z", "seated_day", "seat_opened_day", "seat_closed_day",
    )  # fmt: skip

    def __init__(
        self,
        rep_id: int,
        person_id: int,
        role: str,
        team: str,
        pod: str,
        level: str,
        hired_day: float,
        periods: int,
        initial: bool,
        skill_z: float = 0.0,
    ):
        self.rep_id = rep_id
        self.person_id = person_id
        self.role = role
        self.team = team
        self.pod = pod
        self.level = level
        self.initial = initial  # not a hire: in post at day 0, or moved in at a reorganisation
        self.skill_z = skill_z  # individual skill score, standard normal (0 = average)
        self.hired_day = hired_day  # day 0 minus tenure for a rep in post at day 0
        # When the person took this seat: the hire day, except for a person moved into it at
        # a reorganisation, who starts at a tenure (``hired_day``) set by what they keep.
        self.seated_day = hired_day
        # The seat's life, for vacancy: opened at day 0, at a planned hire's requisition
        # or at a reorganisation's switch; closed (NaN: never) when a switch retires it.
        self.seat_opened_day = 0.0
        self.seat_closed_day = NAN
        self.left_day = NAN
        self.busy_since: float | None = None
        self.busy_days = [0.0] * periods
        self.stage_tasks = [0] * periods
        self.passes = [0] * periods  # leads this person worked that passed their stage
        self.reviews = [0] * periods
        self.review_wait_days = [0.0] * periods
        self.wins = [0] * periods
        self.bookings = [0.0] * periods
        self.expansion_value = [0.0] * periods  # annual value added to accounts held
        self.churned_value = [0.0] * periods  # annual value of accounts held that churned
        self.book_start_value = [0.0] * periods  # annual value of accounts held at period start
        self.accounts_at_end = 0


@dataclass
class ReferralLeads:
    """What is known of the referral leads of one run when they arrive, in lead-id order."""

    arrival_day: array = field(default_factory=lambda: array("d"))
    segment: array = field(default_factory=lambda: array("h"))
    tier: array = field(default_factory=lambda: array("h"))
    deal_value: array = field(default_factory=lambda: array("d"))
    quality: array = field(default_factory=lambda: array("d"))


def leads_frame(
    log: LeadLog,
    leads,
    structure: str,
    replication: int,
    seed: int,
    cohort_days: tuple[float, float],
    referrals: ReferralLeads | None = None,
) -> pd.DataFrame:
    """One row per lead of one structure run: the lead stream's, then referrals.

    Args:
        log: the filled log.
        leads: the ``LeadStream`` that was run.
        structure: structure name.
        replication: replication index.
        seed: root seed of the scenario.
        cohort_days: [first, last) arrival days of the leads that funnel KPIs
            count (after the warm-up, mature by the horizon): flagged ``in_cohort``.
        referrals: the referral leads (ids from ``len(leads)`` on), if any.

    Returns:
        A DataFrame with categorical text columns and float days.
    """
    n = log.n
    facts = {name: getattr(leads, name) for name in _LEAD_FACTS}
    if referrals is not None and len(referrals.arrival_day):
        for name in _LEAD_FACTS:
            facts[name] = np.concatenate([facts[name], np.asarray(getattr(referrals, name))])
    arrival_day = facts["arrival_day"]
    columns: dict[str, object] = {
        "structure": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[structure]),
        "replication": np.full(n, replication, dtype=np.int32),
        "seed": np.full(n, seed, dtype=np.int64),
        "lead_id": np.arange(n, dtype=np.int64),
        "segment": pd.Categorical.from_codes(
            facts["segment"].astype(np.int16, copy=False), categories=list(leads.segment_names)
        ),
        "tier": pd.Categorical.from_codes(
            facts["tier"].astype(np.int16, copy=False), categories=list(leads.tier_names)
        ),
        "arrival_day": arrival_day,
        "in_cohort": (arrival_day >= cohort_days[0]) & (arrival_day < cohort_days[1]),
        "deal_value": facts["deal_value"],
        "quality": facts["quality"],
        "referred_by": as_numpy(log.referred_by, np.int64),
        **lead_source(log),
        "pod": as_numpy(log.pod, np.int16),
        "overflowed": as_numpy(log.overflowed, bool),
    }
    for stage in STAGES:
        for what in STAGE_TIME_FIELDS:
            columns[stage_column(stage, what)] = as_numpy(log.stage_times[(stage, what)], float)
        columns[stage_column(stage, "handler")] = as_numpy(log.handler[stage], np.int32)
    columns.update(
        {
            "outcome": pd.Categorical.from_codes(
                np.asarray(log.outcome), categories=list(OUTCOMES)
            ),
            "lost_at": pd.Categorical.from_codes(np.asarray(log.lost_at), categories=list(LOST_AT)),
            "lost_reason": pd.Categorical.from_codes(
                np.asarray(log.lost_reason), categories=list(LOST_REASONS)
            ),
            "end_day": as_numpy(log.end_day, float),
            "account_handler": as_numpy(log.account_handler, np.int32),
            "account_start_day": as_numpy(log.account_start_day, float),
            "account_end_day": as_numpy(log.account_end_day, float),
            "account_outcome": pd.Categorical.from_codes(
                np.asarray(log.account_outcome), categories=list(ACCOUNT_OUTCOMES)
            ),
            "account_handover_dropped": as_numpy(log.account_handover_dropped, bool),
            "account_value": as_numpy(log.account_value, float),
            "neglected_reviews": as_numpy(log.neglected_reviews, np.int32),
            "revenue": as_numpy(log.revenue, float),
            "go_live_day": as_numpy(log.go_live_day, float),
            "advocate_day": as_numpy(log.advocate_day, float),
            "advocate_at_end": as_numpy(log.advocate, bool),
        }
    )
    if log.nurture_visits is not None:
        columns["nurture_visits"] = as_numpy(log.nurture_visits, np.int32)
        columns["nurture_returns"] = as_numpy(log.nurture_returns, np.int32)
    # The columns as they are (the log's memory, the stream's arrays): a consolidating
    # copy would double the largest table of the run at its peak.
    return pd.DataFrame(columns, copy=False)


SOURCES: tuple[str, ...] = ("inbound", "referral", "outbound")


def lead_source(log: LeadLog) -> dict[str, pd.Categorical]:
    """The ``source`` column, where a lead came from, when outbound is on (else no column)."""
    if log.outbound_leads is None:
        return {}
    codes = np.where(as_numpy(log.referred_by, np.int64) >= 0, 1, 0).astype(np.int8)
    codes[np.asarray(log.outbound_leads, dtype=np.int64)] = 2
    return {"source": pd.Categorical.from_codes(codes, categories=list(SOURCES))}


def reps_frame(
    reps: list[RepLog],
    structure: str,
    replication: int,
    scenario: Scenario,
) -> pd.DataFrame:
    """One row per person per quota period in which they held a seat.

    Besides the raw counters, each row carries the person's level, tenure, mean
    ramp factor, quota and attainment in that period (``people.py`` defines
    them): credit is bookings for closers and generalists, passed leads for lead
    gen and qualifiers, and net revenue retention of the book held at the period
    start for account managers (NaN when they held none). ``busy_days`` and
    ``window_working_days`` are working days with the calendar on (the
    person's seat's working time in the window), else calendar days.
    """
    edges = period_edges(scenario.horizon_days, scenario.quotas.period_days)
    calendar = WorkCalendar.of(scenario)
    ramp = scenario.people.ramp
    window = (scenario.warmup_days, scenario.horizon_days)
    rows: dict[str, list] = {name: [] for name in REP_COLUMNS}
    for rep in reps:
        ramp_days = ramp.days.get(rep.role) if ramp.enabled else 0.0
        annual_quota = scenario.quota(structure, rep.role)
        left = scenario.horizon_days if math.isnan(rep.left_day) else rep.left_day
        for period, (start, end) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
            first, last = max(start, rep.seated_day), min(end, left)
            if last <= first:
                continue
            mean_ramp = mean_ramp_factor(
                first - rep.hired_day, last - rep.hired_day, ramp_days, ramp.start_productivity
            )
            quota_ramp = mean_ramp if scenario.quotas.ramped else 1.0
            credit, quota = credit_and_quota(rep, period, annual_quota, last - first, quota_ramp)
            quota_ok = quota is not None and quota > 0
            window_days = max(0.0, min(last, window[1]) - max(first, window[0]))
            working_days = window_days
            if calendar is not None and window_days > 0:
                worked = calendar.seat(rep.rep_id).worked
                working_days = worked(min(last, window[1])) - worked(max(first, window[0]))
            values = {
                "structure": structure,
                "replication": replication,
                "rep_id": rep.rep_id,
                "person_id": rep.person_id,
                "role": rep.role,
                "team": rep.team,
                "pod": rep.pod,
                "level": rep.level,
                "skill_z": rep.skill_z,
                "period": period,
                "period_start_day": start,
                "period_end_day": end,
                "hired_day": rep.hired_day,
                "left_day": rep.left_day,
                "hired": not rep.initial and start <= rep.hired_day < end,
                "left": start < rep.left_day <= end,
                "days_present": last - first,
                "window_days_present": window_days,
                "window_working_days": working_days,
                "tenure_days": last - rep.hired_day,
                "ramp_factor": mean_ramp,
                "busy_days": rep.busy_days[period],
                "stage_tasks": rep.stage_tasks[period],
                "passes": rep.passes[period],
                "reviews": rep.reviews[period],
                "review_wait_days": rep.review_wait_days[period],
                "wins": rep.wins[period],
                "bookings": rep.bookings[period],
                "expansion_value": rep.expansion_value[period],
                "churned_value": rep.churned_value[period],
                "book_start_value": rep.book_start_value[period],
                "credit": credit,
                "quota": quota if quota is not None else NAN,
                "attainment": credit / quota if quota_ok else NAN,
                "accounts_at_end": rep.accounts_at_end if end >= left and end == edges[-1] else 0,
                "seat_opened_day": rep.seat_opened_day,
                "seat_closed_day": rep.seat_closed_day,
            }
            for name, value in values.items():
                rows[name].append(value)
    return pd.DataFrame(rows)


REP_COLUMNS: tuple[str, ...] = (
    "structure", "replication", "rep_id", "person_id", "role", "team", "pod", "level",
    "skill_z", "period", "period_start_day", "period_end_day", "hired_day", "left_day", "hired",
    "left", "days_present", "window_days_present", "window_working_days", "tenure_days",
    "ramp_factor", "busy_days", "stage_tasks", "passes", "reviews", "review_wait_days", "wins",
    "bookings", "expansion_value", "churned_value", "book_start_value", "credit", "quota",
    "attainment", "accounts_at_end", "seat_opened_day", "seat_closed_day",
)  # fmt: skip
"""Columns of ``reps.parquet``, in order."""


def credit_and_quota(
    rep: RepLog, period: int, annual_quota: float | None, days_present: float, mean_ramp: float
) -> tuple[float, float | None]:
    """What counts towards a rep's quota in a period, and that quota."""
    if rep.role == "account_manager":
        book = rep.book_start_value[period]
        if book <= 0:
            return NAN, None
        retained = book + rep.expansion_value[period] - rep.churned_value[period]
        return retained / book, annual_quota
    credit = rep.bookings[period] if rep.role in BOOKINGS_ROLES else float(rep.passes[period])
    if annual_quota is None:
        return credit, None
    return credit, period_quota(annual_quota, days_present, mean_ramp)


def samples_frame(samples: dict[str, list], structure: str, replication: int) -> pd.DataFrame:
    """Work-in-progress samples per team over time (one row per team per sample)."""
    df = pd.DataFrame(samples)
    df.insert(0, "replication", replication)
    df.insert(0, "structure", structure)
    return df
