"""The figures of one run, drawn from its tables: what ``simulate`` saves as PNGs.

Six views a sales leader looks at after any run, whatever the question: where
leads are lost (funnel), wins over time with a band, days from arrival to win,
how busy each role is against the bottleneck line, the queues over time, and
the seats filled, vacant and ramping. ``simulate`` saves them as they are; the
comparison report shows them after its own figures. One function draws them
for both, so the two cannot drift.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from sim.analysis import funnel_tables, over_time, people, switch
from sim.model.results import SimulationResult
from sim.reports.funnel_figures import plot_cycle_times, plot_funnel, plot_wins_over_time
from sim.reports.people_figures import plot_headcount
from sim.reports.workload_figures import plot_utilisation, plot_wip


def run_figures(result: SimulationResult) -> dict[str, Figure]:
    """The six figures of a run, by file stem (utilisation against the scenario's benchmark).

    A run with a switch of structure (``reorganise``) marks the switch day on
    the wins over time and adds a seventh, ``switch``: the dip and the recovery
    against the structure it started as.
    """
    scenario = result.scenario
    plans = switch.switch_plans(scenario, result.structures)
    wins = over_time.wins_over_time(result.leads, scenario)
    switch_days = {name: day for name, (_, day) in plans.items()}
    figures = {
        "funnel": plot_funnel(funnel_tables.funnel_table(result.leads)),
        "wins_over_time": plot_wins_over_time(wins, switch_days),
        "cycle_time": plot_cycle_times(funnel_tables.cycle_times(result.leads)),
        "utilisation": plot_utilisation(
            people.utilisation_table(result.reps, scenario), scenario.benchmarks.max_utilisation
        ),
        "work_in_progress": plot_wip(over_time.wip_over_time(result.samples)),
        "headcount": plot_headcount(people.headcount_over_time(result.samples)),
    }
    if plans:
        from sim.reports.switch_figures import plot_switch_dip

        figures["switch"] = plot_switch_dip(switch.switch_dip(result.leads, scenario))
    return figures
