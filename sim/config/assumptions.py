"""The uncalibrated assumptions ``python -m sim sensitivity`` varies, and their ranges.

A scenario is part measurement (arrivals, deal values and win rates a CRM
export can calibrate) and part belief: "a relay inside a pod drops 2 % of
leads", "a generalist wins 92 % of what a specialist wins". A sales leader
who is told "run Pods" should also be told which of those beliefs the answer
rests on. The sensitivity command moves each assumption on its own over a
stated range and watches whether the leading structure changes.

This module is the one place the default list and its ranges live
(``DEFAULT_ASSUMPTIONS``), and where a sensitivity file changes them. An
assumption sets one or more scenario fields (dotted paths, as ``--set``
takes them) either to its value (``scale = "absolute"``: a drop probability
from 0 to 0.2) or to the scenario's own value times it (``scale =
"relative"``: the mean deal value from 0.5 to 1.5 times the scenario's).

A sensitivity file (``--assumptions FILE``)::

    [sensitivity]
    replications = 3          # per structure and value (default 3)
    tolerance = 0.05          # bisection stops within this share of a range
    use_defaults = true       # start from DEFAULT_ASSUMPTIONS (false: only those below)

    [[sensitivity.assumptions]]
    name = "pods.handoff.drop_prob"   # a default: a new range
    low = 0.0
    high = 0.1

    [[sensitivity.assumptions]]       # a new one: paths, scale and a label
    name = "closing_effort"
    label = "closing effort per deal"
    paths = ["stages.closing.mean_effort_days"]
    scale = "relative"
    low = 0.5
    high = 2.0
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from sim.config.base import Frozen, value_at
from sim.config.errors import ScenarioError
from sim.config.scenario import Scenario, format_validation_error
from sim.files.read import read_user_toml

Scale = Literal["absolute", "relative"]
Unit = Literal["share", "days", "factor", "times"]
"""How a value is printed: ``share`` as a percentage, ``days``, a plain ``factor``,
``times`` the scenario's own value (every relative assumption)."""


@dataclasses.dataclass(frozen=True)
class Assumption:
    """One assumption: the fields it sets, its range, and how to say it.

    Attributes:
        name: what the command line and the sensitivity file call it.
        label: its words in a sentence ("the relay drop inside a pod").
        paths: the scenario fields it sets (dotted, as ``--set`` takes them).
        scale: ``absolute`` sets each path to the value; ``relative`` to the
            scenario's value times it.
        low: one end of the range.
        high: the other end.
        unit: how a value is printed.
        requires: a boolean field that must be true for the assumption to matter
            (``people.ramp.enabled``); without it the assumption is left out.
    """

    name: str
    label: str
    paths: tuple[str, ...]
    scale: Scale
    low: float
    high: float
    unit: Unit
    requires: str | None = None

    @property
    def structure(self) -> str | None:
        """The one structure every path belongs to (only its runs change), else None."""
        owners = {p.split(".")[1] for p in self.paths if p.startswith("structures.")}
        inside = all(p.startswith("structures.") for p in self.paths)
        return owners.pop() if inside and len(owners) == 1 else None

    def text(self, value: float) -> str:
        """A value as a sentence prints it: ``4 %``, ``2.5 days``, ``1.05``, ``1.3 x``."""
        if self.unit == "share":
            return f"{100 * value:.3g} %"
        if self.unit == "days":
            return f"{value:.3g} days"
        if self.unit == "times":
            return f"{value:.3g} x the scenario's"
        return f"{value:.3g}"

    def assignments(self, scenario: Scenario, value: float) -> list[str]:
        """The ``dotted.key=value`` overrides that set the assumption to ``value``."""
        if self.scale == "absolute":
            return [f"{path}={value!r}" for path in self.paths]
        data = scenario.model_dump(mode="json")
        return [f"{path}={float(value_at(data, path)) * value!r}" for path in self.paths]


def _handoff(structure: str, where: str) -> list[Assumption]:
    """A relay structure's three handoff assumptions."""
    base = f"structures.{structure}.handoff"
    return [
        Assumption(
            f"{structure}.handoff.drop_prob",
            f"the relay drop {where}",
            (f"{base}.drop_prob",),
            "absolute",
            0.0,
            0.2,
            "share",
        ),
        Assumption(
            f"{structure}.handoff.mean_delay_days",
            f"the relay delay {where}",
            (f"{base}.mean_delay_days",),
            "absolute",
            0.0,
            7.0,
            "days",
        ),
        Assumption(
            f"{structure}.handoff.context_loss",
            f"the context lost at a relay {where}",
            (f"{base}.context_loss",),
            "absolute",
            0.0,
            0.3,
            "share",
        ),
    ]


