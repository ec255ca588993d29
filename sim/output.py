"""Writing a run's results: all files or none.

Results are written into a hidden temporary directory beside the target and
renamed into place only when complete, so an interrupted or failed run never
leaves a half-written results directory (an existing one is replaced only at
the very end).
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim import __version__, metrics
from sim.runner import SimulationResult


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``target`` on success.

    On any exception (Ctrl-C included) the temporary directory is removed and
    ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _clean(value: Any) -> Any:
    """JSON-safe: NaN becomes null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_parquet(df: pd.DataFrame, path: Path, provenance: dict[str, Any]) -> None:
    """Write a table with the run's provenance in the parquet file's metadata."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[b"salesim"] = json.dumps(provenance, sort_keys=True).encode()
    pq.write_table(table.replace_schema_metadata(metadata), path)


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
    return _clean(
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
    out_dir: Path,
    scenario_file: str | None = None,
    plots: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Write every table, the summary and the plots of a run into ``out_dir``.

    Returns:
        The KPI summary (one row per structure and KPI), for printing.
    """
    step = on_step or (lambda _: None)
    scenario = result.scenario
    kpis = metrics.run_kpis(result.leads, result.reps, scenario)
    summary = metrics.summarise(kpis)
    with atomic_directory(out_dir) as tmp:
        step("writing tables")
        provenance = {
            "salesim_version": __version__,
            "seed": scenario.seed,
            "scenario": scenario.model_dump(mode="json"),
        }
        for name in ("leads", "reps", "samples"):
            write_parquet(getattr(result, name), tmp / f"{name}.parquet", provenance)
        kpis.to_csv(tmp / "kpis.csv", index=False)
        metrics.stage_table(result.leads).to_csv(tmp / "stage_summary.csv", index=False)
        document = summary_document(result, summary, scenario_file)
        (tmp / "summary.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        if plots:
            step("drawing plots")
            from sim import report  # matplotlib is slow to import; only when plotting

            figures = {
                "funnel": report.plot_funnel(metrics.funnel_table(result.leads)),
                "wins_over_time": report.plot_wins_over_time(
                    metrics.wins_over_time(result.leads, scenario)
                ),
                "cycle_time": report.plot_cycle_times(metrics.cycle_times(result.leads)),
                "utilisation": report.plot_utilisation(
                    metrics.utilisation_table(result.reps, scenario)
                ),
                "work_in_progress": report.plot_wip(metrics.wip_over_time(result.samples)),
            }
            report.save_figures(figures, tmp)
    return summary
