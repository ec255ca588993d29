"""The KPI registry: every KPI's label, unit, direction, format, family and meaning, once.

A KPI is a column of the per-run table ``kpi_values.run_kpis`` writes
(``kpis.csv``). Everything that prints, plots, ranks or compares a KPI reads
what it needs to know here: what a sales leader calls it, the unit of the
number in the table, whether more is better, how to print it, and which family
of the model it measures. A board deck keeps one glossary at the back; this is
it, so that the terminal, the comparison report, the sweep plots and the docs'
KPI reference cannot say different things about one number.

Vocabulary:
    unit: what the stored number counts, e.g. ``fraction`` (0-1), ``days``,
        ``currency``, ``leads per replication`` (a count in one run, averaged
        over replications), ``people``.
    format: how a value is printed: ``percent`` (a fraction shown in %; a
        difference of two in percentage points), ``points`` (a change of a
        fraction, in percentage points), ``count``, ``days``, ``money``
        (whole currency units) or ``throughput`` (two decimals).
    direction: ``higher`` or ``lower`` is better, or ``neither`` (a size or a
        load, good or bad depending on the rest).
    family: funnel (the measured cohort of leads), flow (the measured window),
        market, customers, people, money (the whole horizon), predictability.

KPIs of a stage, role or handoff come in families (``conversion_<stage>``,
``utilisation_<role>``): each member has its own entry, and ``pattern`` names
the family for the reference table.

Only the standard library and ``sim.config``: importing this module costs
nothing, so a sweep file can be checked against it before pandas loads.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from sim.config.scenario import ROLES, STAGE_ROLES, STAGES

Direction = Literal["higher", "lower", "neither"]
Format = Literal["percent", "points", "count", "days", "money", "throughput"]
Family = Literal[
    "funnel", "flow", "market", "customers", "people", "money", "predictability", "other"
]

FAMILIES: tuple[Family, ...] = (
    "funnel",
    "flow",
    "market",
    "customers",
    "people",
    "money",
    "predictability",
)
"""The families in the order the reference lists them."""

LOST_REASONS: tuple[str, ...] = ("failed", "dropped_in_handoff", "went_cold", "rep_left")
"""Reasons a lead is lost inside the team, each counted as ``lost_<reason>``."""

RELAY_LOSS_KPIS: dict[str, str] = {
    **{f"handoff_to_{stage}": f"dropped_handoff_to_{stage}" for stage in STAGES[1:]},
    "handoff_to_pod": "dropped_handoff_to_pod",
    "handoff_to_account_management": "accounts_dropped_in_handoff",
}
"""Each relay point of the funnel (``funnel_tables.funnel_table``) and the KPI of its losses."""


@dataclass(frozen=True)
class KpiSpec:
    """What salesim knows about one KPI.

    Attributes:
        name: the column of ``kpi_values.run_kpis``.
        label: what a sales leader calls it, without the unit.
        unit: the unit of the stored number.
        format: how a value is printed (see the module docstring).
        direction: ``higher``, ``lower`` or ``neither`` is better.
        family: the part of the model it measures.
        description: one line: what is counted, over which leads or time.
        pattern: the family's name for a per-stage, per-role or per-handoff
            KPI (``utilisation_<role>``); empty for a single KPI.
        short: its name inside a sentence (default: the label).
        heading: a verdict's heading for it as an objective; ``{horizon_days}``
            is filled in (default: the label).
        ahead: how a verdict says one structure is ahead on it, with
            ``{margin}``: ``earns {margin} more profit`` (default: a generic
            sentence on the label).
        bounds: the values it can take, ``(low, high)``; None if unbounded.
            A share of a whole lies in [0, 1], and so does its mean: a
            confidence interval is cut to the bounds (``clip``).
    """

    name: str
    label: str
    unit: str
    format: Format
    direction: Direction
    family: Family
    description: str
    pattern: str = ""
    short: str = ""
    heading: str = ""
    ahead: str = ""
    bounds: tuple[float, float] | None = None

    def clip(self, low: float, high: float) -> tuple[float, float]:
        """A confidence interval of the mean cut to the KPI's bounds.

        A t interval of a share near 0 % can reach below it (17.8 % of
        closer rep-periods at quota, 95 % CI -0.7 % to 36.3 %). The true
        mean lies within the bounds, so cutting the interval there drops
        only values it cannot take: the coverage is the same.
        """
        if self.bounds is None:
            return low, high
        lowest, highest = self.bounds
        return min(max(low, lowest), highest), max(min(high, highest), lowest)

    @property
    def in_sentence(self) -> str:
        """Its name inside a sentence: ``wins per 30 days``."""
        return self.short or self.label

    def heading_for(self, horizon_days: float) -> str:
        """The verdict's heading for it: ``Profit over the 365 days``."""
        text = (self.heading or self.label).format(horizon_days=f"{horizon_days:g}")
        return text[:1].upper() + text[1:]

    @property
    def better(self) -> int:
        """+1 if more is better, -1 if less is, 0 if neither."""
        return {"higher": 1, "lower": -1, "neither": 0}[self.direction]

    @property
    def shown_unit(self) -> str:
        """The unit of a printed value: ``%`` for a fraction, else the stored unit."""
        if self.format == "percent":
            return self.unit.replace("fraction", "%", 1)
        if self.format == "points":
            return self.unit.replace("fraction", "percentage points", 1)
        return self.unit

    @property
    def difference_unit(self) -> str:
        """The unit of a difference of two values (of two fractions: percentage points)."""
        if self.format in ("percent", "points"):
            return self.unit.replace("fraction", "percentage points", 1)
        return self.unit

    @property
    def title(self) -> str:
        """Label and printed unit, for a table row: ``median cycle time ... (days)``."""
        return f"{self.label} ({self.shown_unit})"

    @property
    def column_title(self) -> str:
        """Label and stored unit, for a plot axis of the stored numbers."""
        return f"{self.label} ({self.unit})"

    def format_value(self, value: float | None, difference: bool = False) -> str:
        """A value (or a difference of two) with sensible digits and its % sign.

        Fractions are shown in % (differences in percentage points, ``pp``),
        money with thousands separators and no decimals, throughput with two
        decimals, days and counts with one; ``-`` when undefined.
        """
        if value is None or not math.isfinite(value):
            return "-"
        sign = "+" if difference and value > 0 else ""
        if self.format == "percent":
            return f"{sign}{100 * value:.1f}{' pp' if difference else ' %'}"
        if self.format == "points":
            return f"{sign}{100 * value:.1f} pp"
        if self.format == "money":
            return f"{sign}{value:,.0f}"
        if self.format == "throughput":
            return f"{sign}{value:.2f}"
        return f"{sign}{value:,.1f}"

    def format_mean_ci(self, mean: float, low: float, high: float) -> str:
        """``mean ± half-width``, or the mean alone when the interval is undefined."""
        text = self.format_value(mean)
        if text == "-" or not (math.isfinite(low) and math.isfinite(high)):
            return text
        half = self.format_value((high - low) / 2).replace(" %", "").replace(" pp", "")
        return f"{text} ± {half}"