RAMP_ROLES = ("generalist", "lead_gen", "qualifier", "closer", "account_manager")

DEFAULT_ASSUMPTIONS: tuple[Assumption, ...] = (
    *_handoff("two_party", "in Two-Party"),
    *_handoff("conveyor", "in the Conveyor"),
    *_handoff("pods", "inside a pod"),
    Assumption(
        "pods.segment_expertise_factor",
        "the pods' segment-expertise factor",
        ("structures.pods.segment_expertise_factor",),
        "absolute",
        1.0,
        1.2,
        "factor",
    ),
    *(
        Assumption(
            f"pods.team_relays.{field}",
            label,
            (f"structures.pods.team_relays.{field}",),
            "absolute",
            0.0,
            1.0,
            "factor",
        )
        for field, label in (
            ("shared_context", "the share of a relay's context loss a pod's team avoids"),
            ("delay_factor", "a relay's delay inside a pod against between teams"),
            ("drop_factor", "a relay's drops inside a pod against between teams"),
        )
    ),
    Assumption(
        "pods.versatility.effort_factor",
        "the effort of a pod member covering another role",
        ("structures.pods.versatility.effort_factor",),
        "absolute",
        1.0,
        3.0,
        "factor",
        requires="structures.pods.versatility.enabled",
    ),
    Assumption(
        "pods.versatility.pass_prob_factor",
        "the win rate of a pod member covering another role",
        ("structures.pods.versatility.pass_prob_factor",),
        "absolute",
        0.6,
        1.0,
        "factor",
        requires="structures.pods.versatility.enabled",
    ),
    Assumption(
        "people.learning.novice_factor",
        "the win rate of a rep new to a segment",
        ("people.learning.novice_factor",),
        "absolute",
        0.6,
        1.0,
        "factor",
        requires="people.learning.enabled",
    ),
    Assumption(
        "people.learning.half_gap_deals",
        "the deals in a segment that close half the learning gap",
        ("people.learning.half_gap_deals",),
        "relative",
        0.25,
        4.0,
        "times",
        requires="people.learning.enabled",
    ),
    Assumption(
        "generalist.pass_prob_factor",
        "a generalist's win rate against a specialist's",
        ("generalist.pass_prob_factor",),
        "absolute",
        0.8,
        1.0,
        "factor",
    ),
    Assumption(
        "generalist.effort_factor",
        "a generalist's effort against a specialist's",
        ("generalist.effort_factor",),
        "absolute",
        1.0,
        1.4,
        "factor",
    ),
    Assumption(
        "leads.mean_deal_value",
        "the mean deal value",
        ("leads.mean_deal_value",),
        "relative",
        0.5,
        1.5,
        "times",
    ),
    Assumption(
        "leads.arrivals_per_day",
        "the leads arriving per day",
        ("leads.arrivals_per_day",),
        "relative",
        0.5,
        1.5,
        "times",
    ),
    *(
        Assumption(
            f"stages.{stage}.pass_prob",
            f"the {stage} win probability",
            (f"stages.{stage}.pass_prob",),
            "relative",
            0.75,
            1.25,
            "times",
        )
        for stage in ("prospecting", "qualification", "closing")
    ),
    Assumption(
        "people.ramp.days",
        "the ramp-up of new hires",
        tuple(f"people.ramp.days.{role}" for role in RAMP_ROLES),
        "relative",
        0.5,
        2.0,
        "times",
        requires="people.ramp.enabled",
    ),
    Assumption(
        "accounts.churn_prob_per_review",
        "the churn per monthly review",
        ("accounts.churn_prob_per_review",),
        "absolute",
        0.0,
        0.03,
        "share",
    ),
)
"""The default list: the assumptions no CRM export calibrates today, with their ranges.

Handoff ranges run from a perfect relay to a bad one (a fifth of leads
dropped, a week's wait, a third of the context lost); relative ranges are
plus or minus a quarter (win probabilities) to a half (deal value, arrivals)
of the scenario's own value, and half to double its ramp. The pods' mechanisms
run from none to all (a team relay's savings), from a specialist's efficiency
to a third of it (versatility), and the learning curve from a novice at 60 %
to no gap, and from a quarter to four times the scenario's half-gap."""


