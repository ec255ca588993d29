"""What ``--help`` shows under each command: a few real command lines, and the workflow.

A first-time user learns a command from one example faster than from its list
of options, as from a colleague's shell history: ``python -m sim compare
scenarios/baseline.toml --structures conveyor,pods``. The examples are kept
here as written (argparse would re-wrap them), and a test parses every one
with the real parser, so they cannot drift from the options.
"""

from __future__ import annotations

import argparse
from typing import Any

WORKFLOW = """\
the usual workflow:
  python -m sim validate scenarios/pods.toml       check a scenario, print it resolved
  python -m sim simulate scenarios/pods.toml       run it -> results/pods/
  python -m sim compare scenarios/baseline.toml    structures on the same leads -> report.html
  python -m sim report results/baseline            rebuild that report, no simulation
  python -m sim sweep scenarios/sweeps/handoff_loss.toml
                                                   a parameter grid -> results/sweeps/handoff_loss/
  python -m sim plan scenarios/baseline.toml --wins-per-quarter 30
                                                   the cheapest team for a target
  python -m sim sensitivity scenarios/baseline.toml
                                                   which assumptions decide the verdict

from a CRM export:
  python -m sim calibrate export.csv --structure conveyor --out scenarios/ours.toml
  python -m sim backtest scenarios/ours.toml export.csv

'python -m sim COMMAND --help' shows a command's options with examples;
'python -m sim fields' lists every scenario field. Exit codes: 0 done, 2 bad
input (one line per problem, nothing written), 130 interrupted.
"""

EXAMPLES = {
    "simulate": [
        "python -m sim simulate scenarios/pods.toml",
        "python -m sim simulate scenarios/baseline.toml --structures allin,pods --replications 10",
        "python -m sim simulate scenarios/conveyor.toml "
        "--set structures.conveyor.handoff.drop_prob=0.1 --out results/conveyor-drop10",
        "python -m sim simulate scenarios/pods.toml --no-sales-effects --seed 7 --no-plots",
    ],
    "validate": [
        "python -m sim validate scenarios/pods.toml",
        "python -m sim validate scenarios/pods.toml --set decay.half_life_days=60 > mine.toml",
        "python -m sim validate scenarios/baseline.toml --json",
    ],
    "fields": [
        "python -m sim fields",
        "python -m sim fields | grep handoff",
    ],
    "compare": [
        "python -m sim compare scenarios/baseline.toml",
        "python -m sim compare scenarios/baseline.toml --structures conveyor,pods "
        "--reference conveyor",
        "python -m sim compare scenarios/presets/massive_generalist.toml --no-independent",
        "python -m sim compare scenarios/baseline.toml --select-best --indifference 50000",
    ],
    "report": [
        "python -m sim report results/baseline",
        "python -m sim report results/baseline --reference pods",
    ],
    "sweep": [
        "python -m sim sweep scenarios/sweeps/handoff_loss.toml",
        "python -m sim sweep scenarios/sweeps/team_size.toml --workers 2 --fresh",
        "python -m sim sweep scenarios/sweeps/lead_volume.toml --scheduler local",
    ],
    "plan": [
        "python -m sim plan scenarios/baseline.toml --wins-per-quarter 30",
        "python -m sim plan scenarios/baseline.toml --wins-per-quarter 20 "
        "--structures conveyor,pods --criterion mean",
        "python -m sim plan scenarios/pods.toml --wins-per-quarter 25 --replications 20 "
        "--out results/pods/plan-25",
        "python -m sim plan scenarios/baseline.toml --bookings-per-quarter 400000 "
        "--budget-per-year 1500000",
    ],
    "sensitivity": [
        "python -m sim sensitivity scenarios/baseline.toml",
        "python -m sim sensitivity scenarios/baseline.toml --quick --workers 2",
        "python -m sim sensitivity scenarios/baseline.toml --only pods.handoff.drop_prob "
        "--only generalist.pass_prob_factor --replications 5",
        "python -m sim sensitivity scenarios/pods.toml --assumptions my_ranges.toml",
    ],
    "export-crm": [
        "python -m sim export-crm results/pods",
        "python -m sim export-crm results/baseline --structure conveyor --shape history "
        "--out crm_history.csv",
    ],
    "calibrate": [
        "python -m sim calibrate scenarios/examples/crm_export.csv --structure conveyor "
        "--out scenarios/ours.toml",
        "python -m sim calibrate export.csv --structure two_party --mapping mapping.toml "
        "--skip-bad-rows",
    ],
    "backtest": [
        "python -m sim backtest scenarios/ours.toml scenarios/examples/crm_export.csv",
        "python -m sim backtest scenarios/ours.toml export.csv --mapping mapping.toml "
        "--replications 40",
    ],
}
"""Examples shown under each command's --help (a test parses every one)."""


def command_help(command: str) -> dict[str, Any]:
    """The keyword arguments that give a command's --help its examples, kept as written."""
    lines = "\n".join(f"  {line}" for line in EXAMPLES[command])
    return {
        "epilog": f"examples:\n{lines}",
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
