"""How well a sales team could forecast its quarter from its pipeline.

At the start of every quarter many sales teams forecast the bookings to come
by weighting each open deal by its stage: a deal in closing counts for more
than a lead in prospecting. ``forecast_table`` makes that forecast from the
configured pass probabilities and sets it against the bookings that came;
``forecast_kpis`` turns one run's errors into predictability (the mean
absolute error) and bias (the mean signed error). A structure that loses
leads in handoffs, waiting or turnover forecasts worse, because the
configured probabilities do not know about those losses. Pure pandas and
numpy on the leads table of a run.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.config.scenario import STAGES, Scenario
from sim.model.records import stage_column


def forecast_table(leads: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Each quarter's stage-weighted pipeline forecast against the bookings that came.

    At the start of every whole quota period after the warm-up, the team
    forecasts the period's bookings the way many sales teams do: every open
    lead's deal value times the chance of winning from its current stage (the
    product of the configured pass probabilities still ahead of it). Leads
    arriving during the period are not forecast, and the configured
    probabilities ignore what the structure loses in handoffs, waiting and
    turnover: a structure that loses more forecasts worse.

    Returns:
        One row per structure, replication and period: period_start_day,
        forecast, actual (bookings won in the period), error ((forecast -
        actual) / actual; NaN when nothing was won).
    """
    probabilities = [scenario.stages.get(stage).pass_prob for stage in STAGES]
    weight = [float(np.prod(probabilities[k:])) for k in range(len(STAGES))]
    period = scenario.quotas.period_days
    starts = [
        start
        for start in np.arange(0.0, scenario.horizon_days - period + 1e-9, period)
        if start >= scenario.warmup_days
    ]
    rows = []
    for (structure, replication), df in leads.groupby(["structure", "replication"], observed=True):
        end_day = df["end_day"].to_numpy()
        won = (df["outcome"] == "won").to_numpy()
        value = df["deal_value"].to_numpy()
        arrival = df["arrival_day"].to_numpy()
        reached = [df[stage_column(stage, "queue_day")].to_numpy() for stage in STAGES]
        for start in starts:
            open_ = (arrival <= start) & ~(end_day <= start)
            stage_weight = np.full(len(df), weight[0])
            for k in range(1, len(STAGES)):
                stage_weight = np.where(reached[k] <= start, weight[k], stage_weight)
            forecast = float((value * stage_weight)[open_].sum())
            actual = float(value[won & (end_day >= start) & (end_day < start + period)].sum())
            rows.append(
                {
                    "structure": structure,
                    "replication": replication,
                    "period_start_day": float(start),
                    "forecast": forecast,
                    "actual": actual,
                    "error": (forecast - actual) / actual if actual > 0 else math.nan,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["structure", "replication", "period_start_day", "forecast", "actual", "error"],
    )


def forecast_kpis(leads: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """Forecast error of one run: mean absolute (predictability) and mean signed (bias)."""
    errors = forecast_table(leads, scenario)["error"].dropna()
    if errors.empty:
        return {"forecast_abs_error": math.nan, "forecast_bias": math.nan}
    return {
        "forecast_abs_error": float(errors.abs().mean()),
        "forecast_bias": float(errors.mean()),
    }
