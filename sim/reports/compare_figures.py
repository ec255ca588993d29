"""The comparison report's figures: which are drawn, in what order, and their captions.

``comparison_figures`` draws them from a ``Comparison`` (the verdict, the
paired differences, the run figures, the people and money figures);
``FIGURE_CAPTIONS`` gives each a title and a caption for ``report.html``
(``sim.reports.compare_page``), which shows the people and money figures in a
section of their own.
"""

from __future__ import annotations

from typing import Any

from sim.analysis import compare, money, people
from sim.analysis.comparison import Comparison


def comparison_figures(comparison: Comparison) -> dict[str, Any]:
    """The report's figures, by file stem, in the order the page shows them."""
    # matplotlib is slow to import: only when drawing
    from sim.reports.differences_figure import plot_paired_differences
    from sim.reports.people_figures import plot_money_breakdown, plot_quota_attainment
    from sim.reports.run_figures import run_figures
    from sim.reports.verdict_figure import plot_verdict
    from sim.reports.workload_figures import plot_pod_utilisation

    result = comparison.result
    scenario = result.scenario
    summary = comparison.summary
    run = run_figures(result)
    figures = {"verdict": plot_verdict(comparison.verdict, summary, scenario.horizon_days)}
    if len(result.structures) > 1:
        figures["paired_differences"] = plot_paired_differences(
            compare.forest_table(comparison.differences, comparison.headline),
            comparison.reference,
        )
    stems = ("funnel", "wins_over_time", "cycle_time", "work_in_progress", "utilisation")
    figures |= {stem: run[stem] for stem in (*stems, "headcount", "switch") if stem in run}
    if not comparison.pods.empty:
        figures["pod_utilisation"] = plot_pod_utilisation(
            comparison.pods, scenario.benchmarks.max_utilisation
        )
    figures["quota_attainment"] = plot_quota_attainment(
        people.quota_attainment(result.reps, scenario),
        summary[summary["kpi"] == "share_reps_at_quota"],
        scenario.benchmarks.min_share_at_quota,
    )
    figures["money"] = plot_money_breakdown(money.money_breakdown(summary), scenario.horizon_days)
    return figures


FIGURE_CAPTIONS: dict[str, tuple[str, str]] = {
    "paired_differences": (
        "Paired differences",
        "Each structure minus the reference, replication by replication (same leads, same "
        "luck), per KPI. Thick line: 95 % CI; filled dot: significant (Benjamini-Hochberg over "
        "every KPI and structure). The thin grey line, "
        "when shown, is the CI the same number of replications gives without common random "
        "numbers.",
    ),
    "funnel": (
        "Where leads are lost",
        "Per structure, the leads that reached each stage or handoff, and how many were lost "
        "there: failed (the customer said no), dropped in a handoff, or went cold waiting. "
        "The last row is the handover of won customers to account management.",
    ),
    "wins_over_time": (
        "Wins over time",
        "Wins per 30 days over the horizon with a 95 % band across replications; the first "
        "months show the pipeline filling up.",
    ),
    "switch": (
        "The switch of structure: dip and recovery",
        "Each reorganised structure's wins and bookings per 30 days minus those of the "
        "structure it started as (staying as you are), replication by replication on the same "
        "leads, with a 95 % band; the dashed line is the switch day (also marked on the wins "
        "over time).",
    ),
    "cycle_time": (
        "Cycle time",
        "Days from a lead's arrival to its win, all won leads of the measured cohort.",
    ),
    "work_in_progress": (
        "Queues over time",
        "Leads waiting for each role, mean across replications: a queue that keeps growing "
        "marks the bottleneck.",
    ),
    "utilisation": (
        "Utilisation per role",
        "Share of working time each role is busy (after warm-up), with 95 % CIs and the "
        "bottleneck line.",
    ),
    "pod_utilisation": (
        "Load per pod",
        "Utilisation of each pod's sales reps together (its load) and per role: uneven "
        "territories overload one pod while another idles.",
    ),
    "quota_attainment": (
        "Quota attainment",
        "Every rep's credit in each quota period after the warm-up as a share of quota "
        "(bookings for closers and generalists, meetings booked for lead gen, qualified "
        "opportunities for qualifiers, net revenue retention for account managers), and the "
        "share of rep-periods at quota against the red line. All-In and Two-Party reps also "
        "prospect or qualify, so their quota share is not a like-for-like comparison with "
        "specialist closers.",
    ),
    "headcount": (
        "Headcount over time",
        "Per structure, the seats filled, vacant (a rep left and the hire has not arrived) and "
        "ramping (filled by someone not yet at full pace) on each day, mean across replications "
        "with a 95 % band; the dotted grey line is the nominal headcount.",
    ),
    "money": (
        "Revenue, costs and profit",
        "Revenue recognised in the horizon, what it cost (cost of goods, rep salaries, "
        "commission, bonuses, managers, overhead per head, hiring and onboarding) and the "
        "profit left, with 95 % CIs.",
    ),
}

PEOPLE_FIGURES: tuple[str, ...] = ("headcount", "quota_attainment", "money")
"""Figures shown in the "People and money" section rather than with the other figures."""

OWN_PLACE_FIGURES: tuple[str, ...] = ("verdict", *PEOPLE_FIGURES)
"""Figures shown in a section of their own, not among the figures at the end."""