def _one(
    name: str,
    label: str,
    unit: str,
    format: Format,
    direction: Direction,
    family: Family,
    description: str,
    **words: str,
) -> tuple[KpiSpec, ...]:
    """One KPI; ``words`` are ``short``, ``heading`` and ``ahead`` (see ``KpiSpec``)."""
    return (KpiSpec(name, label, unit, format, direction, family, description, **words),)


def _each(
    pattern: str,
    values: Iterable[str],
    label: str,
    unit: str,
    format: Format,
    direction: Direction,
    family: Family,
    description: str,
) -> tuple[KpiSpec, ...]:
    """One KPI per value of a family: ``<...>`` in the pattern, ``{}`` in label and description."""
    head, _, rest = pattern.partition("<")
    placeholder, _, tail = rest.partition(">")
    _FAMILY_TEXT[pattern] = (
        label.format(f"<{placeholder}>"),
        description.format(f"<{placeholder}>"),
    )
    specs = []
    for value in values:
        words = value.replace("_", " ")
        specs.append(
            KpiSpec(
                f"{head}{value}{tail}",
                label.format(words),
                unit,
                format,
                direction,
                family,
                description.format(words),
                pattern,
            )
        )
    return tuple(specs)


_FAMILY_TEXT: dict[str, tuple[str, str]] = {}
"""Label and description of each family of KPIs, with its placeholder (``<role>``)."""


