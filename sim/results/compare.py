"""The compare workflow's files: the independent-streams run, the settings, the report.

``python -m sim compare`` writes, beside the results ``simulate`` writes,
``comparison.json`` (the reference, and whether structures also ran on
independent lead streams), ``independent/`` (that run's tables), and the
report (``verdict.csv``, ``compare.csv``, ``claims.csv``, the figures, ``report.html``);
``python -m sim report DIR`` reads them back and rebuilds the report without
simulating, to the same bytes. ``terminal_text`` is what the command prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.analysis import in_words
from sim.analysis.comparison import Comparison, labels_of, variance_reduction_summary
from sim.analysis.verdict import economics_lines, verdict_lines
from sim.files.tables import write_parquet
from sim.model.results import SimulationResult
from sim.reports.compare_figures import comparison_figures
from sim.reports.compare_page import render_html
from sim.results.folder import ResultsError, read_results
from sim.version import __version__

COMPARISON_DOCUMENT = "comparison.json"
"""How the comparison was made: reference, whether and how independent streams were run."""

SELECTION_DOCUMENT = "selection.json"
"""What ``compare --select-best`` did (``verdict.selection_document``)."""

INDEPENDENT_DIR = "independent"
"""Sub-directory holding the run with independent lead streams."""

REPORT_FILES = ("verdict.csv", "compare.csv", "claims.csv", "risk.csv", "report.html")
"""Files the report step writes besides the PNGs (``report`` rewrites them all)."""


def write_independent(directory: Path, independent: SimulationResult, reference: str) -> None:
    """Save the independent-streams run and the comparison settings beside the results.

    Args:
        directory: the (temporary) results directory.
        independent: the run of ``runner.simulate_independent``.
        reference: the default reference structure of later ``report`` runs.
    """
    sub = directory / INDEPENDENT_DIR
    sub.mkdir(exist_ok=True)
    scenario = independent.scenario
    seeds = {
        str(name): int(group["seed"].iloc[0])
        for name, group in independent.leads.groupby("structure", observed=True, sort=False)
        if len(group)
    }
    provenance = {
        "salesim_version": __version__,
        "seed": scenario.seed,
        "independent_seeds": seeds,
        "scenario": scenario.model_dump(mode="json"),
    }
    for name in ("leads", "reps"):
        write_parquet(getattr(independent, name), sub / f"{name}.parquet", provenance)
    document = {
        "salesim_version": __version__,
        "structures": list(independent.structures),
        "independent_seeds": seeds,
        "scenario": scenario.model_dump(mode="json"),
    }
    (sub / "summary.json").write_text(json.dumps(document, indent=2) + "\n")
    settings = {
        "reference": reference,
        "structures": list(independent.structures),
        "independent_streams": INDEPENDENT_DIR,
        "independent_seeds": seeds,
    }
    (directory / COMPARISON_DOCUMENT).write_text(json.dumps(settings, indent=2) + "\n")


def write_selection(directory: Path, document: dict) -> None:
    """Save what ``compare --select-best`` did, for the report and ``report DIR``."""
    (directory / SELECTION_DOCUMENT).write_text(json.dumps(document, indent=2) + "\n")


def read_selection(directory: Path) -> dict | None:
    """``selection.json`` of a results directory, or None if it has none.

    Raises:
        ResultsError: when the file exists but cannot be read.
    """
    path = Path(directory) / SELECTION_DOCUMENT
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError([f"{path}: unreadable ({str(exc).splitlines()[0]})"]) from None


def write_settings(directory: Path, structures: tuple[str, ...], reference: str) -> None:
    """Record the reference when no independent-streams run was made."""
    settings = {"reference": reference, "structures": list(structures), "independent_streams": None}
    (directory / COMPARISON_DOCUMENT).write_text(json.dumps(settings, indent=2) + "\n")


def read_comparison(
    directory: Path, reference: str | None = None
) -> tuple[SimulationResult, SimulationResult | None, str, str | None]:
    """Load a saved comparison (or plain simulate results) for ``report``.

    Args:
        directory: a results directory.
        reference: overrides the saved reference structure.

    Returns:
        The common-random-numbers run, the independent-streams run (None if
        there is none), the reference structure, and the scenario file the
        run was made from (as recorded in ``summary.json``).

    Raises:
        ResultsError: one line per problem, naming the directory.
    """
    directory = Path(directory)
    result = read_results(directory)
    saved: dict[str, Any] = {}
    path = directory / COMPARISON_DOCUMENT
    if path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            first = str(exc).splitlines()[0]
            raise ResultsError([f"{path}: unreadable ({first})"]) from None
    chosen = reference or saved.get("reference") or result.structures[0]
    if chosen not in result.structures:
        raise ResultsError(
            [
                f"{directory}: reference {chosen!r} is not among the saved structures "
                f"({', '.join(result.structures)})"
            ]
        )
    independent = None
    if saved.get("independent_streams"):
        independent = read_results(directory / saved["independent_streams"], ("leads", "reps"))
        if independent.structures != result.structures:
            raise ResultsError(
                [f"{directory}: the independent-streams run has other structures than the results"]
            )
    scenario_file = json.loads((directory / "summary.json").read_text(encoding="utf-8")).get(
        "scenario_file"
    )
    return result, independent, chosen, scenario_file


SENSITIVITY_PAGE = Path("sensitivity") / "index.html"
"""Where ``python -m sim sensitivity`` writes its page, relative to the results folder."""


def write_report(
    directory: Path,
    comparison: Comparison,
    scenario_file: str | None,
    final: Path | None = None,
) -> None:
    """Write ``verdict.csv``, ``compare.csv``, the figures and ``report.html``.

    Args:
        directory: where to write (a temporary folder swapped in afterwards).
        comparison: the computed comparison.
        scenario_file: shown in the report.
        final: the results folder the report ends up in: its sensitivity page,
            when there is one, is linked.
    """
    from sim.files.csvsafe import write_csv
    from sim.reports.saving import save_figures

    write_csv(comparison.verdict.table, directory / "verdict.csv")
    write_csv(comparison.table, directory / "compare.csv")
    write_csv(comparison.claims, directory / "claims.csv")
    write_csv(comparison.risk, directory / "risk.csv")
    paths = save_figures(comparison_figures(comparison), directory)
    images = {path.stem: path.read_bytes() for path in paths}
    (directory / "report.html").write_text(
        render_html(
            comparison,
            images,
            scenario_file,
            sensitivity_page=final is not None and (Path(final) / SENSITIVITY_PAGE).is_file(),
        ),
        encoding="utf-8",
    )


def terminal_text(comparison: Comparison, directory: Path | None = None) -> str:
    """What the terminal prints: the verdict, headline table, red flags, significant differences."""
    result = comparison.result
    scenario = result.scenario
    labels = labels_of(result.structures)
    lines = [
        f"{scenario.name}: {', '.join(labels[s] for s in result.structures)} on the same leads, "
        f"{scenario.replications} replications of {scenario.horizon_days:g} days, "
        f"seed {scenario.seed}",
        "",
        *verdict_lines(comparison.verdict, scenario.horizon_days, comparison.selection),
        *(["", *economics] if (economics := economics_lines(comparison.summary, scenario)) else []),
        "",
        in_words.headline_table(comparison.summary, comparison.headline)
        .rename(columns=labels)
        .to_string(),
        "",
    ]
    if comparison.flags.empty:
        lines.append("Red flags: none tripped.")
    else:
        lines.append("Red flags:")
        lines += [f"  ! {message}" for message in comparison.flags["message"]]
    lines.append("")
    reference = labels[comparison.reference]
    if len(result.structures) < 2:
        lines.append("Only one structure: nothing to compare it with.")
    elif scenario.replications < 2:
        lines.append("Paired differences: one replication, no confidence intervals.")
    elif not comparison.sentences.empty:
        lines.append(
            f"Significant differences from {reference} (Benjamini-Hochberg over every KPI, "
            "false discovery rate 5 %):"
        )
        lines += [
            f"  - {labels[row.structure]} vs {reference}: {row.text}"
            for row in comparison.sentences.itertuples(index=False)
        ]
    else:
        lines.append(f"No headline difference from {reference} is significant at 95 %.")
    ratio = variance_reduction_summary(comparison)
    if ratio:
        lines += ["", ratio]
    if directory is not None:
        lines += ["", f"report: {directory / 'report.html'}"]
    return "\n".join(lines)
