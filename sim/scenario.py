"""Scenario files: what market, which teams, which effects, for how long.

A scenario is everything a run needs, like the brief a sales leader hands to a
consultant: "ten leads a day, three segments, deals of about 25k, we pay closers
80k plus 10 %; show me All-In against Pods". It is written in TOML (see
``scenarios/``), validated here with pydantic v2 and frozen, so nothing
downstream ever sees a raw dict.

Time is measured in days throughout: one day of *effort* is one rep's whole
working capacity for one calendar day; *lag* is calendar time during which the
customer, not the rep, holds the deal.

Every sales-specific effect has a neutral value that switches it off (a drop
probability of 0, a half-life of ``None``, a factor of 1). ``without_sales_effects``
applies all of them at once and turns the model into a plain queueing network,
which is what the theory tests run.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

STAGES: tuple[str, ...] = ("prospecting", "qualification", "closing")
"""The funnel stages in order; a lead that passes closing is won."""

STRUCTURES: tuple[str, ...] = ("allin", "two_party", "conveyor", "pods")
"""The organisation structures this package knows, in report order."""

ROLES: tuple[str, ...] = ("generalist", "lead_gen", "qualifier", "closer", "account_manager")
"""Every role a rep can have."""

STAGE_ROLES: dict[str, tuple[str, str, str, str]] = {
    # role working prospecting, qualification, closing, then the account
    "allin": ("generalist", "generalist", "generalist", "generalist"),
    "two_party": ("lead_gen", "closer", "closer", "account_manager"),
    "conveyor": ("lead_gen", "qualifier", "closer", "account_manager"),
    "pods": ("lead_gen", "qualifier", "closer", "account_manager"),
}
"""Which role does each step in each structure; one rep keeps consecutive steps of one role."""

Distribution = Literal["exponential", "deterministic", "gamma"]
DelayDistribution = Literal["exponential", "deterministic"]
Assignment = Literal["pooled", "round_robin", "least_loaded"]
OwnerAssignment = Literal["round_robin", "least_loaded"]


class Frozen(BaseModel):
    """Base for every scenario block: immutable, strict, no unknown keys."""

    # strict: "0.5" or true where a number is expected is a mistake, not a value.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class SegmentConfig(Frozen):
    """One market segment (a vertical, region or product line) and its share."""

    name: str = Field(min_length=1, description="segment name, e.g. 'fintech' or 'emea'")
    share: float = Field(gt=0, description="relative share of arriving leads (normalised)")
    value_multiplier: float = Field(
        default=1.0, gt=0, description="deal value relative to the market mean (x)"
    )


class TierConfig(Frozen):
    """A size tier: from many small deals to a few key accounts."""

    name: str = Field(min_length=1, description="tier name, e.g. 'smb' or 'enterprise'")
    share: float = Field(gt=0, description="relative share of arriving leads (normalised)")
    value_multiplier: float = Field(
        default=1.0, gt=0, description="deal value relative to the market mean (x)"
    )
    effort_multiplier: float = Field(
        default=1.0, gt=0, description="rep effort per stage relative to the stage mean (x)"
    )
    complexity: float = Field(
        default=1.0,
        ge=0,
        le=5,
        description="scales the context lost at a handoff (x); key accounts lose more",
    )


class LeadsConfig(Frozen):
    """The lead stream: how many leads arrive, of what kind and value."""

    arrivals_per_day: float = Field(gt=0, le=10_000, description="mean new leads per day")
    seasonality_amplitude: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="relative swing of the arrival rate over a year (0 = flat)",
    )
    seasonality_peak_day: float = Field(
        default=0.0, ge=0, le=365, description="day of the year when arrivals peak (day)"
    )
    mean_deal_value: float = Field(
        gt=0, description="mean first-year contract value of a won deal (currency)"
    )
    deal_value_sigma: float = Field(
        default=0.6, ge=0, le=3, description="log-normal spread of deal values (log units)"
    )
    quality_weight: float = Field(
        default=0.0,
        ge=0,
        le=5,
        description="how strongly latent lead quality moves pass probabilities (logit per sd)",
    )
    segments: tuple[SegmentConfig, ...] = Field(
        default=(SegmentConfig(name="all", share=1.0),),
        min_length=1,
        description="segment mix of arriving leads",
    )
    tiers: tuple[TierConfig, ...] = Field(
        default=(TierConfig(name="standard", share=1.0),),
        min_length=1,
        description="size-tier mix of arriving leads",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> LeadsConfig:
        for label, items in (("segments", self.segments), ("tiers", self.tiers)):
            names = [item.name for item in items]
            if len(set(names)) != len(names):
                raise ValueError(f"{label} names must be unique, got {names}")
        return self

    @property
    def segment_names(self) -> tuple[str, ...]:
        """Segment names in file order (their index is the segment code)."""
        return tuple(segment.name for segment in self.segments)


class StageConfig(Frozen):
    """One funnel stage as a specialist at mid level performs it."""

    pass_prob: float = Field(ge=0, le=1, description="probability a worked lead passes (0-1)")
    mean_effort_days: float = Field(
        gt=0, le=365, description="rep time a lead needs at this stage (days of effort)"
    )
    effort_distribution: Distribution = Field(
        default="exponential", description="shape of the effort time around its mean"
    )
    effort_cv: float = Field(
        default=1.0,
        gt=0,
        le=5,
        description="coefficient of variation of effort; used by the gamma shape",
    )
    mean_lag_days: float = Field(
        default=0.0,
        ge=0,
        le=365,
        description="calendar time the customer holds the deal after the rep's work (days)",
    )
    lag_distribution: Distribution = Field(
        default="exponential", description="shape of the customer lag around its mean"
    )
    lag_cv: float = Field(
        default=1.0,
        gt=0,
        le=5,
        description="coefficient of variation of customer lag; used by the gamma shape",
    )


class StagesConfig(Frozen):
    """The three funnel stages."""

    prospecting: StageConfig = Field(
        description="lead generation: research, outreach, first meeting"
    )
    qualification: StageConfig = Field(description="discovery: budget, authority, need, timing")
    closing: StageConfig = Field(description="demo, proposal, negotiation, signature")

    def get(self, stage: str) -> StageConfig:
        """The config of the stage with this name."""
        return getattr(self, stage)


class HandoffConfig(Frozen):
    """What happens when a lead passes from one person to another."""

    drop_prob: float = Field(
        default=0.0, ge=0, le=1, description="probability the lead is dropped at the relay (0-1)"
    )
    mean_delay_days: float = Field(
        default=0.0, ge=0, le=365, description="mean time the lead waits in the relay (days)"
    )
    delay_distribution: DelayDistribution = Field(
        default="exponential", description="shape of the relay delay around its mean"
    )
    context_loss: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="fraction of the next stage's pass probability lost with context (0-1)",
    )


class DecayConfig(Frozen):
    """Leads that wait go cold."""

    half_life_days: float | None = Field(
        default=None,
        gt=0,
        description="waiting time that halves a lead's pass probability (days); none = off",
    )
    mean_patience_days: float | None = Field(
        default=None,
        gt=0,
        description="mean time a lead waits in a queue before leaving unworked (days); none = off",
    )


class GeneralistConfig(Frozen):
    """Penalties for reps who work several funnel stages (All-In, Two-Party closers)."""

    pass_prob_factor: float = Field(
        default=1.0, gt=0, le=1, description="pass probability relative to a specialist (x)"
    )
    effort_factor: float = Field(
        default=1.0, ge=1, le=5, description="effort relative to a specialist (x)"
    )
    context_switch_cost: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="extra effort per additional open deal the rep juggles (fraction)",
    )
    max_context_switch_factor: float = Field(
        default=2.0, ge=1, le=10, description="cap on the context-switching effort factor (x)"
    )


class AccountsConfig(Frozen):
    """Won deals become accounts that need care, churn, and expand."""

    review_interval_days: float = Field(
        default=30.0, gt=0, le=365, description="time between account reviews (days)"
    )
    mean_review_effort_days: float = Field(
        default=0.0, ge=0, le=30, description="rep effort per account review (days of effort)"
    )
    neglect_after_days: float = Field(
        default=14.0,
        gt=0,
        description="a review that waits longer than this counts as neglect (days)",
    )
    churn_prob_per_review: float = Field(
        default=0.0, ge=0, le=1, description="chance an account churns at a review (0-1)"
    )
    neglect_churn_multiplier: float = Field(
        default=1.0, ge=1, le=20, description="churn chance multiplier after neglect (x)"
    )
    expansion_prob_per_review: float = Field(
        default=0.0, ge=0, le=1, description="chance an account expands at a review (0-1)"
    )
    expansion_fraction: float = Field(
        default=0.0, ge=0, le=10, description="value added by an expansion, share of deal value"
    )
    review_priority: Literal["accounts_first", "fifo"] = Field(
        default="accounts_first",
        description="whether a rep serves account reviews before waiting sales work",
    )


class MoneyConfig(Frozen):
    """Salaries, commission and margin (annual figures, one currency)."""

    gross_margin: float = Field(
        default=0.75, ge=0, le=1, description="share of revenue kept after cost of goods (0-1)"
    )
    commission_rate: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="commission on bookings paid to the closing rep (fraction)",
    )
    salary_lead_gen: float = Field(default=55_000, ge=0, description="annual base (currency/year)")
    salary_qualifier: float = Field(default=60_000, ge=0, description="annual base (currency/year)")
    salary_closer: float = Field(default=85_000, ge=0, description="annual base (currency/year)")
    salary_account_manager: float = Field(
        default=75_000, ge=0, description="annual base (currency/year)"
    )
    salary_generalist: float = Field(
        default=85_000, ge=0, description="annual base (currency/year)"
    )
    manager_span: int = Field(default=8, ge=1, le=100, description="reps per first-line manager")
    salary_manager: float = Field(
        default=150_000, ge=0, description="manager annual base (currency/year)"
    )
    quota_bookings_per_year: float = Field(
        default=700_000,
        ge=0,
        description="bookings quota of a closing rep (currency/year), prorated to the horizon",
    )

    def salary(self, role: str) -> float:
        """Annual base salary of a rep in this role."""
        return getattr(self, f"salary_{role}")


class BenchmarksConfig(Frozen):
    """Thresholds from the sales literature; the comparison report raises a red flag past them."""

    win_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="expected opportunity win rate: share of decided closing-stage deals won "
        "(0-1); none = no check",
    )
    max_utilisation: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="a role busier than this is a bottleneck: queues grow fast near 1 (0-1)",
    )
    min_share_at_quota: float = Field(
        default=2 / 3,
        ge=0,
        le=1,
        description="fewer closing reps at quota than this share is a red flag (0-1)",
    )
    max_pod_load_ratio: float = Field(
        default=1.25,
        ge=1,
        le=10,
        description="a pod whose utilisation exceeds the other pods' mean by this factor "
        "is overloaded (x)",
    )


class Structure(Frozen):
    """Fields shared by every structure block."""

    assignment: Assignment = Field(
        default="pooled",
        description="how single-stage teams take work: one shared queue, or per-rep queues",
    )
    owner_assignment: OwnerAssignment = Field(
        default="least_loaded",
        description="how a lead or account gets an owner where one rep keeps it for several steps",
    )


class AllInConfig(Structure):
    """All-In: each generalist carries a lead from first touch to account."""

    generalists: int = Field(ge=1, le=10_000, description="generalist reps")


class TwoPartyConfig(Structure):
    """Two-Party: lead generation, then full-cycle closers, then account support."""

    lead_gen: int = Field(ge=1, le=10_000, description="lead-generation reps")
    closers: int = Field(ge=1, le=10_000, description="full-cycle reps who qualify and close")
    account_managers: int = Field(ge=1, le=10_000, description="support / account reps")
    handoff: HandoffConfig = Field(
        default=HandoffConfig(), description="what each relay between the teams costs"
    )


class ConveyorConfig(Structure):
    """Conveyor: lead gen -> qualifiers -> closers -> account managers, pooled per role."""

    lead_gen: int = Field(ge=1, le=10_000, description="lead-generation reps")
    qualifiers: int = Field(ge=1, le=10_000, description="qualifiers")
    closers: int = Field(ge=1, le=10_000, description="closers")
    account_managers: int = Field(ge=1, le=10_000, description="account managers")
    handoff: HandoffConfig = Field(
        default=HandoffConfig(), description="what each relay between the teams costs"
    )


class PodConfig(Frozen):
    """One pod: a small conveyor that owns some segments."""

    name: str = Field(min_length=1, description="pod name")
    segments: tuple[str, ...] = Field(min_length=1, description="segments this pod owns")
    lead_gen: int = Field(ge=1, le=10_000, description="lead-generation reps in the pod")
    qualifiers: int = Field(ge=1, le=10_000, description="qualifiers in the pod")
    closers: int = Field(ge=1, le=10_000, description="closers in the pod")
    account_managers: int = Field(ge=1, le=10_000, description="account managers in the pod")


class PodsConfig(Structure):
    """Pods: several small conveyors, each owning segments of the market."""

    pods: tuple[PodConfig, ...] = Field(min_length=1, description="the pods")
    handoff: HandoffConfig = Field(
        default=HandoffConfig(), description="what each relay inside a pod costs"
    )
    segment_expertise_factor: float = Field(
        default=1.0,
        ge=1,
        le=2,
        description="pass probability multiplier from knowing the segment (x, capped at 1)",
    )

    @model_validator(mode="after")
    def _pods_distinct(self) -> PodsConfig:
        names = [pod.name for pod in self.pods]
        if len(set(names)) != len(names):
            raise ValueError(f"pod names must be unique, got {names}")
        owned = [segment for pod in self.pods for segment in pod.segments]
        twice = sorted({s for s in owned if owned.count(s) > 1})
        if twice:
            raise ValueError(f"each segment belongs to one pod; owned twice: {twice}")
        return self


class StructuresConfig(Frozen):
    """The structures to run; every block present is run, in this order."""

    allin: AllInConfig | None = Field(default=None, description="All-In team")
    two_party: TwoPartyConfig | None = Field(default=None, description="Two-Party team")
    conveyor: ConveyorConfig | None = Field(default=None, description="Conveyor team")
    pods: PodsConfig | None = Field(default=None, description="Pods team")

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the configured structures in report order."""
        return tuple(name for name in STRUCTURES if getattr(self, name) is not None)