_STAGE_WORKERS = tuple(r for r in ROLES if any(r in roles[:3] for roles in STAGE_ROLES.values()))
"""Roles that work a funnel stage (account managers take over after the win)."""

_LEADS = "leads per replication"
_ACCOUNTS = "accounts per replication"

# fmt: off
_ENTRIES: tuple[tuple[KpiSpec, ...], ...] = (
    # --- funnel: the measured cohort --------------------------------------------------
    _one("leads_in", "leads in the measured cohort", _LEADS, "count", "neither", "funnel",
         "Leads that arrived after the warm-up and at least maturity_days before the horizon "
         "(the cohort): the base of the funnel KPIs."),
    _one("won", "won leads", _LEADS, "count", "higher", "funnel",
         "Cohort leads that were won."),
    _one("lost", "lost leads", _LEADS, "count", "lower", "funnel",
         "Cohort leads that were lost, for any reason."),
    _one("open", "leads still open at the horizon", _LEADS, "count", "neither", "funnel",
         "Cohort leads still in the funnel at the horizon (never counted as lost)."),
    _one("conversion", "end-to-end conversion, lead to win", "fraction", "percent", "higher",
         "funnel", "Won over all cohort leads."),
    _one("win_rate_decided", "win rate of decided leads", "fraction", "percent", "higher",
         "funnel", "Won over won plus lost cohort leads: open leads left out."),
    _each("conversion_<stage>", STAGES, "conversion at {}", "fraction", "percent", "higher",
          "funnel", "Leads that passed {} over those whose fate there is known."),
    _one("lost_failed", "leads lost: the customer said no", _LEADS, "count", "lower", "funnel",
         "Cohort leads that failed a stage (the customer's answer was no)."),
    _one("lost_dropped_in_handoff", "leads dropped in handoffs", _LEADS, "count", "lower",
         "funnel", "Cohort leads lost in a relay between two reps or pods."),
    _one("lost_went_cold", "leads gone cold waiting", _LEADS, "count", "lower", "funnel",
         "Cohort leads that waited in a queue past their patience."),
    _each("dropped_handoff_to_<stage>", STAGES[1:], "leads dropped in handoff to {}",
          _LEADS, "count", "lower", "funnel",
          "Cohort leads lost in the relay into {} (structures with a relay there)."),
    _one("dropped_handoff_to_pod", "leads dropped when passed to another pod", _LEADS, "count",
         "lower", "funnel", "Cohort leads lost while a pod passed them to another pod."),
    _one("leads_overflowed", "leads passed to another pod", _LEADS, "count", "neither",
         "funnel", "Cohort leads a pod passed to another pod (Pods with overflow)."),
    _one("leads_nurtured", "leads put in nurture", _LEADS, "count", "lower", "funnel",
         "Cohort leads that went to nurture at least once: gone cold, or every rep full "
         "(with nurture on)."),
    _one("leads_back_from_nurture", "leads back from nurture", _LEADS, "count", "neither",
         "funnel", "Cohort leads that came back from nurture at least once (with nurture on)."),
    _one("mean_days_to_close", "mean cycle time, arrival to win", "days", "days", "lower",
         "funnel", "Mean days from arrival to win of the cohort's won leads."),
    _one("p50_days_to_close", "median cycle time, arrival to win", "days", "days", "lower",
         "funnel", "Median days from arrival to win of the cohort's won leads."),
    _one("p90_days_to_close", "90th percentile cycle time, arrival to win", "days", "days",
         "lower", "funnel", "90th percentile of days from arrival to win (cohort wins)."),
    _each("mean_wait_days_<role>", _STAGE_WORKERS, "mean wait: {}", "days", "days", "lower",
          "funnel", "Mean days cohort leads queued before the {} role started a stage."),
    # --- flow: the measured window ------------------------------------------------------
    _one("wins_per_30_days", "throughput", "wins per 30 days", "throughput", "higher", "flow",
         "Wins from the end of the warm-up to the horizon, per 30 days.",
         short="wins per 30 days", heading="Deals won per 30 days",
         ahead="wins {margin} more deals per 30 days"),
    _one("wins_in_horizon", "wins in the horizon", "wins per replication", "count", "higher",
         "flow", "Every win of the run, warm-up included."),
    _each("utilisation_<role>", ROLES, "utilisation: {}", "fraction", "percent", "neither",
          "flow", "Busy time of the {}s over their time present, in the measured window; "
          "working hours over working hours with the calendar on, else around the clock."),
    # --- market ---------------------------------------------------------------------------
    _one("lost_to_competitor", "leads lost to the competitor", _LEADS, "count", "lower",
         "market", "Cohort leads a competitor won before the team closed them."),
    _one("market_share", "market share of decided deals", "fraction", "percent", "higher",
         "market", "Our wins over the cohort's deals decided by us or by a competitor."),
    _one("market_share_trend_per_year", "market share trend", "fraction per year", "points",
         "higher", "market", "Slope of the monthly market share after the warm-up, per year."),
    # --- customers --------------------------------------------------------------------------
    _one("key_account_conversion", "conversion of key accounts, the largest tier", "fraction",
         "percent", "higher", "customers",
         "Conversion of the cohort's leads in the tier of the largest deals (several tiers)."),
    _one("accounts_churned", "accounts churned", _ACCOUNTS, "count", "lower", "customers",
         "Won accounts that churned before the horizon."),
    _one("accounts_dropped_in_handoff", "won deals dropped in handoff to account care",
         _ACCOUNTS, "count", "lower", "customers",
         "Won deals whose relay from the closer to account management was dropped: lost "
         "without contracts; under a contract still billing, with a shakier first review."),
    _one("neglected_reviews", "account reviews neglected", "reviews per replication", "count",
         "lower", "customers", "Account reviews that waited longer than the neglect limit."),
    _one("mean_days_to_go_live", "mean time from win to go-live", "days", "days", "lower",
         "customers", "Mean days from win to the end of implementation (fulfilment on)."),
    _one("p90_days_to_go_live", "90th percentile time from win to go-live", "days", "days",
         "lower", "customers", "90th percentile of days from win to go-live (fulfilment on)."),
    _one("late_go_live_share", "wins that went live late", "fraction", "percent", "lower",
         "customers", "Share of the window's wins that went live after the target days."),
    _one("referral_leads", "referral leads", _LEADS, "count", "higher", "customers",
         "Cohort leads referred by an advocate account (referrals on)."),
    _one("referral_share", "share of the pipeline from referrals", "fraction", "percent",
         "higher", "customers", "Referral leads over all leads of the measured cohort."),
    _one("referral_wins", "wins from referral leads", "wins per replication", "count",
         "higher", "customers", "Cohort referral leads that were won."),
    _one("outbound_leads", "outbound leads", _LEADS, "count", "higher", "customers",
         "Cohort leads booked by prospecting reps (outbound on)."),
    _one("outbound_share", "share of the pipeline from outbound", "fraction", "percent",
         "neither", "customers", "Outbound leads over all leads of the measured cohort."),
    _one("outbound_wins", "wins from outbound leads", "wins per replication", "count",
         "higher", "customers", "Cohort outbound leads that were won."),
    _one("conversion_inbound", "conversion of inbound leads", "fraction", "percent", "higher",
         "customers", "Wins over leads of the cohort from the inbound stream (outbound on)."),
    _one("conversion_outbound", "conversion of outbound leads", "fraction", "percent",
         "higher", "customers", "Wins over the cohort's outbound leads, from qualification on."),
    _one("outbound_leads_per_prospector_per_30_days", "outbound leads per prospecting seat",
         "leads per seat per 30 days", "throughput", "higher", "customers",
         "Outbound leads booked in the measured window per seat of a prospecting role."),
    _one("advocates_at_end", "advocate accounts at the horizon", "accounts", "count",
         "higher", "customers", "Active accounts that are advocates at the horizon."),
    _one("advocate_share", "advocates among active accounts at the horizon", "fraction",
         "percent", "higher", "customers", "Advocates over active accounts at the horizon."),
    # --- people -------------------------------------------------------------------------------
    _one("headcount", "seats, the nominal headcount", "people", "count", "neither", "people",
         "Rep seats of the structure at the horizon (account managers included; after a "
         "reorganisation, the new structure's)."),
    _each("headcount_<role>", ROLES, "seats: {}", "people", "count", "neither", "people",
          "Seats of {}s."),
    _one("managers", "first-line managers", "people", "count", "neither", "people",
         "One manager per manager_span seats."),
    _one("hires", "hires into vacated seats", "people", "count", "neither", "people",
         "People hired into seats that someone left."),
    _one("leavers", "reps who left", "people", "count", "lower", "people",
         "People who left during the horizon."),
    _one("annual_turnover", "rep turnover, leavers per seat", "fraction per year", "percent",
         "lower", "people", "Leavers per seat per year (seats counted for the time they exist)."),
    _one("vacancy_share", "seat time left vacant", "fraction", "percent", "lower", "people",
         "Seat-days with nobody in the seat over the seat-days the seats exist in the horizon: "
         "from day 0, a planned hire's requisition or a reorganisation's switch, to the "
         "switch that retires an old seat."),
    _one("mean_ramp_factor", "mean pace vs a ramped rep", "fraction", "percent", "higher",
         "people", "Pace of the people in the seats relative to a ramped rep, by days present."),
    _one("weak_performer_share", "rep-days worked by weak performers", "fraction", "percent",
         "lower", "people", "Share of the window's rep-days worked by weak performers."),
    _one("lost_rep_left", "leads lost when their rep left", _LEADS, "count", "lower", "people",
         "Cohort leads lost because the rep holding them left."),
    _one("share_reps_at_quota", "share of rep-periods at quota", "fraction", "percent",
         "higher", "people", "Counted rep-periods (after the warm-up) at or above quota."),
    _each("share_at_quota_<role>", ROLES, "{} rep-periods at quota", "fraction", "percent",
          "higher", "people", "Counted rep-periods of {}s at or above quota."),
    _each("mean_attainment_<role>", ROLES, "mean attainment: {}", "fraction of quota",
          "percent", "higher", "people", "Mean credit over quota of the counted {} rep-periods."),
    # --- money: the whole horizon --------------------------------------------------------------
    _one("bookings", "bookings, the value of won deals", "currency", "money", "higher", "money",
         "First-year value of the deals won in the horizon."),
    _one("revenue", "revenue recognised in the horizon", "currency", "money", "higher", "money",
         "Revenue recognised from the won accounts over the horizon."),
    _one("arr_at_end", "annual recurring revenue at the horizon", "currency", "money",
         "higher", "money", "Yearly value of the accounts still active at the horizon.",
         short="annual recurring revenue at the end",
         heading="Book of business built (annual recurring revenue at the end)",
         ahead="ends with {margin} more annual recurring revenue"),
    _one("book_value_at_end", "value of the book built", "currency", "money", "higher",
         "money", "The active accounts' margin less the cost to serve them for money.book_years "
         "years after the horizon, at the base churn, discounted (sim.analysis.money.book_value).",
         heading="Value of the book of customers built",
         ahead="builds a book worth {margin} more"),
    _one("salary_cost", "rep base salaries", "currency", "money", "lower", "money",
         "Base pay of the reps for their days present."),
    _one("commission_cost", "commission of closers and generalists", "currency", "money", "lower",
         "money", "Commission of closers and generalists on their bookings."),
    _one("bonus_cost", "bonuses of the other roles", "currency", "money", "lower", "money",
         "On-target bonuses of the other roles, pro rata to attainment."),
    _one("manager_cost", "managers' pay, base and bonus", "currency", "money", "lower", "money",
         "Managers' base pay and attainment bonus."),
    _one("overhead_cost", "overhead per head", "currency", "money", "lower", "money",
         "Overhead per person present, reps and managers."),
    _one("hiring_cost", "hiring and onboarding", "currency", "money", "lower", "money",
         "Recruiting and onboarding cost of every hire."),
    _one("cost", "cost: pay, managers, overhead, hiring", "currency", "money", "lower",
         "money", "Every cost of the team over the horizon."),
    _one("gross_profit", "gross profit, revenue x margin", "currency", "money", "higher",
         "money", "Revenue times the gross margin."),
    _one("profit", "profit, gross margin - cost", "currency", "money", "higher", "money",
         "Gross profit less the team's cost.",
         short="profit", heading="Profit over the {horizon_days} days",
         ahead="earns {margin} more profit"),
    _one("profit_with_book", "profit counting the book built", "currency", "money", "higher",
         "money", "Profit over the horizon plus the value of the book built.",
         ahead="earns {margin} more counting the book built"),
    _one("roi", "return on the team's cost, profit / cost", "fraction", "percent", "higher",
         "money", "Profit over cost."),
    _one("cost_per_won_deal", "cost per won deal", "currency", "money", "lower", "money",
         "Cost over the wins in the horizon.",
         ahead="spends {margin} less per won deal"),
    _one("revenue_per_rep", "revenue per seat", "currency", "money", "higher", "money",
         "Revenue over seats."),
    _one("new_hire_payback_days", "payback of a new closing hire", "days", "days", "lower",
         "money", "Days until a new closer's margin repays their cost (NaN beyond 5 years)."),
    # --- predictability -----------------------------------------------------------------------
    _one("forecast_abs_error", "forecast error, mean absolute", "fraction of bookings",
         "percent", "lower", "predictability",
         "Mean absolute relative error of the stage-weighted quarterly forecast."),
    _one("forecast_bias", "forecast bias, mean signed error", "fraction of bookings",
         "percent", "neither", "predictability",
         "Mean signed relative error of the forecast: above 0, the team over-forecasts."),
)
# fmt: on

