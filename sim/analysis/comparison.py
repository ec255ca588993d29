"""A comparison of structures: every table the comparison report shows, from a run's tables.

Like a board pack built from the quarter's ledgers: the run's leads and reps
go in, and out come the KPIs per replication and their means, the paired
differences from a reference structure (common random numbers), the red
flags, the significant differences in words, the claims scoreboard and, when
the structures were also run on independent lead streams, how much common
random numbers narrowed the intervals. Pandas only: drawing and writing are
``sim.reports.compare_page`` and ``sim.results.compare``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis import compare, in_words, kpi_values, people, red_flags, report_kpis
from sim.analysis.claims import score_claims
from sim.analysis.risk import risk_table
from sim.analysis.verdict import Verdict, build_verdict
from sim.config.names import structure_label
from sim.model.results import SimulationResult


@dataclass(frozen=True)
class Comparison:
    """Everything the report shows, computed from a run's tables.

    Attributes:
        result: the run with common random numbers.
        reference: the structure the others are compared with.
        kpis: per-run KPIs (``kpi_values.run_kpis``).
        summary: KPI means with 95 % CIs (``kpi_values.summarise``).
        headline: the headline KPIs present, in table order.
        differences: paired differences for every KPI, with the
            independent-streams CI and the width ratio when measured.
        table: ``compare.csv``.
        flags: the red flags that tripped (``red_flags.red_flags``).
        sentences: the significant headline differences, in words
            (``in_words.describe_differences``).
        pods: per-pod utilisation (``people.pod_utilisation``).
        levels: quota attainment per structure, role and level
            (``people.attainment_by_level``).
        claims: the literature's claims scored on this run (``claims.score_claims``).
        independent_measured: whether the independent-streams run exists.
        verdict: the best structure per objective, with its margins
            (``verdict.build_verdict``).
        risk: P10, P50 and P90 of each objective per structure (``risk.risk_table``).
        selection: what ``compare --select-best`` did (``selection.json``), or None.
    """

    result: SimulationResult
    reference: str
    kpis: pd.DataFrame
    summary: pd.DataFrame
    headline: list[str]
    differences: pd.DataFrame
    table: pd.DataFrame
    flags: pd.DataFrame
    sentences: pd.DataFrame
    pods: pd.DataFrame
    levels: pd.DataFrame
    claims: pd.DataFrame
    independent_measured: bool
    verdict: Verdict
    risk: pd.DataFrame
    selection: dict | None = None


def labels_of(structures: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Display names of structures (``two_party`` -> ``Two-Party``)."""
    return {name: structure_label(name) for name in structures}


def build_comparison(
    result: SimulationResult,
    reference: str,
    independent: SimulationResult | None = None,
    selection: dict | None = None,
) -> Comparison:
    """Compute every table of the comparison from the runs' tables.

    Args:
        result: the common-random-numbers run.
        reference: the structure to compare with; must be one of the run's.
        independent: the same structures on independent lead streams, if run.
        selection: ``selection.json`` when ``compare --select-best`` made the run.

    Returns:
        The comparison.
    """
    scenario = result.scenario
    kpis = kpi_values.run_kpis(result.leads, result.reps, scenario)
    summary = kpi_values.summarise(kpis)
    columns = report_kpis.comparison_kpis(kpis)
    headline = report_kpis.headline_kpis(kpis)
    differences = compare.paired_differences(kpis, reference, columns)
    if independent is not None:
        independent_kpis = kpi_values.run_kpis(independent.leads, independent.reps, scenario)
        for column in columns:
            if column not in independent_kpis:
                independent_kpis[column] = math.nan
        differences = compare.ci_width_ratio(
            differences, compare.paired_differences(independent_kpis, reference, columns)
        )
    labels = labels_of(result.structures)
    pods = people.pod_utilisation(result.reps, scenario)
    return Comparison(
        result=result,
        reference=reference,
        kpis=kpis,
        summary=summary,
        headline=headline,
        differences=differences,
        table=compare.comparison_table(summary, differences, columns),
        flags=red_flags.red_flags(summary, pods, scenario, labels),
        sentences=in_words.describe_differences(differences, headline),
        pods=pods,
        levels=people.attainment_by_level(result.reps, scenario),
        claims=score_claims(kpis, scenario=scenario),
        independent_measured=independent is not None,
        verdict=build_verdict(kpis, scenario.decision.objectives, scenario.decision.confidence),
        risk=risk_table(kpis, scenario.decision.objectives),
        selection=selection,
    )


def variance_reduction_summary(comparison: Comparison) -> str:
    """One sentence on how much common random numbers narrowed the paired CIs."""
    if not comparison.independent_measured:
        return ""
    ratios = comparison.differences.loc[
        comparison.differences["kpi"].isin(comparison.headline), "ci_width_ratio"
    ].to_numpy(dtype=float)
    ratios = ratios[np.isfinite(ratios)]
    if len(ratios) == 0:
        return "Common random numbers: no CI width could be compared."
    median = float(pd.Series(ratios).median())
    if median <= 0:
        return "Common random numbers: the paired CIs have zero width (identical structures)."
    text = (
        f"Common random numbers: paired 95 % CIs are a median {median:.2f}x as wide as with "
        f"independent lead streams (headline KPIs, range {ratios.min():.2f}-{ratios.max():.2f}); "
        f"as precise as about {1 / median**2:.1f}x the replications without them."
    )
    wider = ratios[ratios > 1]
    if len(wider):
        text += (
            f" {len(wider)} of {len(ratios)} intervals came out wider (up to {wider.max():.2f}x), "
            "for two reasons: with few replications a width is itself a noisy estimate "
            f"(from {comparison.result.scenario.replications - 1} degrees of freedom, two "
            "widths of the same thing often differ by 2x or more), and where the structures "
            "react to the same luck in opposite ways (a lead one structure wins is one "
            "another loses to the competitor), pairing adds variance instead of cancelling it."
        )
    return text
