"""The calibrated scenario file: the estimates written as commented TOML.

``scenario_toml`` writes a scenario that ``simulate`` accepts unchanged, in
named sections: a header saying which export and how many of its rows it
rests on, ``[leads]`` with its segments and size tiers, each ``[stages.*]``,
``[decay]``, ``[people.*]``, and the structure with its handoff and pods.
Beside every value a comment gives its 95 % confidence interval and sample
size, or says that the export cannot measure it and the neutral value was
written: like an auditor's working papers, each number says where it came
from. Names from the export and the command line are written as TOML strings
by tomlkit, so a quote or backslash in them stays a character.
``calibrated_scenario`` reads the text back, validated.
"""

from __future__ import annotations

import math

import tomlkit

from sim.config.scenario import STAGES, Scenario
from sim.config.source import CalibrationSource
from sim.crm.calibrate import Calibration
from sim.crm.capacity import seats
from sim.crm.checks import stale_sentence
from sim.crm.estimates import Estimate
from sim.crm.team import same_team_as


def _toml(value: str | list[str]) -> str:
    """A text or a list of texts as a TOML value, quoted and escaped by tomlkit.

    Names come from the export (segments, tiers) and the command line (the file
    name): a quote or backslash in them must not end or change the string.
    """
    return tomlkit.item(value).as_string()