class Scenario(Frozen):
    """A whole scenario: market, teams, effects, money, run settings."""

    name: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="short name; results go to results/<name>/",
    )
    description: str = Field(default="", description="what this scenario is for")
    seed: int = Field(default=0, ge=0, description="root seed of all randomness")
    replications: int = Field(default=5, ge=1, le=10_000, description="independent replications")
    horizon_days: float = Field(
        gt=0, le=3650, description="simulated time; leads arrive until then (days)"
    )
    warmup_days: float = Field(
        default=0.0,
        ge=0,
        description="leads arriving before this are simulated but not counted (days)",
    )
    maturity_days: float = Field(
        default=0.0,
        ge=0,
        description="funnel KPIs count only leads that arrived at least this long before the "
        "horizon, so that they had time to finish (days)",
    )
    sample_interval_days: float = Field(
        default=1.0,
        gt=0,
        le=365,
        description="how often queues and work in progress are sampled (days)",
    )
    leads: LeadsConfig = Field(description="the lead stream")
    stages: StagesConfig = Field(description="the funnel stages")
    decay: DecayConfig = Field(default=DecayConfig(), description="leads going cold")
    generalist: GeneralistConfig = Field(
        default=GeneralistConfig(), description="penalties for reps who do several stages"
    )
    accounts: AccountsConfig = Field(default=AccountsConfig(), description="post-sale accounts")
    money: MoneyConfig = Field(default=MoneyConfig(), description="salaries, commission, margin")
    benchmarks: BenchmarksConfig = Field(
        default=BenchmarksConfig(), description="red-flag thresholds for the comparison report"
    )
    structures: StructuresConfig = Field(description="the organisation structures to compare")

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        problems = []
        if self.warmup_days + self.maturity_days >= self.horizon_days:
            problems.append(
                f"warmup_days + maturity_days ({self.warmup_days} + {self.maturity_days}) must be "
                f"shorter than horizon_days ({self.horizon_days}): no lead would be measured"
            )
        if not self.structures.names:
            problems.append("structures: configure at least one of " + ", ".join(STRUCTURES))
        pods = self.structures.pods
        if pods is not None:
            known = set(self.leads.segment_names)
            owned = {segment for pod in pods.pods for segment in pod.segments}
            unknown = sorted(owned - known)
            orphans = [s for s in self.leads.segment_names if s not in owned]
            if unknown:
                problems.append(f"structures.pods: segments {unknown} are not in leads.segments")
            if orphans:
                problems.append(f"structures.pods: no pod owns segments {orphans}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def from_file(cls, path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
        """Read a TOML scenario file, apply ``--set`` overrides, validate.

        Args:
            path: the TOML file.
            overrides: ``dotted.key=value`` strings; values are parsed as TOML
                values (``0.3``, ``true``, ``"text"``, ``[1, 2]``), bare words as text.

        Returns:
            The validated, frozen scenario.

        Raises:
            ScenarioError: with one message per problem, each naming the file
                and the dotted field path.
        """
        path = Path(path)
        label = path.name
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ScenarioError([f"{path}: no such scenario file"]) from None
        except IsADirectoryError:
            raise ScenarioError(
                [f"{path}: is a directory, expected a .toml scenario file"]
            ) from None
        except UnicodeDecodeError as exc:
            raise ScenarioError([f"{label}: not a UTF-8 text file ({exc.reason})"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError([f"{label}: TOML syntax error: {exc}"]) from None
        raw = apply_overrides(raw, overrides, label)
        return cls.from_dict(raw, label)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], label: str = "scenario") -> Scenario:
        """Validate a raw mapping (as read from TOML) into a scenario.

        Raises:
            ScenarioError: one line per problem, prefixed with ``label``.
        """
        try:
            # Through JSON so that strict mode accepts arrays for tuples; TOML
            # values are all JSON-representable except dates, which no field takes.
            return cls.model_validate_json(json.dumps(raw, default=str))
        except ValidationError as exc:
            raise ScenarioError(format_validation_error(exc, label)) from None

    def replace(self, overrides: Iterable[str], label: str = "--set") -> Scenario:
        """A copy with ``dotted.key=value`` overrides applied and re-validated."""
        raw = apply_overrides(self.model_dump(mode="json"), overrides, label)
        return Scenario.from_dict(raw, label)


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def format_validation_error(exc: ValidationError, label: str) -> list[str]:
    """One line per pydantic error: ``label: dotted.path: message (got value)``."""
    lines = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        line = f"{label}: {path}: {message}"
        # A missing field's input is its whole parent table: noise, not help.
        if error["type"] not in ("missing",) and not isinstance(error.get("input"), dict):
            line += f" (got {error['input']!r})"
        lines.append(line)
    return lines


def _parse_override_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as least_loaded is meant as text


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str], label: str) -> dict[str, Any]:
    """Return a deep copy of ``raw`` with ``dotted.key=value`` assignments applied.

    Intermediate tables are created when missing, so ``--set
    structures.conveyor.closers=4`` works on a file without a conveyor block
    (validation then asks for the block's other required fields).

    Raises:
        ScenarioError: for an assignment without ``=`` or a path through a non-table.
    """
    data = json.loads(json.dumps(raw, default=str))
    problems = []
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"{label}: {item!r}: expected dotted.key=value")
            continue
        parts = key.split(".")
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                problems.append(f"{label}: {key}: {where} is a value, not a table")
                break
            node = child
        else:
            node[parts[-1]] = _parse_override_value(text.strip())
    if problems:
        raise ScenarioError(problems)
    return data


