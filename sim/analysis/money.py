"""What the team costs: each rep's pay, the run's cost by kind, a new hire's payback.

Finance's view of a sales structure: base salaries for the days people are
present, commission on bookings (accelerated above quota) or an on-target
bonus, managers, overhead per head, and recruiting and onboarding for every
hire (``rep_pay``, ``team_cost``). And the question behind every hiring
request: how many days until a new closer's gross margin has paid back what
they cost (``new_hire_payback_days``)? Across a comparison,
``money_breakdown`` sets each structure's revenue against its costs and the
profit left. Amounts are in the scenario's currency over the horizon. Pure
pandas and numpy on the rep table of a run and the KPI summary.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.compare import structure_order
from sim.analysis.people import counted_quota_rows
from sim.config.potential import BOOKINGS_ROLES
from sim.config.scenario import Scenario


def rep_pay(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Base and variable pay of every rep-period row.

    Base: the role's salary times the level's salary factor, for the days
    present. Variable: closers and generalists earn ``commission_rate`` on
    their bookings (or on the gross margin of them), at ``accelerator`` times
    the rate above quota; other roles earn their on-target bonus pro rata to
    attainment, accelerated the same way above 100 %. Where the structure pays
    on team results (``commission = "team"``), everyone is paid as if they had
    attained their team's attainment in the period (the team's credit over its
    quota): the team's commission is shared pro rata to quota.

    Returns:
        Columns base_pay and variable_pay, aligned with ``reps``.
    """
    money = scenario.money
    levels = scenario.people.levels
    year_fraction = reps["days_present"] / 365.0
    salary = reps["role"].map(money.salary) * reps["level"].map(
        lambda level: levels.get(level).salary_factor
    )
    credit = reps["credit"].fillna(0.0)
    quota = reps["quota"]
    attainment = reps["attainment"]
    if _paid_on_team_results(reps, scenario):
        attainment = _team_attainment(reps)
        credit = (attainment * quota).fillna(credit)
    closing = reps["role"].isin(BOOKINGS_ROLES)
    basis = 1.0 if money.commission_basis == "bookings" else money.gross_margin
    below = np.where(quota.notna(), np.minimum(credit, quota.fillna(0.0)), credit)
    above = credit - below
    commission = money.commission_rate * basis * (below + money.accelerator * above)
    attainment = attainment.fillna(0.0)
    earned = np.minimum(attainment, 1.0) + money.accelerator * np.maximum(attainment - 1.0, 0.0)
    bonus = reps["role"].map(money.bonus) * year_fraction * earned
    return pd.DataFrame(
        {
            "base_pay": salary * year_fraction,
            "variable_pay": np.where(closing, commission, bonus),
        },
        index=reps.index,
    )


def _paid_on_team_results(reps: pd.DataFrame, scenario: Scenario) -> bool:
    structures = reps["structure"].unique()
    if len(structures) == 0:
        return False
    if len(structures) != 1:
        raise ValueError("rep_pay needs the rows of one structure")
    return getattr(scenario.structures, str(structures[0])).commission == "team"


def _team_attainment(reps: pd.DataFrame) -> pd.Series:
    """Each row's team attainment in its period (its team's credit over its quota)."""
    has_quota = reps["quota"].notna() & reps["credit"].notna()
    parts = pd.DataFrame(
        {
            "credit": reps["credit"].where(has_quota, 0.0),
            "quota": reps["quota"].where(has_quota, 0.0),
        }
    )
    keys = [reps["replication"], reps["team"], reps["period"]]
    sums = parts.groupby(keys).transform("sum")
    return (sums["credit"] / sums["quota"]).where(has_quota & (sums["quota"] > 0))


