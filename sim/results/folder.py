"""Writing a run's results: all files or none, and only where salesim may.

Results are written into a hidden temporary folder inside the target and
swapped in only when complete (``sim.files.outdir``), so an interrupted or failed
run never leaves a half-written results folder, and files salesim did not
write there (``plan/``, a user's notes) survive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import funnel_tables, kpi_values, switch
from sim.config.scenario import Scenario, ScenarioError
from sim.files.csvsafe import write_csv
from sim.files.outdir import OutputFolder, output_folder
from sim.files.tables import json_safe, write_parquet
from sim.model.results import SimulationResult
from sim.version import __version__


def summary_document(
    result: SimulationResult, summary: pd.DataFrame, scenario_file: str | None
) -> dict[str, Any]:
    """What ``summary.json`` holds: provenance, the resolved scenario, KPIs with CIs."""
    scenario = result.scenario
    kpis: dict[str, dict[str, Any]] = {}
    for row in summary.itertuples(index=False):
        kpis.setdefault(str(row.structure), {})[row.kpi] = {
            "mean": row.mean,
            "ci_low": row.ci_low,
            "ci_high": row.ci_high,
            "replications": row.replications,
        }
    return json_safe(
        {
            "salesim_version": __version__,
            "scenario_file": scenario_file,
            "seed": scenario.seed,
            "replications": scenario.replications,
            "structures": list(result.structures),
            "confidence": 0.95,
            "scenario": scenario.model_dump(mode="json"),
            "kpis": kpis,
        }
    )


def write_results(
    result: SimulationResult,
    out_dir: Path | OutputFolder,
    scenario_file: str | None = None,
    plots: bool = True,
    on_step: Callable[[str], None] | None = None,
    extra: Callable[[Path], None] | None = None,
    kpis: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Write every table, the summary and the plots of a run into ``out_dir``.

    Args:
        result: the run's tables.
        out_dir: the results folder (or one claimed already, ``OutputFolder.claim``);
            salesim's previous files there are replaced, only on success.
        scenario_file: the scenario file's path, recorded in ``summary.json``.
        plots: draw the standard PNG plots.
        on_step: called with a short description of each step, for progress.
        extra: called with the temporary directory after everything else is
            written, to add more files (the comparison report) that then
            appear together with the rest, or not at all.
        kpis: the run's KPIs if already computed (``kpi_values.run_kpis``).

    Returns:
        The KPI summary (one row per structure and KPI), for printing.
    """
    step = on_step or (lambda _: None)
    scenario = result.scenario
    if kpis is None:
        kpis = kpi_values.run_kpis(result.leads, result.reps, scenario)
    summary = kpi_values.summarise(kpis)
    with output_folder(out_dir) as folder, folder.writing() as tmp:
        step("writing tables")
        provenance = {
            "salesim_version": __version__,
            "seed": scenario.seed,
            "scenario": scenario.model_dump(mode="json"),
        }
        for name in ("leads", "reps", "samples"):
            write_parquet(getattr(result, name), tmp / f"{name}.parquet", provenance)
        write_csv(kpis, tmp / "kpis.csv")
        write_csv(funnel_tables.stage_table(result.leads), tmp / "stage_summary.csv")
        write_csv(funnel_tables.territory_table(result.leads), tmp / "territories.csv")
        if switch.switch_plans(scenario, result.structures):
            dip = switch.switch_dip(result.leads, scenario)
            write_csv(dip, tmp / "switch.csv")
            write_csv(switch.switch_summary(dip), tmp / "switch_summary.csv")
        document = summary_document(result, summary, scenario_file)
        (tmp / "summary.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        if plots:
            step("drawing plots")
            # matplotlib is slow to import; only when plotting
            from sim.reports.run_figures import run_figures
            from sim.reports.saving import save_figures

            figures = run_figures(result)
            save_figures(figures, tmp)
        if extra is not None:
            extra(tmp)
    return summary


class ResultsError(ScenarioError):
    """A results directory that cannot be read; ``problems`` holds one line per problem."""


RESULT_TABLES: tuple[str, ...] = ("leads", "reps", "samples")
"""The parquet tables of a results directory, as ``write_results`` writes them."""


def read_results(
    directory: Path, tables: tuple[str, ...] = RESULT_TABLES, document: str = "summary.json"
) -> SimulationResult:
    """Load a results directory written by ``write_results``, without simulating.

    The scenario comes from the resolved copy in ``summary.json``, so the
    tables are read with exactly the settings that made them.

    Args:
        directory: the results directory.
        tables: which parquet tables to read; a table left out is empty.
        document: the JSON file holding ``scenario`` and ``structures``.

    Returns:
        The run's tables, with structures in their original order.

    Raises:
        ResultsError: one line naming the directory and what is missing or unreadable.
    """
    directory = Path(directory)
    if not directory.exists():
        raise ResultsError([f"{directory}: no such results directory"])
    if not directory.is_dir():
        raise ResultsError([f"{directory}: not a directory, expected a results directory"])
    missing = [
        name
        for name in (document, *(f"{t}.parquet" for t in tables))
        if not (directory / name).is_file()
    ]
    if missing:
        raise ResultsError(
            [
                f"{directory}: not a salesim results directory (missing {', '.join(missing)}); "
                "make one with: python -m sim compare FILE --out DIR"
            ]
        )
    try:
        meta = json.loads((directory / document).read_text(encoding="utf-8"))
        structures = tuple(str(name) for name in meta["structures"])
        raw_scenario = meta["scenario"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        reason = f"no {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        raise ResultsError([f"{directory / document}: not a salesim summary ({reason})"]) from None
    scenario = Scenario.from_dict(raw_scenario, str(directory / document))
    frames = {}
    for name in RESULT_TABLES:
        if name not in tables:
            frames[name] = pd.DataFrame({"structure": pd.Categorical([], categories=structures)})
            continue
        try:
            df = pd.read_parquet(directory / f"{name}.parquet")
        except Exception as exc:  # pyarrow raises several types for a damaged file
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ResultsError([f"{directory / name}.parquet: unreadable ({first})"]) from None
        if "structure" not in df or not set(df["structure"].astype(str)) <= set(structures):
            raise ResultsError([f"{directory / name}.parquet: structures do not match {document}"])
        df["structure"] = pd.Categorical(df["structure"].astype(str), categories=list(structures))
        frames[name] = df
    return SimulationResult(scenario=scenario, structures=structures, **frames)