def _num(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def scenario_toml(
    cal: Calibration,
    name: str,
    source: str,
    replications: int = 5,
    unusable_file: str | None = None,
    made_from: CalibrationSource | None = None,
    structures: tuple[str, ...] = (),
) -> str:
    """A commented scenario file that ``simulate`` accepts unchanged.

    Args:
        cal: the estimates.
        name: the scenario name.
        source: the export file name, for the header comment.
        replications: replications the scenario asks for.
        unusable_file: where the unusable rows are listed, for the header comment.
        made_from: the export, mapping and options, written as ``[calibration]``
            so that ``backtest`` needs only the scenario.
        structures: the structures to write (default: the team's own); each
            gets the calibrated team's people (``team.same_team_as``).

    Returns:
        TOML text.
    """
    lines = [
        *_header_lines(cal, source, unusable_file),
        "",
        f"name = {_toml(name)}",
        f"description = {_toml(f'calibrated from {source}')}",
        "seed = 0",
        f"replications = {replications}",
        f"horizon_days = {cal.horizon_days:g}   # the export's period",
        "",
        *_leads_lines(cal, made_from is not None and made_from.trend),
        "",
        *_tier_lines(cal),
    ]
    for stage in STAGES:
        lines += ["", *_stage_lines(cal, stage)]
    lines += ["", *_decay_lines(cal), "", *_PEOPLE_LINES]
    for structure in structures or (cal.structure,):
        lines += ["", *_structure_lines(cal, structure)]
    if made_from is not None:
        lines += ["", *_calibration_lines(made_from)]
    return "\n".join(lines) + "\n"


def _calibration_lines(made_from: CalibrationSource) -> list[str]:
    """The ``[calibration]`` table, written by tomlkit: any path or name round-trips."""
    table = tomlkit.table()
    table.add(tomlkit.comment("what this scenario was calibrated from: `backtest FILE` reads it"))
    for key, value in made_from.model_dump(exclude_none=True).items():
        table.add(key, value)
    document = tomlkit.document()
    document.add("calibration", table)
    return tomlkit.dumps(document).rstrip("\n").split("\n")


def _header_lines(cal: Calibration, source: str, unusable_file: str | None) -> list[str]:
    """Where the scenario comes from: the export, its leads, period and unusable rows."""
    history = cal.history
    first = history.origin.strftime("%Y-%m-%d")
    lines = [
        f"# Calibrated from {source} by `python -m sim calibrate` ({cal.structure}).",
        f"# {len(history.leads):,} leads used of {history.rows_read:,} rows read "
        f"({history.shape} shape); day 0 = {first}, observed for {history.as_of_day:.1f} days.",
    ]
    if history.problems:
        where = unusable_file or "the calibrate output"
        lines.append(
            f"# {history.rows_unusable} rows could not be used and "
            f"{history.leads_left_out} leads were left out; each row is listed in {where}:"
        )
        lines.append(
            "#   "
            + ", ".join(f"{count} {kind}" for kind, count in history.problem_counts().items())
        )
    if cal.stale_open:
        lines.append(f"# {stale_sentence(cal)}.")
    if cal.cycle_fit is not None:
        lines += [f"# {line}" for line in cal.cycle_fit.lines()]
    return lines + [
        "# Each estimate has its 95 % confidence interval and sample size (n) beside it.",
        "# What an export cannot measure is set to its neutral value and says so.",
    ]


def _leads_lines(cal: Calibration, trend: bool = False) -> list[str]:
    """The ``[leads]`` table (arrivals, seasonality, deal values) and its segments."""
    lines = [
        "[leads]",
        f"arrivals_per_day = {_num(cal.arrivals_per_day.value)}   "
        f"# {cal.arrivals_per_day.comment(' per day')}",
    ]
    if cal.seasonality is not None:
        amplitude, peak = cal.seasonality
        significant = amplitude.low > 0
        value = min(1.0, amplitude.value) if significant else 0.0
        why = "" if significant else " (not distinguishable from 0: flat)"
        lines += [
            f"seasonality_amplitude = {_num(value)}   # {amplitude.comment()}{why}",
            f"seasonality_peak_day = {peak:.1f}   # day of the year, counted from day 0",
        ]
    else:
        lines.append("# seasonality: not fitted, the export covers less than two years")
    lines += _arrival_shape_lines(cal, trend)
    mean_value = cal.mean_deal_value
    if mean_value.n:
        lines.append(f"mean_deal_value = {mean_value.value:.2f}   # {mean_value.comment()}")
        lines.append(
            f"deal_value_sigma = {_num(min(3.0, cal.deal_value_sigma.value))}   "
            f"# log-normal spread within segments{' and tiers' if cal.tiers else ''}; "
            f"{cal.deal_value_sigma.comment()}"
        )
    else:
        lines.append("mean_deal_value = 25000.0   # not measured: no amounts in the export")
    lines.append("quality_weight = 0.0   # not identifiable from an export")
    for segment, share in cal.segments.items():
        lines += ["", *_segment_lines(cal, segment, share)]
    return lines


def _arrival_shape_lines(cal: Calibration, trend: bool) -> list[str]:
    """The export's months (short exports) and the trend (written only when asked for)."""
    lines = []
    if cal.monthly_factors:
        factors = ", ".join(f"{f:.3g}" for f in cal.monthly_factors)
        lines += [
            "# arrivals month by month as they were (months of 365.25 / 12 days from day 0,",
            "# relative to arrivals_per_day; the last month's rate holds after them)",
            f"monthly_factors = [{factors}]",
        ]
    growth = cal.growth_per_year
    if growth is None or not growth.n:
        return lines
    said = f"{growth.value:+.0%} a year ({growth.comment()})"
    if trend:
        return lines + [
            f"growth_per_year = {_num(growth.value)}   # trend {said}; compounds after the "
            "export's months: a forecast forward"
        ]
    return lines + [f"# trend of arrivals: {said}; calibrate --trend forecasts forward with it"]


def _segment_lines(cal: Calibration, segment: str, share: Estimate) -> list[str]:
    """One ``[[leads.segments]]`` block: the segment's share and mean amount."""
    value, mean_value = cal.segment_values[segment], cal.mean_deal_value
    multiplier = value.value / mean_value.value if value.n and mean_value.n else 1.0
    return [
        "[[leads.segments]]",
        f"name = {_toml(segment)}",
        f"share = {_num(share.value)}   # {share.comment()}",
        f"value_multiplier = {_num(multiplier)}   # mean amount "
        f"{value.value:,.0f}; {value.comment()}" if value.n else
        "value_multiplier = 1.0   # no amounts in this segment",
    ]  # fmt: skip


def _stage_lines(cal: Calibration, stage: str) -> list[str]:
    """One ``[stages.<stage>]`` table: pass probability, effort and customer lag."""
    p = cal.pass_prob[stage]
    effort, lag = cal.effort_days[stage], cal.lag_days[stage]
    wait = cal.waiting_days[stage]
    lines = [f"[stages.{stage}]"]
    if wait.n:
        lines.append(
            f"# waiting for an owner: mean {wait.value:.3g} days ({wait.comment()}); "
            "the simulation makes its own queues from the headcount"
        )
    effort_days = effort.value if effort.n and effort.value > 0 else 0.5
    lag_days = lag.value if lag.n and lag.value >= 0 else 0.0
    return lines + [
        f"pass_prob = {_num(p.value if p.n else 0.5)}   # {p.comment()}",
        f"mean_effort_days = {_num(min(365.0, max(effort_days, 1e-3)))}   "
        f"# {effort.comment(' days') if effort.n else 'not measured: an assumption'}",
        'effort_distribution = "gamma"',
        f"effort_cv = {_num(min(5.0, max(0.05, cal.effort_cv.get(stage, 1.0))), 3)}",
        f"mean_lag_days = {_num(min(365.0, lag_days))}   # customer lag; "
        f"{lag.comment(' days') if lag.n else 'not measured: an assumption'}",
        'lag_distribution = "gamma"',
        f"lag_cv = {_num(min(5.0, max(0.05, cal.lag_cv.get(stage, 1.0))), 3)}",
    ]


def _decay_lines(cal: Calibration) -> list[str]:
    """The ``[decay]`` table: leads that went cold and the patience they imply."""
    patience = cal.patience_days
    lines = [
        "[decay]",
        "# half_life_days: not identifiable from an export (it looks like a lower pass_prob)",
        f"# went cold: {cal.went_cold} leads left a queue unworked or had no activity "
        f"for more than the threshold ({cal.open_inactive} of them still open)",
    ]
    if patience.n:
        lines.append(f"mean_patience_days = {_num(patience.value)}   # {patience.comment(' days')}")
    else:
        lines.append("# mean_patience_days: none, no lead went cold")
    return lines


_PEOPLE_LINES = (
    "# People effects: switched off. The measured pass probabilities and times",
    "# already average over your team's seniority mix, new hires and leavers.",
    "[people.levels]",
    "# seniority: the export has no level per owner, so every rep is mid-level",
    "enabled = false",
    "[people.ramp]",
    "# ramp-up: an owner's first lead is not their hire date, and a new hire's pace",
    "# is mixed with the leads they happen to get: not measured",
    "enabled = false",
    "[people.turnover]",
    "# turnover: an owner who stops appearing may have left, changed role or be on",
    "# leave, and the hiring lag is not recorded: not measured",
    "enabled = false",
)
"""The ``[people.*]`` tables: what an export cannot measure about reps, switched off."""


RELAY_ASSUMED = {"drop_prob": 0.05, "mean_delay_days": 2.0, "context_loss": 0.10}
"""What a relay costs in a structure the export's team did not have relays in: the
assumptions of scenarios/baseline.toml (5 % never picked up, 2 days, 10 % of the next
stage's chance lost), for teams that hand over through the CRM."""


def _structure_lines(cal: Calibration, structure: str) -> list[str]:
    """A structure's table: headcounts (or pods), assignment and handoff."""
    headcount, pods = same_team_as(cal, structure)
    lines = [
        f"[structures.{structure}]",
        '# assignment: not visible in an export; "pooled" = one shared queue per team',
        'assignment = "pooled"',
    ]
    if structure == "pods":
        lines.append("segment_expertise_factor = 1.0   # already inside the measured pass_prob")
    else:
        lines += _headcount_lines(headcount)
    if structure != "allin":
        lines += ["", f"[structures.{structure}.handoff]", *_handoff_lines(cal)]
    for pod in pods:
        lines += ["", f"[[structures.{structure}.pods]]", f"name = {_toml(pod['name'])}"]
        lines.append(f"segments = {_toml(pod['segments'])}")
        lines += _headcount_lines(pod["headcount"])
    return lines


def _handoff_lines(cal: Calibration) -> list[str]:
    """A relay's cost: measured when the export's team had relays, else assumed."""
    delay, drop = cal.handoff_delay_days, cal.handoff_drop_prob
    if cal.structure == "allin" and not drop.n:
        return [
            f"{key} = {value:g}   # assumption (baseline.toml's): the export's team had no relays"
            for key, value in RELAY_ASSUMED.items()
        ]
    return [
        f"drop_prob = {_num(drop.value if drop.n else 0.0)}   # {drop.comment()}",
        f"mean_delay_days = {_num(delay.value if delay.n else 0.0)}   # {delay.comment(' days')}",
        "context_loss = 0.0   # not identifiable from an export: inside the pass_prob",
    ]


def _headcount_lines(headcount: dict[str, Estimate]) -> list[str]:
    return [
        f"{role} = {seats(estimate)}   # {_headcount_comment(estimate)}"
        for role, estimate in headcount.items()
    ]


def _tier_lines(cal: Calibration) -> list[str]:
    """The ``[[leads.tiers]]`` blocks: measured from a tier column, else one neutral tier."""
    if not cal.tiers:
        return [
            "# size tiers: the export has no tier column, so one neutral tier (the default):",
            "# deal sizes vary only by segment and the log-normal spread",
        ]
    lines = [
        "# size tiers from the export's tier column: shares, and mean amount and effort",
        "# relative to all leads (segment and tier multiply, as in the simulator)",
    ]
    mean_value = cal.mean_deal_value
    for name, share in cal.tiers.items():
        value = cal.tier_values[name]
        effort = cal.tier_effort.get(name)
        lines += ["[[leads.tiers]]", f"name = {_toml(name)}", f"share = {_num(share.value)}   "
                  f"# {share.comment()}"]  # fmt: skip
        if value.n and mean_value.n:
            lines.append(
                f"value_multiplier = {_num(value.value / mean_value.value)}   # mean amount "
                f"{value.value:,.0f}; {value.comment()}"
            )
        else:
            lines.append("value_multiplier = 1.0   # no amounts in this tier")
        if effort is not None:
            lines.append(
                f"effort_multiplier = {_num(min(100.0, max(0.01, effort.value)))}   "
                f"# rep effort relative to the stage mean; {effort.comment()}"
            )
        else:
            lines.append("effort_multiplier = 1.0   # not measured (no worked timestamps)")
        lines += ["complexity = 1.0   # not identifiable from an export (context loss)", ""]
    return lines[:-1]


def _headcount_comment(estimate: Estimate) -> str:
    """Where a headcount comes from: owners counted, or the rule that sized it."""
    if math.isnan(estimate.low):
        return estimate.note
    return f"{estimate.note}: median {estimate.value:g}, range {estimate.low:g}-{estimate.high:g}"


def calibrated_scenario(
    cal: Calibration, name: str = "calibrated", source: str = "export"
) -> Scenario:
    """The scenario ``scenario_toml`` writes, validated."""
    import tomllib

    return Scenario.from_dict(tomllib.loads(scenario_toml(cal, name, source)), f"{name}.toml")
