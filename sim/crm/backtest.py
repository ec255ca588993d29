"""Back-test: simulate a calibrated scenario over the export's period and compare.

The history (``sim.crm.read.read_export``) and each simulated replication are
reduced by the same function, ``history_series``, to one tidy table: leads
entering each stage per month, wins per month, the conversion of each stage,
and quantiles of the cycle time of won deals. The replications give a band
per point (the middle 95 % of replications); a history point outside its band
is reported. With a well-calibrated model about 5 % of the points fall outside
by chance alone, so the report gives that share beside the list.

Times are days since the export's origin; months are calendar months of the
export's dates (``month_edges``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.config.scenario import STAGES, Scenario
from sim.crm.read import CrmHistory, closed_cycles, gone_stale, stale_as_lost

MONTH_DAYS = 365.25 / 12
BAND = (0.025, 0.975)
CYCLE_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
LOST_CYCLE_QUANTILES = (0.5, 0.9)
"""The lost deals' cycle (arrival to lost): shown beside the checks, not one of them."""

WINS_TOLERANCE = 0.10
"""Total wins: the replications' median within 10 % of history."""
CYCLE_TOLERANCE = 0.15
"""Median cycle of won deals (arrival to win): within 15 % of history."""
WIN_RATE_TOLERANCE = 0.02
"""Decided win rate (won / won or lost): within 2 percentage points of history."""
MIN_MONTHS_INSIDE = 0.80
"""Monthly points (leads entering each dated stage, wins): at least 80 % inside their band."""


MONTHS_CHECK = "monthly points inside their band"