def team_cost(reps: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """What one run's team cost over the horizon, by kind (currency).

    Managers: one per ``manager_span`` seats, paid base plus a bonus pro rata
    to the mean attainment of the rep-periods that count. Overhead per person
    present (reps and managers). Every hire costs recruiting and onboarding.
    """
    money = scenario.money
    year_share = scenario.horizon_days / 365.0
    pay = rep_pay(reps, scenario)
    managers = math.ceil(reps["rep_id"].nunique() / money.manager_span)
    counted = counted_quota_rows(reps, scenario)
    team_attainment = counted["attainment"].mean() if len(counted) else 0.0
    closing = reps["role"].isin(BOOKINGS_ROLES)
    people_years = reps["days_present"].sum() / 365.0 + managers * year_share
    return {
        "salary_cost": float(pay["base_pay"].sum()),
        "commission_cost": float(pay.loc[closing, "variable_pay"].sum()),
        "bonus_cost": float(pay.loc[~closing, "variable_pay"].sum()),
        "manager_cost": managers
        * year_share
        * (money.salary_manager + money.bonus_manager * team_attainment),
        "overhead_cost": money.overhead_per_head * people_years,
        "hiring_cost": (money.hiring_cost + money.onboarding_cost) * int(reps["hired"].sum()),
    }


def annual_retention(scenario: Scenario) -> float:
    """Share of accounts kept over a year at the base churn, neglect and advocacy left out.

    ``accounts.churn_prob_per_review`` at every review, ``365 / review_interval_days``
    reviews a year.
    """
    care = scenario.accounts
    return (1.0 - care.churn_prob_per_review) ** (365.0 / care.review_interval_days)


def book_value(arr: float, accounts: int, scenario: Scenario) -> float:
    """What the book of active accounts at the horizon is worth today, net of serving it.

    A first year spent building a book of customers shows a loss in cash, yet a
    business buying the book would pay for it. Its value: for each of
    ``money.book_years`` years after the horizon, the gross margin on the
    book's annual recurring revenue less the account managers' time to serve
    it (``accounts.mean_review_effort_days`` per review, paid at
    ``money.salary_account_manager``), the book shrinking at the scenario's
    base churn (``accounts.churn_prob_per_review`` at every review) and each
    year discounted at ``money.discount_rate_per_year``. Expansion is left
    out, and churn made worse by neglect too: a sober estimate.

    Args:
        arr: annual recurring revenue of the active accounts at the horizon.
        accounts: how many accounts are active.
        scenario: the scenario (money and accounts sections).

    Returns:
        The value in currency; 0 with ``book_years = 0``.
    """
    money, care = scenario.money, scenario.accounts
    reviews_per_year = 365.0 / care.review_interval_days
    retention = annual_retention(scenario)
    # A manager's year holds working_days_per_year days of effort (365 around the clock).
    serve = (
        accounts
        * care.mean_review_effort_days
        * reviews_per_year
        / scenario.calendar.working_days_per_year()
    ) * money.salary_account_manager
    yearly = money.gross_margin * arr - serve
    rate = money.discount_rate_per_year
    factor = sum(retention ** (t - 1) / (1.0 + rate) ** t for t in range(1, money.book_years + 1))
    return yearly * factor


def new_hire_payback_days(reps: pd.DataFrame, scenario: Scenario) -> float:
    """Days until a new closing rep's gross margin covers what they cost (NaN if beyond 5 years).

    A new hire books at the ramped bookings rate measured in this run (over
    fully ramped closers' or generalists' days present) times the ramp factor
    of their tenure; each day the gross margin on those bookings, less
    commission, must pay back the hiring and onboarding cost plus a mid-level
    salary and overhead.
    """
    closing = reps[reps["role"].isin(BOOKINGS_ROLES) & (reps["ramp_factor"] >= 1.0)]
    days = closing["days_present"].sum()
    if days <= 0 or closing.empty:
        return math.nan
    money = scenario.money
    role = closing["role"].iloc[0]
    bookings_per_day = closing["bookings"].sum() / days
    basis = 1.0 if money.commission_basis == "bookings" else money.gross_margin
    margin_share = money.gross_margin - money.commission_rate * basis
    cost_per_day = (money.salary(role) + money.overhead_per_head) / 365.0
    ramp = scenario.people.ramp
    ramp_days = ramp.days.get(role) if ramp.enabled else 0.0
    tenure = np.arange(0.5, 5 * 365.0)
    factor = np.minimum(
        1.0,
        ramp.start_productivity + (1.0 - ramp.start_productivity) * tenure / max(ramp_days, 1e-9),
    )
    balance = np.cumsum(bookings_per_day * factor * margin_share - cost_per_day)
    balance -= money.hiring_cost + money.onboarding_cost
    paid = np.flatnonzero(balance >= 0)
    return float(paid[0] + 1) if len(paid) else math.nan


MONEY_COMPONENTS: tuple[tuple[str, str | None], ...] = (
    ("revenue", "revenue"),
    ("cost of goods", None),
    ("rep salaries", "salary_cost"),
    ("commission", "commission_cost"),
    ("rep bonuses", "bonus_cost"),
    ("managers", "manager_cost"),
    ("overhead", "overhead_cost"),
    ("hiring", "hiring_cost"),
    ("profit", "profit"),
)
"""Money components (label, KPI) in the order the breakdown shows them."""


def money_breakdown(summary: pd.DataFrame) -> pd.DataFrame:
    """Where the money goes, per structure: revenue, its costs, and the profit left.

    Args:
        summary: ``kpi_values.summarise``.

    Returns:
        Columns structure, component, mean, ci_low, ci_high, one row per
        component of ``MONEY_COMPONENTS`` in its order. Cost of goods is
        revenue minus gross profit.
    """
    means = summary.set_index(["structure", "kpi"])
    rows = []
    for structure in structure_order(summary):
        for component, kpi in MONEY_COMPONENTS:
            if kpi is None:
                revenue = means.loc[(structure, "revenue")]
                gross = means.loc[(structure, "gross_profit")]
                # The margin is fixed, so the CI scales with revenue's.
                share = 1.0 - gross["mean"] / revenue["mean"] if revenue["mean"] else math.nan
                values = (
                    revenue["mean"] - gross["mean"],
                    revenue["ci_low"] * share,
                    revenue["ci_high"] * share,
                )
            elif (structure, kpi) in means.index:
                row = means.loc[(structure, kpi)]
                values = (row["mean"], row["ci_low"], row["ci_high"])
            else:
                values = (math.nan, math.nan, math.nan)
            rows.append(
                {
                    "structure": structure,
                    "component": component,
                    "mean": values[0],
                    "ci_low": values[1],
                    "ci_high": values[2],
                }
            )
    return pd.DataFrame(rows)
