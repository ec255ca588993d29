"""``compare --select-best`` and ``--precision`` on the command line: options and the call.

The procedure itself is ``sim.analysis.selection`` and ``sim.api.select_best``;
here are its options, the check that runs before anything is simulated, and
the document (``selection.json``) the report shows.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from sim.config.scenario import Scenario


def add_selection_arguments(compare: argparse.ArgumentParser) -> None:
    """``--select-best`` and its settings: add replications until the best is known."""
    group = compare.add_argument_group(
        "select the best (Kim and Nelson's procedure on the first objective)"
    )
    group.add_argument(
        "--select-best",
        action="store_true",
        help="add replications in batches until the best structure is known with the "
        "scenario's confidence (decision.confidence), the scenario's replications being the "
        "first stage",
    )
    group.add_argument(
        "--indifference",
        type=_positive_float,
        help="the smallest difference of the first objective that matters, in its unit "
        "(default: decision.indifference)",
    )
    group.add_argument(
        "--precision",
        type=_positive_float,
        help="instead: add replications until every structure's 95 %% CI half-width of the "
        "first objective is at most this share of its mean (e.g. 0.05)",
    )
    group.add_argument(
        "--max-replications",
        type=positive_int,
        default=100,
        help="never more replications than this (default 100)",
    )
    group.add_argument(
        "--batch", type=positive_int, default=5, help="replications added per step (default 5)"
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _indifference(scenario: Scenario, args: argparse.Namespace) -> float | None:
    """The indifference zone: the flag, else the scenario's; None for --precision alone."""
    if not args.select_best:
        return None
    return args.indifference or scenario.decision.indifference


def selecting(args: argparse.Namespace) -> bool:
    """Whether compare adds replications until it can decide (--select-best or --precision)."""
    return bool(args.select_best or args.precision)


def select(
    scenario: Scenario,
    names,
    args: argparse.Namespace,
    on_run_done: Callable[[int, str], None],
    runs: Any = None,
) -> tuple[Any, dict]:
    """``api.select_best`` with the command line's settings; the run and ``selection.json``.

    ``runs``: where replications run (``sim.cli.workers.opened_runs``), each batch a round.
    """
    from sim import api
    from sim.analysis.verdict import selection_document

    indifference = _indifference(scenario, args)
    run, selection = api.select_best(
        scenario,
        indifference=indifference,
        precision=args.precision,
        batch=args.batch,
        max_replications=args.max_replications,
        structures=names,
        on_run_done=on_run_done,
        runs=runs,
    )
    document = selection_document(
        selection,
        scenario.decision.objectives[0],
        indifference=indifference,
        precision=args.precision,
        confidence=scenario.decision.confidence,
        first_stage=scenario.replications,
        max_replications=args.max_replications,
    )
    return run, document


def selection_problems(scenario: Scenario, args: argparse.Namespace, label: str) -> list[str]:
    """What keeps ``--select-best`` or ``--precision`` from starting (empty when not asked)."""
    if not selecting(args):
        return []
    from sim.api import selection_problems as problems

    indifference = _indifference(scenario, args)
    return [
        problem.replace(f"{scenario.name}: ", f"{label}: ", 1)
        for problem in problems(scenario, indifference, args.precision, args.max_replications)
    ]
