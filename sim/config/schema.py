"""The whole scenario: every block joined, the run settings, and the cross-field rules.

A scenario is everything a run needs, like the brief a sales leader hands to a
consultant: "ten leads a day, three segments, deals of about 25k, we pay closers
80k plus 10 %; show me All-In against Pods". The blocks live in their own
modules (market, funnel, accounts, people, money, benchmarks, structures); this
one joins them, checks the rules that span blocks (a pod's segments exist in
the lead mix) and reads a file through ``sim.config.loading``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from sim.config import loading, potential
from sim.config.accounts import AccountsConfig, FulfilmentConfig, ReferralsConfig
from sim.config.base import (
    MAX_HORIZON_DAYS,
    MAX_SEED,
    NAME_MAX_LENGTH,
    ROLES,
    STAGE_ROLES,
    STRUCTURES,
    Frozen,
    folder_name,
)
from sim.config.benchmarks import BenchmarksConfig
from sim.config.calendar import CalendarConfig
from sim.config.decision import DecisionConfig
from sim.config.funnel import CompetitionConfig, DecayConfig, GeneralistConfig, StagesConfig
from sim.config.market import LeadsConfig
from sim.config.money import MoneyConfig, QuotasConfig
from sim.config.overrides import Override
from sim.config.people import PeopleConfig
from sim.config.reorganisation import mechanisms_not_with_reorganisation, reorganisation_problems
from sim.config.routing import NurtureConfig, RoutingConfig, routing_problems
from sim.config.source import CalibrationSource
from sim.config.structures_config import StructuresConfig


class Scenario(Frozen):
    """A whole scenario: market, teams, effects, money, run settings."""

    name: str = Field(
        min_length=1,
        max_length=NAME_MAX_LENGTH,
        description="short name (letters, digits, _ . -); results go to results/<name>/",
    )
    description: str = Field(default="", description="what this scenario is for")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="root seed of all randomness")
    replications: int = Field(default=5, ge=1, le=10_000, description="independent replications")
    horizon_days: float = Field(
        ge=1,  # a sales funnel over less than a day measures nothing
        le=MAX_HORIZON_DAYS,
        description="simulated time; leads arrive until then (days)",
    )
    warmup_days: float = Field(
        default=0.0,
        ge=0,
        le=MAX_HORIZON_DAYS,
        description="leads arriving before this are simulated but not counted (days)",
    )
    maturity_days: float = Field(
        default=0.0,
        ge=0,
        le=MAX_HORIZON_DAYS,
        description="funnel KPIs count only leads that arrived at least this long before the "
        "horizon, so that they had time to finish (days)",
    )
    sample_interval_days: float = Field(
        default=1.0,
        # A quarter of an hour: finer says nothing more about queues of tasks that take
        # hours to days, and it bounds a run's samples to 365,001 per team.
        ge=0.01,
        le=365,
        description="how often queues and work in progress are sampled (days)",
    )
    leads: LeadsConfig = Field(description="the lead stream")
    stages: StagesConfig = Field(description="the funnel stages")
    decay: DecayConfig = Field(default=DecayConfig(), description="leads going cold")
    competition: CompetitionConfig = Field(
        default=CompetitionConfig(), description="competitors deciding contested leads"
    )
    generalist: GeneralistConfig = Field(
        default=GeneralistConfig(), description="penalties for reps who do several stages"
    )
    accounts: AccountsConfig = Field(default=AccountsConfig(), description="post-sale accounts")
    fulfilment: FulfilmentConfig = Field(
        default=FulfilmentConfig(), description="implementation from win to go-live"
    )
    referrals: ReferralsConfig = Field(
        default=ReferralsConfig(), description="advocates and the referral leads they bring"
    )
    people: PeopleConfig = Field(
        default=PeopleConfig(), description="seniority, ramp-up and turnover of reps"
    )
    calendar: CalendarConfig = Field(
        default=CalendarConfig(),
        description="when reps work (days a week, hours a day, holidays, leave); off = around "
        "the clock",
    )
    routing: RoutingConfig = Field(
        default=RoutingConfig(), description="senior routing, queue order, open-deal cap"
    )
    nurture: NurtureConfig = Field(
        default=NurtureConfig(), description="cold leads that may come back from nurture"
    )
    quotas: QuotasConfig = Field(default=QuotasConfig(), description="quota per role and period")
    money: MoneyConfig = Field(default=MoneyConfig(), description="salaries, commission, margin")
    benchmarks: BenchmarksConfig = Field(
        default=BenchmarksConfig(), description="red-flag thresholds for the comparison report"
    )
    decision: DecisionConfig = Field(
        default=DecisionConfig(), description="what the comparison report answers first"
    )
    structures: StructuresConfig = Field(description="the organisation structures to compare")
    calibration: CalibrationSource | None = Field(
        default=None,
        description="what calibrate made this scenario from (backtest reads it); none = written "
        "by hand",
    )

    @field_validator("name")
    @classmethod
    def _a_folder_name(cls, name: str) -> str:
        return folder_name(name, "results/<name>/")

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
        problems += self._hiring_problems()
        problems += routing_problems(self)
        problems += reorganisation_problems(self.structures)
        problems += mechanisms_not_with_reorganisation(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _hiring_problems(self) -> list[str]:
        """Each planned hire's role is one its structure has, in a pod that exists."""
        problems = []
        for name in self.structures.names:
            config = getattr(self.structures, name)
            pods = [pod.name for pod in config.pods] if name == "pods" else []
            for k, hire in enumerate(config.hires):
                where = f"structures.{name}.hires.{k}"
                if hire.role not in STAGE_ROLES[name]:
                    roles = ", ".join(dict.fromkeys(STAGE_ROLES[name]))
                    problems.append(f"{where}.role: {name} has no {hire.role} (roles: {roles})")
                if pods and hire.pod not in pods:
                    known = ", ".join(pods)
                    problems.append(f"{where}.pod: {hire.pod!r} is not a pod (pods: {known})")
                if not pods and hire.pod:
                    problems.append(f"{where}.pod: only Pods have pods")
        return problems

    @classmethod
    def from_file(cls, path: str | Path, overrides: Iterable[str | Override] = ()) -> Scenario:
        """Read a TOML scenario file, apply ``--set`` overrides, validate.

        Args:
            path: the TOML file.
            overrides: ``dotted.key=value`` strings (shown as ``--set`` in
                messages) or ``Override``s; values are parsed as TOML values
                (``0.3``, ``true``, ``"text"``, ``[1, 2]``), bare words as text.

        Returns:
            The validated, frozen scenario.

        Raises:
            ScenarioError: with one message per problem, each naming the file
                and the dotted field path, or the override that caused it.
        """
        return loading.load_file(cls, path, overrides)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], label: str = "scenario") -> Scenario:
        """Validate a raw mapping (as read from TOML) into a scenario.

        Raises:
            ScenarioError: one line per problem, prefixed with ``label``.
        """
        return loading.validate(cls, raw, label)

    def quota(self, structure: str, role: str) -> float | None:
        """Annual quota of a seat of ``role`` in ``structure``; None or 0 = no quota.

        The structure's override, else ``[quotas.roles]``, else the rule
        (``sim.config.potential``: the seat's share of the market, discounted per stage);
        a reorganised structure's roles it has not got take the starting structure's.
        """
        return self._quotas.get((structure, role))

    @cached_property
    def _quotas(self) -> dict[tuple[str, str], float | None]:
        """Every structure's quota per role, computed once (the rule averages over quality)."""
        table: dict[tuple[str, str], float | None] = {}
        for structure in self.structures.names:
            overrides = getattr(self.structures, structure).quotas
            for role in ROLES:
                given = overrides.get(role)
                if given is None:
                    given = self.quotas.roles.get(role)
                if given is None:
                    given = potential.potential_quota(self, structure, role)
                table[structure, role] = given
        for structure in self.structures.names:
            plan = getattr(self.structures, structure).reorganise
            for role in ROLES if plan is not None else ():
                # A reorganised run starts as another structure: its roles keep that quota.
                if table[structure, role] is None:
                    table[structure, role] = table.get((plan.from_structure, role))
        return table

    def replace(self, overrides: Iterable[str | Override], label: str = "") -> Scenario:
        """A copy with ``dotted.key=value`` overrides applied and re-validated.

        Problems are blamed on the override that caused them, others on ``label``
        (default: the scenario's name).
        """
        return loading.validate(
            Scenario, self.model_dump(mode="json"), label or self.name, overrides
        )
