"""The people: seniority levels, ramp-up of new hires, turnover and individual skill.

Reps are not interchangeable: a junior closes less and a senior more, a new
hire needs months to ramp, about a quarter of the team leaves each year, and
within a level some people are simply better. Every effect can be switched off,
which leaves fully ramped mid-level reps who never leave.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.config.base import MAX_SHARE, ByRole, Frozen


class LevelConfig(Frozen):
    """What a seniority level changes, relative to a mid-level rep."""

    pass_prob_factor: float = Field(
        default=1.0,
        gt=0,
        le=2,
        description="pass probability of the leads they work (x, capped at 1)",
    )
    effort_factor: float = Field(
        default=1.0, gt=0, le=5, description="rep time per task (x); below 1 is faster"
    )
    salary_factor: float = Field(default=1.0, gt=0, le=5, description="base salary (x)")


class LevelMix(Frozen):
    """Relative shares of junior, mid and senior reps in a role (normalised)."""

    junior: float = Field(default=0.0, ge=0, le=MAX_SHARE, description="relative share of juniors")
    mid: float = Field(
        default=1.0, ge=0, le=MAX_SHARE, description="relative share of mid-level reps"
    )
    senior: float = Field(default=0.0, ge=0, le=MAX_SHARE, description="relative share of seniors")

    @model_validator(mode="after")
    def _some_share(self) -> LevelMix:
        if self.junior + self.mid + self.senior <= 0:
            raise ValueError("at least one level needs a share above 0")
        return self

    def shares(self) -> tuple[float, float, float]:
        """Normalised shares in ``LEVELS`` order."""
        total = self.junior + self.mid + self.senior
        return (self.junior / total, self.mid / total, self.senior / total)


class RoleLevelMix(ByRole):
    """The level mix of each role."""

    generalist: LevelMix = Field(
        default=LevelMix(junior=0.25, mid=0.5, senior=0.25), description="All-In reps"
    )
    lead_gen: LevelMix = Field(
        default=LevelMix(junior=0.5, mid=0.4, senior=0.1), description="lead-generation reps"
    )
    qualifier: LevelMix = Field(
        default=LevelMix(junior=0.4, mid=0.4, senior=0.2), description="qualifiers"
    )
    closer: LevelMix = Field(
        default=LevelMix(junior=0.2, mid=0.5, senior=0.3), description="closers"
    )
    account_manager: LevelMix = Field(
        default=LevelMix(junior=0.25, mid=0.5, senior=0.25), description="account managers"
    )


class LevelsConfig(Frozen):
    """Seniority: juniors, mid-level and seniors work at different pace, skill and pay."""

    enabled: bool = Field(
        default=True, description="false = every rep is mid-level (all factors 1)"
    )
    junior: LevelConfig = Field(
        default=LevelConfig(pass_prob_factor=0.9, effort_factor=1.2, salary_factor=0.8),
        description="a junior rep relative to mid level (defaults: assumptions)",
    )
    mid: LevelConfig = Field(default=LevelConfig(), description="the reference level")
    senior: LevelConfig = Field(
        default=LevelConfig(pass_prob_factor=1.08, effort_factor=0.9, salary_factor=1.3),
        description="a senior rep relative to mid level (defaults: assumptions)",
    )
    mix: RoleLevelMix = Field(
        default=RoleLevelMix(), description="level mix per role (defaults: assumptions)"
    )

    def get(self, level: str) -> LevelConfig:
        """The factors of one level (neutral when levels are switched off)."""
        return getattr(self, level) if self.enabled else LevelConfig()


class RampDays(ByRole):
    """Days from hire to full productivity, per role."""

    generalist: float = Field(
        default=152.0, ge=0, le=3650, description="All-In reps (days); assumed like a closer"
    )
    lead_gen: float = Field(
        default=97.0,
        ge=0,
        le=3650,
        description="lead-generation reps (days); 3.2 months, the SDR ramp reported by The "
        "Bridge Group (as quoted by Xactly, 2019)",
    )
    qualifier: float = Field(
        default=97.0, ge=0, le=3650, description="qualifiers (days); assumed like lead gen"
    )
    closer: float = Field(
        default=152.0,
        ge=0,
        le=3650,
        description="closers (days); 5.0 months, the median AE ramp in The Bridge Group's 2024 "
        "SaaS AE report (as quoted by pulserevops.com)",
    )
    account_manager: float = Field(
        default=90.0, ge=0, le=3650, description="account managers (days); an assumption"
    )


class AttritionRates(ByRole):
    """Leavers per rep-year present, per role."""

    generalist: float = Field(
        default=0.27, ge=0, le=10, description="All-In reps (per year); as closers"
    )
    lead_gen: float = Field(
        default=0.35,
        ge=0,
        le=10,
        description="lead-generation reps (per year); the top of the published range, as SDR "
        "tenure is short (about 14 months: The Bridge Group and TOPO)",
    )
    qualifier: float = Field(
        default=0.35, ge=0, le=10, description="qualifiers (per year); as lead gen"
    )
    closer: float = Field(
        default=0.27,
        ge=0,
        le=10,
        description="closers (per year); US salespeople's annual turnover as estimated by the "
        "Harvard Business Review (published figures range 14-35 %)",
    )
    account_manager: float = Field(
        default=0.2, ge=0, le=10, description="account managers (per year); an assumption"
    )


class RampConfig(Frozen):
    """New hires ramp up: slower and less effective at first, rising linearly to full."""

    enabled: bool = Field(default=True, description="false = every rep is fully ramped")
    days: RampDays = Field(
        default=RampDays(), description="days from hire to full productivity, per role"
    )
    start_productivity: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="pace on the first day relative to a ramped rep (effort is divided by it); "
        "default: an assumption",
    )
    start_pass_prob_factor: float = Field(
        default=0.85,
        gt=0,
        le=1,
        description="pass probability of a new hire's leads on the first day (x); default: an "
        "assumption",
    )
    initial_ramped_share: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="share of seats fully ramped at day 0, spread evenly over each structure's "
        "seats; the others start at tenures spread over the ramp (0-1)",
    )


class TurnoverConfig(Frozen):
    """Reps leave; the seat stays empty for a hiring lag, then a new hire ramps up."""

    enabled: bool = Field(default=True, description="false = nobody leaves")
    attrition_per_year: AttritionRates = Field(
        default=AttritionRates(),
        description="annual rate at which a rep in each role leaves (per rep-year present)",
    )
    under_quota_multiplier: float = Field(
        default=1.5,
        ge=1,
        le=10,
        description="attrition rate multiplier while a ramped rep missed quota last period (x); "
        "default: an assumption",
    )
    hiring_lag_days: float = Field(
        default=45.0,
        ge=0,
        le=365,
        description="days a seat stays empty after a rep leaves; default: an assumption",
    )
    backfill: bool = Field(
        default=True,
        description="false = a leaver's seat stays empty to the horizon (a hiring freeze)",
    )
    open_deals: Literal["reassign", "lose"] = Field(
        default="reassign",
        description="what happens to the leads a leaver owned: another rep of the team takes "
        "them, or they are lost (lost_reason rep_left)",
    )
    leaver_churn_multiplier: float = Field(
        default=2.0,
        ge=1,
        le=20,
        description="churn chance multiplier of a leaver's accounts for a while (x); default: "
        "an assumption",
    )
    leaver_churn_days: float = Field(
        default=90.0, ge=0, le=3650, description="how long that higher churn risk lasts (days)"
    )


class PerformanceConfig(Frozen):
    """Reps differ in individual skill; pay, monitoring and coaching change what they deliver.

    Each person draws a skill score z (standard normal) when they take a seat,
    from a stream keyed by role, seat and hire number (the same person in every
    structure). Skill multiplies the pass probability of the leads they work by
    a mean-1 log-normal factor, and divides their pace the same way.
    """

    enabled: bool = Field(default=False, description="false = every rep of a level is equally good")
    skill_sd: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="standard deviation of the log of a person's pass-probability factor; "
        "default: an assumption",
    )
    pace_sd: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="standard deviation of the log of a person's pace, driven by the same "
        "skill score (better reps are also faster); default: an assumption",
    )
    weak_share: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="people whose skill is in this bottom share of hires count as weak "
        "performers (the weak_performer_share KPI) (0-1)",
    )
    free_ride_effort_factor: float = Field(
        default=1.25,
        ge=1,
        le=5,
        description="effort multiplier of a below-median person paid on team results whose "
        "individual numbers nobody watches (x); default: an assumption",
    )
    coaching_gain: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="pass-probability gain of a rep who gets an even share of a manager's "
        "coaching time (fraction; 0 = coaching changes nothing); default: off",
    )
    coaching_focus: Literal["even", "poor_performers"] = Field(
        default="poor_performers",
        description="even: every rep gets the same coaching time; poor_performers: the weakest "
        "reps of each team take most of it",
    )
    poor_performer_share: float = Field(
        default=0.1,
        gt=0,
        lt=1,
        description="share of a team's reps, by skill, who are its poor performers (0-1)",
    )
    poor_performer_time_share: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description="share of the manager's coaching time the poor performers take (0-1); the "
        "literature's 10 % of reps taking 90 % of a manager's time",
    )


class LearningConfig(Frozen):
    """Segment expertise from experience: a learning curve on the deals worked in a segment.

    A rep new to a segment (a vertical, a region) wins ``novice_factor`` of
    what an experienced one wins; each deal worked in it closes part of the
    gap, half of it every ``half_gap_deals`` deals. The stages' pass
    probabilities are an experienced rep's, as the benchmarks behind them are.
    Experience is counted per person and segment in every structure: a pod's
    rep sees one segment's deals, an All-In rep spreads them over all, so
    expertise follows from focus. The curve's shape (exponential approach)
    and its numbers are assumptions; learning curves in the literature are
    power laws in cumulative experience, which this approximates with a finite
    ceiling.
    """

    enabled: bool = Field(
        default=False, description="false = no learning curve (every rep fully experienced)"
    )
    novice_factor: float = Field(
        default=0.85,
        gt=0,
        le=1,
        description="pass probability of a rep with no deal worked in the segment (x)",
    )
    half_gap_deals: float = Field(
        default=50.0,
        gt=0,
        le=100_000,
        description="deals worked in a segment that close half the gap to an experienced rep",
    )
    initial_deals: float = Field(
        default=50.0,
        ge=0,
        le=100_000,
        description="deals in each segment the people in post at day 0 worked before (the same "
        "in every structure); new hires start at 0",
    )

    def factor(self, deals_worked: float) -> float:
        """Pass-probability multiplier after ``deals_worked`` deals in a segment."""
        return 1.0 - (1.0 - self.novice_factor) * 0.5 ** (deals_worked / self.half_gap_deals)


class PeopleConfig(Frozen):
    """Who the reps are: seniority, ramp-up of new hires, turnover and individual skill."""

    levels: LevelsConfig = Field(default=LevelsConfig(), description="seniority levels")
    ramp: RampConfig = Field(default=RampConfig(), description="ramp-up of new hires")
    turnover: TurnoverConfig = Field(default=TurnoverConfig(), description="reps leaving")
    performance: PerformanceConfig = Field(
        default=PerformanceConfig(), description="individual skill, incentives and coaching"
    )
    learning: LearningConfig = Field(
        default=LearningConfig(), description="segment expertise from the deals worked in it"
    )
