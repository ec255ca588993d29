"""Scenario files: what market, which teams, which effects, for how long.

A scenario is everything a run needs, like the brief a sales leader hands to a
consultant: "ten leads a day, three segments, deals of about 25k, we pay closers
80k plus 10 %; show me All-In against Pods". It is written in TOML (see
``scenarios/``), validated with pydantic v2 and frozen, so nothing downstream
ever sees a raw dict.

This module is the one place to import from; the work is done in rooms of one
job each:

- ``base``: the vocabulary (stages, roles, structures, levels) and the bounds
- ``market``, ``funnel``, ``accounts``, ``people``, ``money``, ``benchmarks``,
  ``structures_config``: the blocks of the file, one pydantic model each
- ``schema``: ``Scenario``, joining the blocks, with the rules that span them
- ``loading``, ``overrides``, ``errors``: reading a file, ``--set``, one line
  per problem
- ``variants``: the same scenario with groups of effects switched off
- ``reference``: the field reference generated from the schema
"""

from sim.config.accounts import AccountsConfig, FulfilmentConfig, ReferralsConfig
from sim.config.base import (
    LEVELS,
    MAX_COUNT_PER_YEAR,
    MAX_CURRENCY,
    MAX_HORIZON_DAYS,
    MAX_ITEMS,
    MAX_SEED,
    MAX_SHARE,
    MAX_VALUE_MULTIPLIER,
    MAX_WAIT_DAYS,
    NAME_MAX_LENGTH,
    RESERVED_NAMES,
    ROLES,
    STAGE_ROLES,
    STAGES,
    STRUCTURES,
    Assignment,
    ByRole,
    DelayDistribution,
    Distribution,
    Frozen,
    OwnerAssignment,
    folder_name,
)
from sim.config.benchmarks import BenchmarksConfig
from sim.config.errors import ScenarioError, format_validation_error
from sim.config.funnel import (
    RELAYS,
    CompetitionConfig,
    ConveyorHandoffConfig,
    DecayConfig,
    GeneralistConfig,
    HandoffConfig,
    PodsHandoffConfig,
    RelayCosts,
    RelayOverride,
    StageConfig,
    StagesConfig,
)
from sim.config.market import LeadsConfig, SegmentConfig, TierConfig
from sim.config.money import MoneyConfig, QuotaOverrides, QuotasConfig, RoleQuotas
from sim.config.outbound import WORKING_HOURS_PER_DAY, OutboundConfig
from sim.config.overrides import apply_overrides
from sim.config.people import (
    AttritionRates,
    LearningConfig,
    LevelConfig,
    LevelMix,
    LevelsConfig,
    PeopleConfig,
    PerformanceConfig,
    RampConfig,
    RampDays,
    RoleLevelMix,
    TurnoverConfig,
)
from sim.config.pod_mechanisms import TeamRelayConfig, VersatilityConfig
from sim.config.reference import field_reference
from sim.config.reorganisation import NEVER, ReorganiseConfig
from sim.config.schema import Scenario
from sim.config.structures_config import (
    AllInConfig,
    ConveyorConfig,
    HireConfig,
    OverflowConfig,
    PodConfig,
    PodsConfig,
    Structure,
    StructuresConfig,
    TwoPartyConfig,
)
from sim.config.variants import as_markovian_network, without_people_effects, without_sales_effects

__all__ = [
    "LEVELS",
    "MAX_COUNT_PER_YEAR",
    "MAX_CURRENCY",
    "MAX_HORIZON_DAYS",
    "MAX_ITEMS",
    "MAX_SEED",
    "MAX_SHARE",
    "MAX_VALUE_MULTIPLIER",
    "MAX_WAIT_DAYS",
    "NAME_MAX_LENGTH",
    "NEVER",
    "RESERVED_NAMES",
    "ROLES",
    "STAGES",
    "STAGE_ROLES",
    "STRUCTURES",
    "AccountsConfig",
    "AllInConfig",
    "Assignment",
    "AttritionRates",
    "BenchmarksConfig",
    "ByRole",
    "CompetitionConfig",
    "ConveyorConfig",
    "ConveyorHandoffConfig",
    "DecayConfig",
    "DelayDistribution",
    "Distribution",
    "Frozen",
    "FulfilmentConfig",
    "GeneralistConfig",
    "HandoffConfig",
    "HireConfig",
    "LeadsConfig",
    "LearningConfig",
    "LevelConfig",
    "LevelMix",
    "LevelsConfig",
    "MoneyConfig",
    "OutboundConfig",
    "OverflowConfig",
    "OwnerAssignment",
    "PeopleConfig",
    "PerformanceConfig",
    "PodConfig",
    "PodsConfig",
    "PodsHandoffConfig",
    "QuotaOverrides",
    "QuotasConfig",
    "RampConfig",
    "RampDays",
    "RELAYS",
    "ReferralsConfig",
    "RelayCosts",
    "RelayOverride",
    "ReorganiseConfig",
    "RoleLevelMix",
    "RoleQuotas",
    "Scenario",
    "ScenarioError",
    "SegmentConfig",
    "StageConfig",
    "StagesConfig",
    "Structure",
    "StructuresConfig",
    "TeamRelayConfig",
    "TierConfig",
    "TurnoverConfig",
    "TwoPartyConfig",
    "VersatilityConfig",
    "WORKING_HOURS_PER_DAY",
    "apply_overrides",
    "as_markovian_network",
    "field_reference",
    "folder_name",
    "format_validation_error",
    "without_people_effects",
    "without_sales_effects",
]