class AssumptionEntry(Frozen):
    """One ``[[sensitivity.assumptions]]`` block: a default's new range, or a new assumption."""

    name: str = Field(min_length=1, description="a default's name, or a new one's")
    low: float | None = Field(default=None, description="one end of the range")
    high: float | None = Field(default=None, description="the other end")
    label: str | None = Field(default=None, description="words in a sentence (new ones)")
    paths: tuple[str, ...] | None = Field(
        default=None, min_length=1, description="scenario fields it sets (new ones)"
    )
    scale: Scale = Field(default="absolute", description="absolute, or relative to the scenario")
    unit: Unit | None = Field(default=None, description="share, days, factor or times")

    @model_validator(mode="after")
    def _range(self) -> AssumptionEntry:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be below high, got {self.low:g} and {self.high:g}")
        return self


class SensitivitySettings(Frozen):
    """The ``[sensitivity]`` table of a sensitivity file."""

    replications: int = Field(default=3, ge=1, le=1000, description="per structure and value")
    tolerance: float = Field(
        default=0.05, gt=0, le=0.5, description="bisection stops within this share of a range"
    )
    use_defaults: bool = Field(default=True, description="start from the default list")
    assumptions: tuple[AssumptionEntry, ...] = ()


class SensitivityFile(Frozen):
    """A sensitivity file: one ``[sensitivity]`` table."""

    sensitivity: SensitivitySettings = SensitivitySettings()


def read_settings(path: Path | None) -> SensitivitySettings:
    """The settings of a sensitivity file (the defaults without one).

    Raises:
        ScenarioError: one line per problem, naming the file and the field.
    """
    if path is None:
        return SensitivitySettings()
    raw = read_user_toml(path, "sensitivity file")
    try:
        return SensitivityFile.model_validate(raw, strict=False).sensitivity
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, Path(path).name)) from None


def _entry_assumption(entry: AssumptionEntry, known: dict[str, Assumption], where: str):
    """The assumption an entry describes, or a problem line."""
    if entry.name in known and entry.paths is None:
        old = known[entry.name]
        return dataclasses.replace(
            old,
            low=old.low if entry.low is None else entry.low,
            high=old.high if entry.high is None else entry.high,
        )
    if entry.paths is None:
        return (
            f"{where}: unknown assumption {entry.name!r} (known: {', '.join(known)}; "
            "a new one needs paths)"
        )
    if entry.low is None or entry.high is None:
        return f"{where}: a new assumption needs low and high"
    unit = entry.unit or ("times" if entry.scale == "relative" else "factor")
    return Assumption(
        entry.name, entry.label or entry.name, entry.paths, entry.scale, entry.low, entry.high, unit
    )


def chosen_assumptions(
    settings: SensitivitySettings, label: str, only: tuple[str, ...] = ()
) -> list[Assumption]:
    """The assumptions to vary: the defaults (unless switched off) changed by the file's entries.

    Args:
        settings: the file's settings.
        label: the sensitivity file's name, for messages.
        only: names to keep (``--only``); empty keeps all.

    Raises:
        ScenarioError: one line per unknown name.
    """
    known = {a.name: a for a in DEFAULT_ASSUMPTIONS}
    chosen = dict(known) if settings.use_defaults else {}
    problems = []
    for index, entry in enumerate(settings.assumptions):
        where = f"{label}: sensitivity.assumptions.{index}"
        made = _entry_assumption(entry, known, where)
        if isinstance(made, str):
            problems.append(made)
        else:
            chosen[made.name] = made
    for name in only:
        if name not in chosen:
            problems.append(f"--only: unknown assumption {name!r} (known: {', '.join(chosen)})")
    if problems:
        raise ScenarioError(problems)
    return [chosen[name] for name in only] if only else list(chosen.values())


def applicable(assumption: Assumption, scenario: Scenario) -> bool:
    """Whether the scenario has every field the assumption sets (and its switch is on)."""
    data = scenario.model_dump(mode="json")
    if any(value_at(data, path) is None for path in assumption.paths):
        return False
    return assumption.requires is None or bool(value_at(data, assumption.requires))


def base_value(assumption: Assumption, scenario: Scenario) -> float:
    """The scenario's own value in the assumption's terms (1 for a relative one).

    An absolute assumption over several paths takes the first path's value.
    """
    if assumption.scale == "relative":
        return 1.0
    return float(value_at(scenario.model_dump(mode="json"), assumption.paths[0]))


def variant(assumption: Assumption, scenario: Scenario, value: float, label: str) -> Scenario:
    """The scenario with the assumption set to ``value``.

    Raises:
        ScenarioError: one line when the value is outside what a field takes.
    """
    try:
        return scenario.replace(assumption.assignments(scenario, value))
    except ScenarioError as exc:
        reason = exc.problems[0].split(": ", 1)[-1]
        raise ScenarioError(
            [f"{label}: {assumption.name}: {assumption.text(value)} is out of bounds ({reason})"]
        ) from None
