"""The reps: how busy, how many, how close to quota.

A sales manager's weekly look at the team: is everyone overloaded
(``utilisation``, busy working time over working time present, per role in
``utilisation_table``); how many seats are filled, vacant or still ramping up
(``people_kpis``, and day by day ``headcount_over_time``); who is a weak
performer (``weak_performer_share``); and how many reps make quota, per role
and level (``attainment_by_level``), counting only the rep-periods that say
something about the reps (``counted_quota_rows``, and for the attainment
figure ``quota_attainment``); and whether one pod is far busier than the
others (``pod_utilisation``). Pure pandas on the rep table (one row per
person per quota period) and the samples of a run.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.analysis.stats import mean_ci, t_interval, with_ci
from sim.config.scenario import LEVELS, ROLES, Scenario
from sim.model.people import weak_skill_threshold


def utilisation(reps: pd.DataFrame) -> float:
    """Busy time over time present, both inside the measured window.

    With a working calendar both are working time (``window_working_days``:
    nights, weekends, holidays and leave are neither busy nor available).
    """
    present = reps["window_working_days"].sum()
    return reps["busy_days"].sum() / present if present > 0 else math.nan


def utilisation_table(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Utilisation per structure and role: mean and 95 % CI across replications.

    Utilisation is busy time over time present (a vacant seat is neither),
    both inside the measured window, on working time with a calendar.
    """
    rows = []
    per_run = reps.groupby(["structure", "replication", "role"], observed=True).apply(
        utilisation, include_groups=False
    )
    for (structure, role), group in per_run.groupby(level=["structure", "role"]):
        mean, low, high = mean_ci(group)
        rows.append(
            {
                "structure": structure,
                "role": role,
                "utilisation": mean,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows)


def seat_time(reps: pd.DataFrame, horizon_days: float) -> tuple[int, float]:
    """(seats at the horizon, seat-days the seats existed in the horizon) of one run.

    A seat exists from its opening (day 0, a planned hire's requisition, a
    reorganisation's switch) to its closing (a switch retires the old
    structure's seats; never otherwise), so a seat planned for day 200 is not
    vacant before its requisition and a retired one not after the switch.
    Without a hiring plan or a switch: every seat, for the whole horizon.
    """
    by_seat = reps.groupby("rep_id")
    opened = by_seat["seat_opened_day"].min().clip(0.0, horizon_days)
    closed = by_seat["seat_closed_day"].min().fillna(horizon_days).clip(0.0, horizon_days)
    seat_days = float((closed - opened).clip(lower=0.0).sum())
    at_end = int(by_seat["seat_closed_day"].min().isna().sum())
    return at_end, seat_days


def people_kpis(reps: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """Headcount, managers, hires, leavers, turnover and vacancies of one run."""
    seats, seat_days = seat_time(reps, scenario.horizon_days)
    # A person moved to a new seat at a reorganisation keeps their id: their last seat says
    # whether they left.
    people = reps.drop_duplicates("person_id", keep="last")
    present_days = reps["days_present"].sum()
    weights = reps["days_present"]
    kpis = {
        "headcount": seats,
        "managers": math.ceil(seats / scenario.money.manager_span),
        "hires": int(reps["hired"].sum()),
        "leavers": int(people["left_day"].notna().sum()),
        # Leavers per seat present on average, per year (the same arithmetic as per seat when
        # every seat lasts the horizon).
        "annual_turnover": people["left_day"].notna().sum()
        / (seat_days / scenario.horizon_days)
        / (scenario.horizon_days / 365.0),
        "vacancy_share": 1.0 - present_days / seat_days,
        "mean_ramp_factor": float((reps["ramp_factor"] * weights).sum() / weights.sum())
        if weights.sum() > 0
        else math.nan,
    }
    if scenario.people.performance.enabled:
        kpis["weak_performer_share"] = weak_performer_share(reps, scenario)
    return kpis


def weak_performer_share(reps: pd.DataFrame, scenario: Scenario) -> float:
    """Share of the rep-days in the measured window worked by weak performers.

    A weak performer's skill score is in the bottom ``weak_share`` of the
    hiring distribution: at hire, that share of people. Where missing quota
    pushes people out faster, weak performers leave sooner and hold fewer
    rep-days; where they hide (team pay, nobody watching), they stay.
    """
    performance = scenario.people.performance
    days = reps["window_days_present"]
    if days.sum() <= 0:
        return math.nan
    weak = reps["skill_z"] < weak_skill_threshold(performance.weak_share)
    return float(days[weak].sum() / days.sum())


def counted_quota_rows(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Rep-periods whose attainment counts: a quota, after the warm-up, present half the period.

    A period that starts before the warm-up ends measures the empty pipeline
    at the start, not the reps; a person present for a few days of a period
    has a quota too small to mean anything.
    """
    length = reps["period_end_day"] - reps["period_start_day"]
    keep = (
        reps["attainment"].notna()
        & (reps["period_start_day"] >= scenario.warmup_days)
        & (reps["days_present"] >= 0.5 * length)
    )
    return reps[keep]


HEADCOUNT_MEASURES: tuple[str, ...] = ("headcount", "filled", "vacant", "ramping")
"""Columns of ``samples`` summed by ``headcount_over_time``: seats, and what fills them."""


def headcount_over_time(samples: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Seats, filled seats, vacancies and ramping reps per structure over time.

    Each sample day's counts are summed over a structure's teams within one
    replication, then averaged across replications with a two-sided t interval
    (as ``mean_ci``). ``headcount`` is the number of seats, ``filled`` the seats
    with someone in them, ``vacant`` the empty ones (waiting for a hire) and
    ``ramping`` the filled seats whose person is still ramping up.

    Args:
        samples: the work-in-progress samples of a run (``samples.parquet``):
            columns structure, replication, day and ``HEADCOUNT_MEASURES``.
        confidence: the interval's coverage.

    Returns:
        One row per (structure, day) in structure then day order: columns
        structure, day, replications, and for each measure its mean (reps)
        with ``<measure>_ci_low`` and ``<measure>_ci_high`` (NaN with fewer
        than two replications).
    """
    measures = list(HEADCOUNT_MEASURES)
    per_run = samples.groupby(["structure", "replication", "day"], observed=True)[measures].sum()
    grouped = per_run.astype(float).groupby(level=["structure", "day"], observed=True)
    mean = grouped.mean()
    count = grouped.size().to_numpy()
    std = grouped.std(ddof=1).to_numpy()
    half = t_interval(0.0, std, count[:, None], confidence).half_width
    table = mean.reset_index()[["structure", "day"]]
    table["replications"] = count
    for index, measure in enumerate(measures):
        values = mean[measure].to_numpy()
        table[measure] = values
        table[f"{measure}_ci_low"] = values - half[:, index]
        table[f"{measure}_ci_high"] = values + half[:, index]
    return table


def attainment_by_level(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Quota attainment per structure, role and level, mean and 95 % CI across replications.

    Only the rep-periods that count (``counted_quota_rows``). Per replication,
    the mean attainment and the share at quota of each (structure, role,
    level); then their mean and t interval across the replications that have
    such rep-periods.

    Args:
        reps: the rep table of a run (one row per person per quota period).
        scenario: the scenario (warm-up).

    Returns:
        Columns structure, role, level, rep_periods (counted rep-periods per
        replication of the structure), mean_attainment, share_at_quota
        (fractions; 1.0 = at quota), the last two each with
        ``_ci_low`` and ``_ci_high``; roles in pipeline order, levels junior,
        mid, senior. Empty (with these columns) when nothing counts.
    """
    columns = ["structure", "role", "level", "rep_periods"]
    for value in ("mean_attainment", "share_at_quota"):
        columns += [value, f"{value}_ci_low", f"{value}_ci_high"]
    counted = counted_quota_rows(reps, scenario)
    if counted.empty:
        return pd.DataFrame(columns=columns)
    keys = ["structure", "role", "level"]
    per_run = (
        counted.assign(at_quota=counted["attainment"] >= 1.0)
        .groupby([*keys, "replication"], observed=True)
        .agg(
            rep_periods=("attainment", "size"),
            mean_attainment=("attainment", "mean"),
            share_at_quota=("at_quota", "mean"),
        )
        .reset_index()
    )
    replications = reps.groupby("structure", observed=True)["replication"].nunique()
    rows = []
    for (structure, role, level), group in per_run.groupby(keys, observed=True):
        row = {
            "structure": structure,
            "role": role,
            "level": level,
            "rep_periods": group["rep_periods"].sum() / replications[structure],
        }
        row.update(with_ci(group, ("mean_attainment", "share_at_quota")))
        rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    if isinstance(reps["structure"].dtype, pd.CategoricalDtype):
        table["structure"] = pd.Categorical(
            table["structure"], categories=reps["structure"].cat.categories
        )
    ranks = {
        "role": {role: index for index, role in enumerate(ROLES)},
        "level": {level: index for index, level in enumerate(LEVELS)},
    }
    # Structures keep their categorical (report) order; roles and levels their model order.
    return table.sort_values(
        ["structure", "role", "level"],
        key=lambda column: column.map(ranks[column.name]) if column.name in ranks else column,
        kind="stable",
        ignore_index=True,
    )


def quota_attainment(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Attainment of every rep-period that counts towards the share at quota.

    Args:
        reps: the rep table of a run (``reps.parquet``, one row per person per period).
        scenario: the scenario (warm-up, quotas).

    Returns:
        Columns structure, replication, rep_id, person_id, role, pod, period,
        attainment (1.0 = exactly at quota); see ``people.counted_quota_rows``.
    """
    columns = ["structure", "replication", "rep_id", "person_id", "role", "pod", "period"]
    counted = counted_quota_rows(reps, scenario)
    return counted[columns + ["attainment"]].reset_index(drop=True)


SALES_ROLES: tuple[str, ...] = ("generalist", "lead_gen", "qualifier", "closer")
"""Roles that work the lead stream (all but account care)."""


def pod_utilisation(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Utilisation per pod (its sales reps together, and per role), mean and 95 % CI.

    A pod's *load* is the utilisation of its sales reps (lead gen, qualifiers,
    closers) together: they work the territory's lead flow. Account managers
    are shown per role but left out of the load, because their work grows
    with the accounts already won, not with the territory.

    Args:
        reps: the rep table of a run; reps outside pods have an empty ``pod``.
        scenario: the scenario (warm-up and horizon define the window).

    Returns:
        Columns structure, pod, role (``"sales"`` for the pod's load),
        headcount, utilisation, ci_low, ci_high; empty when no structure has pods.
    """
    in_pods = reps[reps["pod"].astype(str) != ""]
    columns = ["structure", "pod", "role", "headcount", "utilisation", "ci_low", "ci_high"]
    if in_pods.empty:
        return pd.DataFrame(columns=columns)
    whole = in_pods[in_pods["role"].isin(SALES_ROLES)].assign(role="sales")
    rows = []
    for frame in (whole, in_pods):
        keys = ["structure", "pod", "role"]
        runs = frame.groupby(keys + ["replication"], observed=True, sort=False)
        per_run = pd.DataFrame(
            {
                "utilisation": runs.apply(utilisation, include_groups=False),
                "seats": runs["rep_id"].nunique(),
            }
        ).reset_index()
        for (structure, pod, role), group in per_run.groupby(keys, observed=True, sort=False):
            mean, low, high = mean_ci(group["utilisation"])
            rows.append(
                {
                    "structure": structure,
                    "pod": pod,
                    "role": role,
                    "headcount": int(group["seats"].iloc[0]),
                    "utilisation": mean,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows, columns=columns)