@dataclass(frozen=True)
class Check:
    """One pass-or-fail test of a back-test against a stated tolerance."""

    name: str
    history: float
    simulated: float
    tolerance: str
    passed: bool

    def measured(self) -> str:
        """``history 412, simulated 398 (within 10 %)``."""
        if self.name == MONTHS_CHECK:
            return f"{_number(self.simulated)} of them ({self.tolerance})"
        return (
            f"history {_number(self.history)}, simulated {_number(self.simulated)} "
            f"({self.tolerance})"
        )

    def line(self) -> str:
        """``wins in the period: history 412, simulated 398 (within 10 %): pass``."""
        return f"{self.name}: {self.measured()}: {'pass' if self.passed else 'FAIL'}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) < 1:
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def month_edges(
    as_of_day: float, origin: pd.Timestamp | None = None
) -> tuple[np.ndarray, list[str]]:
    """The back-test's months: their edges in days since the origin, and their labels.

    With an origin (a real date: every export has one), months are calendar
    months: the first is the origin's month from day 0 on (partial if the
    export starts mid-month; history and simulation observe the same part), the
    last is the last one that ends by ``as_of_day``. Without one, a month is
    365.25 / 12 days from day 0.

    Returns:
        ``edges`` (months + 1 values; month k is [edges[k], edges[k + 1])) and
        one label per month (``2024-03``, or ``month 3`` without an origin).
    """
    if origin is None:
        months = int(as_of_day // MONTH_DAYS)
        edges = np.arange(months + 1) * MONTH_DAYS
        return edges, [f"month {k + 1}" for k in range(months)]
    first = pd.Timestamp(origin).to_period("M")
    edges, labels = [0.0], []
    period = first
    while True:
        end = ((period + 1).start_time - origin) / pd.Timedelta(days=1)
        if end > as_of_day + 1e-9:
            break
        edges.append(float(end))
        labels.append(str(period))
        period += 1
    return np.array(edges), labels


def history_series(
    leads: pd.DataFrame, as_of_day: float, origin: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The back-test's measures of one lead table (history or one replication).

    Args:
        leads: a table with ``arrival_day``, ``<stage>_queue_day``,
            ``<stage>_done_day``, ``lost_at``, ``outcome`` and ``end_day``.
        as_of_day: end of the observed period; only whole months count.
        origin: the calendar date of day 0; months are calendar months then
            (``month_edges``).

    Returns:
        Columns ``metric``, ``month`` (the month's index, -1 for whole-period
        measures), ``period`` (``2024-03``, empty for whole-period) and ``value``.
    """
    edges, labels = month_edges(as_of_day, origin)
    months = len(labels)
    rows = []

    def per_month(metric: str, days: pd.Series) -> None:
        values = days.dropna().to_numpy(dtype=float)
        index = np.searchsorted(edges, values, side="right") - 1
        counts = np.bincount(index[(index >= 0) & (index < months)], minlength=months)
        rows.extend((metric, m, labels[m], float(counts[m])) for m in range(months))

    outcome = leads["outcome"].astype(str)
    lost_at = leads["lost_at"].astype(str)
    for stage in STAGES:
        per_month(f"entered_{stage}", leads[f"{stage}_queue_day"])
        ended = leads[f"{stage}_done_day"].notna()
        failed = lost_at == stage
        passed = ended & ~failed & leads[f"{stage}_queue_day"].notna()
        decided = int((passed | failed).sum())
        conversion = passed.sum() / decided if decided else math.nan
        rows.append((f"conversion_{stage}", -1, "", conversion))
    won = outcome == "won"
    per_month("wins", leads["end_day"].where(won))
    in_months = leads["end_day"] < edges[-1]
    rows.append(("wins_total", -1, "", float((won & in_months).sum())))
    decided = int((outcome.isin(["won", "lost"]) & (leads["end_day"] <= as_of_day)).sum())
    won_by_then = int((won & (leads["end_day"] <= as_of_day)).sum())
    rows.append(("win_rate_decided", -1, "", won_by_then / decided if decided else math.nan))
    rows += _cycle_rows(leads, "won", "cycle_days_p", CYCLE_QUANTILES)
    rows += _cycle_rows(leads, "lost", "lost_cycle_days_p", LOST_CYCLE_QUANTILES)
    return pd.DataFrame(rows, columns=["metric", "month", "period", "value"])


def _cycle_rows(leads: pd.DataFrame, outcome: str, prefix: str, quantiles: tuple) -> list[tuple]:
    """Quantiles of arrival to close of the leads closed with ``outcome`` (whole-period rows)."""
    cycle = closed_cycles(leads, outcome)
    return [
        (f"{prefix}{round(q * 100)}", -1, "", float(cycle.quantile(q)) if len(cycle) else math.nan)
        for q in quantiles
    ]


@dataclass(frozen=True)
class BacktestResult:
    """History against simulation: one row per measure and month."""

    scenario: Scenario
    structure: str
    history: CrmHistory
    table: pd.DataFrame  # metric, month, period, history, sim_low, sim_median, sim_high, outside
    replications: int

    @property
    def outside(self) -> pd.DataFrame:
        """The points where history falls outside the replication band."""
        return self.table[self.table["outside"]]

    def checks(self) -> list[Check]:
        """The four tests: total wins, median cycle, decided win rate, months inside the bands."""
        whole = self.table[self.table["month"] < 0].set_index("metric")

        def pair(metric: str) -> tuple[float, float]:
            if metric not in whole.index:
                return math.nan, math.nan
            return float(whole.at[metric, "history"]), float(whole.at[metric, "sim_median"])

        wins, cycle, rate = pair("wins_total"), pair("cycle_days_p50"), pair("win_rate_decided")
        monthly = self.table[(self.table["month"] >= 0)].dropna(subset=["history", "sim_low"])
        inside = 1.0 - float(monthly["outside"].mean()) if len(monthly) else math.nan
        return [
            Check("wins in the period", *wins, f"within {WINS_TOLERANCE:.0%}",
                  abs(wins[1] - wins[0]) <= WINS_TOLERANCE * wins[0]),
            Check("median cycle of won deals (days)", *cycle, f"within {CYCLE_TOLERANCE:.0%}",
                  abs(cycle[1] - cycle[0]) <= CYCLE_TOLERANCE * cycle[0]),
            Check("decided win rate", *rate, f"within {100 * WIN_RATE_TOLERANCE:.0f} points",
                  abs(rate[1] - rate[0]) <= WIN_RATE_TOLERANCE),
            Check(MONTHS_CHECK, MIN_MONTHS_INSIDE, inside,
                  f"{len(monthly)} points; at least {MIN_MONTHS_INSIDE:.0%} needed",
                  inside >= MIN_MONTHS_INSIDE),
        ]  # fmt: skip

    @property
    def passed(self) -> bool:
        """Whether every check passes."""
        return all(check.passed for check in self.checks())

    def lost_cycle_line(self) -> str:
        """The lost deals' cycle, history against the replications' median: shown, not checked."""
        whole = self.table[self.table["month"] < 0].set_index("metric")

        def quantiles(column: str) -> str:
            return ", ".join(
                f"{'median' if q == 0.5 else f'p{round(q * 100)}'} "
                f"{whole.at[f'lost_cycle_days_p{round(q * 100)}', column]:.1f}"
                for q in LOST_CYCLE_QUANTILES
            )

        return (
            f"cycle of lost deals (days; shown, not a check): history {quantiles('history')}; "
            f"simulated {quantiles('sim_median')}"
        )

    def verdict_lines(self) -> list[str]:
        """Pass or fail in words, then each check."""
        checks = self.checks()
        failed = [c for c in checks if not c.passed]
        head = (
            f"PASS: {self.scenario.name} reproduces {self.history.label} within every tolerance"
            if not failed
            else f"FAIL: {self.scenario.name} misses {len(failed)} of {len(checks)} tolerances "
            f"against {self.history.label}: do not trust its comparisons of structures yet"
        )
        return [head, *(f"  {check.line()}" for check in checks)]

    def report_lines(self) -> list[str]:
        """What the terminal shows: the verdict, the share outside, each point outside."""
        table = self.table.dropna(subset=["history", "sim_low"])
        outside = table[table["outside"]]
        lines = [
            *self.verdict_lines(),
            f"  {self.lost_cycle_line()}",
            "",
            f"{self.scenario.name}: {len(outside)} of {len(table)} points of history fall "
            f"outside the middle 95 % of {self.replications} replications "
            f"({len(outside) / max(1, len(table)):.0%}; about 5 % is chance)",
        ]
        for row in outside.itertuples(index=False):
            when = "whole period" if row.month < 0 else row.period
            side = "above" if row.history > row.sim_high else "below"
            lines.append(
                f"  {row.metric} ({when}): history {row.history:.3g} {side} the band "
                f"{row.sim_low:.3g}-{row.sim_high:.3g} (median {row.sim_median:.3g})"
            )
        return lines


def backtest_scenario(scenario: Scenario, history: CrmHistory, replications: int) -> Scenario:
    """The scenario a back-test simulates: over the export's whole days, ``replications`` times."""
    horizon = max(1.0, math.ceil(history.as_of_day))
    return scenario.replace([f"horizon_days={horizon}", f"replications={replications}"])


def run_backtest(
    scenario: Scenario,
    history: CrmHistory,
    structure: str,
    replications: int = 20,
    runs: Any = None,
) -> BacktestResult:
    """Simulate ``structure`` over the export's period and band each measure.

    Args:
        scenario: the calibrated scenario.
        history: the export it is tested against.
        structure: the structure to simulate.
        replications: independent replications making the bands.
        runs: where they run (``sim.model.runner.replication_runs``); None: in this process.

    Returns:
        The comparison table.
    """
    from sim.model.runner import simulate

    run = backtest_scenario(scenario, history, replications)
    result = simulate(run, (structure,), runs=runs)
    sims = [
        history_series(part, history.as_of_day, history.origin).assign(replication=int(rep))
        for rep, part in result.leads.groupby("replication", observed=True)
    ]
    sim = pd.concat(sims, ignore_index=True)
    band = (
        sim.groupby(["metric", "month", "period"], sort=False)["value"]
        .agg(
            sim_low=lambda v: v.quantile(BAND[0]),
            sim_median="median",
            sim_high=lambda v: v.quantile(BAND[1]),
        )
        .reset_index()
    )
    # Open deals gone stale are lost, as calibrate counted them (``stale_as_lost``).
    stale, cutoff = gone_stale(history.leads, history.as_of_day)
    decided = stale_as_lost(history.leads, stale, cutoff, "assigned" in history.measured)
    past = history_series(decided, history.as_of_day, history.origin)
    # The lost cycle of the deals the export closed: a stale deal's close is the cut-off's.
    lost = history_series(history.leads, history.as_of_day, history.origin)
    lost = lost[lost["metric"].str.startswith("lost_cycle_")].set_index("metric")["value"]
    is_lost = past["metric"].isin(lost.index)
    past.loc[is_lost, "value"] = past.loc[is_lost, "metric"].map(lost)
    past = past.rename(columns={"value": "history"})
    if "funnel" not in history.measured:  # no stage dates: nothing to compare per stage
        unmeasured = past["metric"].isin(
            [*(f"entered_{s}" for s in STAGES[1:]), *(f"conversion_{s}" for s in STAGES)]
        )
        past.loc[unmeasured, "history"] = math.nan
    table = past.merge(band, on=["metric", "month", "period"], how="left")
    table["outside"] = (table["history"] < table["sim_low"]) | (
        table["history"] > table["sim_high"]
    )
    return BacktestResult(run, structure, history, table, replications)


def write_backtest(result: BacktestResult, out_dir: Any, plots: bool = True) -> None:
    """Write the back-test's files, all or nothing.

    backtest.csv, outside.csv, report.txt, backtest.html, backtest.png (unless
    ``plots`` is false) and, when the export has unusable rows, unusable_rows.csv, into
    ``out_dir`` (a path, or a folder claimed with ``sim.files.outdir.OutputFolder.claim``).
    """
    from sim.files.csvsafe import write_csv
    from sim.files.outdir import output_folder

    with output_folder(out_dir) as folder, folder.writing() as tmp:
        write_csv(result.table, tmp / "backtest.csv")
        write_csv(result.outside, tmp / "outside.csv")
        (tmp / "report.txt").write_text("\n".join(result.report_lines()) + "\n")
        if result.history.problems:
            from sim.crm.problems import write_unusable_rows

            write_unusable_rows(result.history.problems, tmp / "unusable_rows.csv")
        image = None
        if plots:
            from sim.reports.backtest_figure import plot_backtest

            figure = plot_backtest(result.table, result.history.origin)
            figure.savefig(tmp / "backtest.png", dpi=110)  # a Figure, not pyplot: nothing to close
            image = (tmp / "backtest.png").read_bytes()
        from sim.reports.backtest_page import render_backtest_html

        (tmp / "backtest.html").write_text(render_backtest_html(result, image), encoding="utf-8")


def band_share_outside(table: pd.DataFrame) -> float:
    """Share of comparable points outside their band."""
    usable = table.dropna(subset=["history", "sim_low"])
    return float(np.mean(usable["outside"])) if len(usable) else math.nan