_NOT_SHARES = frozenset({"roi"})
"""KPIs in the unit ``fraction`` that are ratios, not shares of a whole: unbounded."""


def _bounded(spec: KpiSpec) -> KpiSpec:
    """The spec with its bounds: [0, 1] for a share of a whole (unit ``fraction``)."""
    if spec.unit == "fraction" and spec.name not in _NOT_SHARES:
        return replace(spec, bounds=(0.0, 1.0))
    return spec


KPIS: dict[str, KpiSpec] = {spec.name: _bounded(spec) for entries in _ENTRIES for spec in entries}
"""Every KPI ``kpi_values.run_kpis`` can produce, by column name, grouped by family."""


def objective_problems(objectives: Iterable[str]) -> list[str]:
    """Objectives (``decision.objectives``) that are no KPI or have no better direction.

    One line each, naming the field; empty when every one can pick a structure.
    """
    problems = []
    for name in objectives:
        if name not in KPIS:
            close = difflib.get_close_matches(name, list(KPIS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "the docs' KPI page lists them"
            problems.append(f"decision.objectives: {name!r} is not a KPI ({hint})")
        elif KPIS[name].direction == "neither":
            problems.append(
                f"decision.objectives: {name!r} ({KPIS[name].label}) is neither better higher "
                "nor lower: it cannot pick a structure"
            )
    return problems


def kpi_spec(name: str) -> KpiSpec:
    """The registry entry of a KPI; a column it does not know gets a plain one.

    A plain entry (label: the name in words, unit and family empty, counted,
    no direction) lets tables written by another salesim version still print.
    """
    if name in KPIS:
        return KPIS[name]
    return KpiSpec(name, name.replace("_", " "), "", "count", "neither", "other", "")


def is_kpi(name: str) -> bool:
    """True when ``name`` is a column ``kpi_values.run_kpis`` can produce."""
    return name in KPIS


def format_value(kpi: str, value: float | None, difference: bool = False) -> str:
    """A KPI value (or a difference of two) as printed: ``KpiSpec.format_value``."""
    return kpi_spec(kpi).format_value(value, difference)


def format_mean_ci(kpi: str, mean: float, low: float, high: float) -> str:
    """``mean ± half-width`` of a KPI: ``KpiSpec.format_mean_ci``."""
    return kpi_spec(kpi).format_mean_ci(mean, low, high)


def kpi_reference_markdown() -> str:
    """The registry as a Markdown table, for the docs' KPI reference page.

    One row per KPI, or per family of KPIs (``utilisation_<role>``) with
    ``<role>`` in its label and meaning, in registry order (by family).
    Columns: KPI, what it is, unit, better, family, meaning.
    """
    lines = [
        "| KPI | what it is | unit | better | family | meaning |",
        "|---|---|---|---|---|---|",
    ]
    seen = set()
    for spec in KPIS.values():
        key = spec.pattern or spec.name
        if key in seen:
            continue
        seen.add(key)
        label, description = _FAMILY_TEXT.get(spec.pattern, (spec.label, spec.description))
        cells = [label, spec.unit, spec.direction, spec.family, description]
        cells = [f"`{key}`"] + [re.sub(r"(<\w+>)", r"`\1`", c) for c in cells]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