def without_sales_effects(scenario: Scenario) -> Scenario:
    """The same scenario with every sales-specific effect switched off.

    What remains is a plain open queueing network: Poisson arrivals, pass
    probabilities, effort and lag as configured, no handoff loss, delay or
    context loss, no decay or patience, no generalist penalty, no lead-quality
    effect, no segment expertise, and accounts that neither need effort nor churn.
    """
    data = scenario.model_dump(mode="json")
    data["leads"]["quality_weight"] = 0.0
    data["decay"] = {}
    data["generalist"] = {}
    data["accounts"] = {}
    for name, block in data["structures"].items():
        if block is None:
            continue
        if "handoff" in block:
            block["handoff"] = {}
        if name == "pods":
            block["segment_expertise_factor"] = 1.0
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


def field_reference(
    model: type[BaseModel] = Scenario, prefix: str = ""
) -> list[tuple[str, str, str, str]]:
    """Rows (path, type with bounds, default, description) for every field, for the README."""
    rows = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        nested = _nested_model(annotation)
        default = "required" if field.is_required() else _show_default(field.default)
        if nested is not None and not _is_sequence(annotation):
            rows.append(
                (
                    path,
                    nested.__name__,
                    default if default == "required" else "",
                    field.description or "",
                )
            )
            rows.extend(field_reference(nested, f"{path}."))
        elif nested is not None:
            rows.append((path + "[]", f"list of {nested.__name__}", "", field.description or ""))
            rows.extend(field_reference(nested, f"{path}[]."))
        else:
            kind = _show_type(annotation) + _show_bounds(field.metadata)
            rows.append((path, kind, default, field.description or ""))
    return rows


def _show_bounds(metadata: list[Any]) -> str:
    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    bounds = [
        f"{symbol} {getattr(item, name):g}"
        for item in metadata
        for name, symbol in symbols.items()
        if getattr(item, name, None) is not None
    ]
    return f" ({', '.join(bounds)})" if bounds else ""


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _is_sequence(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is tuple


def _show_type(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    if getattr(annotation, "__origin__", None) is Literal:
        text = " / ".join(repr(a) for a in annotation.__args__)
    return text.replace("typing.", "").replace("NoneType", "None")


def _show_default(value: Any) -> str:
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return repr(value)
