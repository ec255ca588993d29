"""Figures and the HTML report of a parameter sweep.

A sweep's question is "where does the leader change?". The figures answer it
the way a whiteboard sketch would: a key KPI on the y axis, the swept
parameter on the x axis, one line per structure (in the colours and names of
``sim.reports.style``) with its 95 % confidence band, and a cross where two lines
meet (the crossover points of ``sweep_summary.crossovers``). With other swept
parameters, each of their values gets its own panel. With exactly two
parameters, a map shows which structure wins each KPI at each grid point,
pale where the runner-up's confidence interval overlaps the winner's.

Like the figure modules of ``sim.reports``, the functions take tables
already computed (the sweep summary, the crossovers) and return figures;
``write_report`` saves them as PNGs under ``plots/`` and embeds them in one
self-contained ``report.html``.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter

from sim.analysis.kpis import kpi_spec
from sim.reports.saving import DPI
from sim.reports.style import structure_colour, structure_label  # chooses the Agg backend
from sim.sweep.best_point import best_lines
from sim.sweep.spec import Axis, Sweep
from sim.sweep.store import write_atomic
from sim.sweep.summary import findings, winners

MAX_PANELS = 12
"""At most this many panels (combinations of the other parameters) per figure."""


def kpi_label(kpi: str) -> str:
    """Human label of a KPI with the unit of the plotted numbers (``sim.analysis.kpis``)."""
    return kpi_spec(kpi).column_title


def plot_kpi_against(
    summary: pd.DataFrame, crossings: pd.DataFrame, sweep: Sweep, kpi: str, axis: Axis
) -> Figure:
    """One KPI against one swept parameter: a line and 95 % band per structure.

    Args:
        summary: ``sweep_summary.summarise_sweep``'s table.
        crossings: ``sweep_summary.crossovers``' table; crossings of this KPI and
            parameter are marked with a cross and their value.
        sweep: the sweep (axes, structures).
        kpi: the KPI on the y axis.
        axis: the parameter on the x axis; every combination of the other
            parameters gets a panel (at most ``MAX_PANELS``).

    Returns:
        The figure.
    """
    others = [a for a in sweep.axes if a is not axis]
    combos = list(itertools.product(*(a.labels for a in others)))
    shown = combos[:MAX_PANELS]
    fig, axes = _panels(len(shown))
    picked = summary[summary["kpi"] == kpi]
    marks = crossings[(crossings["kpi"] == kpi) & (crossings["parameter"] == axis.name)]
    banded = False
    for ax, combo in zip(axes, shown, strict=False):
        table = picked
        for other, value in zip(others, combo, strict=True):
            table = table[table[other.name] == (value if other.numeric else str(value))]
        at = ", ".join(f"{o.name}={v}" for o, v in zip(others, combo, strict=True))
        positions = _positions(axis)
        for structure in sweep.structures:
            line = table[table["structure"].astype(str) == structure]
            line = line.set_index(axis.name).reindex(
                list(axis.labels) if axis.numeric else [str(v) for v in axis.labels]
            )
            colour = structure_colour(structure)
            mean = line["mean"].to_numpy(dtype=float)
            ax.plot(
                positions,
                mean,
                marker="o",
                markersize=3.5,
                color=colour,
                label=structure_label(structure),
            )
            low = line["ci_low"].to_numpy(dtype=float)
            high = line["ci_high"].to_numpy(dtype=float)
            if np.isfinite(low).any():
                ax.fill_between(positions, low, high, color=colour, alpha=0.15, linewidth=0)
                banded = True
        for mark in marks[marks["at"] == at].itertuples(index=False):
            ax.plot(mark.value, mark.kpi_mean, marker="X", color="black", markersize=7, zorder=5)
            ax.annotate(
                f"{mark.value:.3g}",
                (mark.value, mark.kpi_mean),
                textcoords="offset points",
                xytext=(4, 6),
                fontsize=7,
            )
        if axis.log:
            ax.set_xscale("log")
        if not axis.numeric:
            ax.set_xticks(positions, [str(v) for v in axis.labels], rotation=20, fontsize=8)
        ax.grid(alpha=0.3)
        # The registry's numbers on the y axis (no "1e6" offset); plain numbers on x.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: kpi_spec(kpi).format_value(y)))
        if axis.numeric and not axis.log:
            ax.ticklabel_format(axis="x", style="plain", useOffset=False)
        if at:
            ax.set_title(at, fontsize=9)
        ax.set_xlabel(axis.name)
        ax.set_ylabel(kpi_label(kpi))
    title = "band: 95 % CI" if banded else "one replication: no CI"
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        title=title,
        loc="outside lower center",
        ncols=len(labels),
        fontsize=8,
        title_fontsize=8,
    )
    heading = f"{kpi_label(kpi)} against {axis.name}\nmean over {sweep.replications} replications"
    if len(marks):
        heading += "; X: the leader changes (value printed)"
    if len(combos) > len(shown):
        heading += f" (first {len(shown)} of {len(combos)} combinations)"
    fig.suptitle(heading, fontsize=10)
    return fig


def plot_winner_map(summary: pd.DataFrame, sweep: Sweep, kpis: tuple[str, ...]) -> Figure:
    """Which structure wins each KPI at each point of a two-parameter grid.

    Args:
        summary: ``sweep_summary.summarise_sweep``'s table.
        sweep: a sweep with exactly two axes (x: the first, y: the second).
        kpis: one panel per KPI.

    Returns:
        The figure: each cell in the winner's colour, named, with its margin
        over the runner-up; pale where their 95 % CIs overlap.

    Raises:
        ValueError: when the sweep does not have exactly two axes.
    """
    if len(sweep.axes) != 2:
        raise ValueError(f"a winner map needs two swept parameters, got {len(sweep.axes)}")
    across, down = sweep.axes
    fig, axes = _panels(len(kpis), size=(5.2, 3.6))
    for ax, kpi in zip(axes, kpis, strict=False):
        table = winners(summary, sweep, kpi)
        for row in table.itertuples(index=False):
            x = _index(across, getattr(row, across.name))
            y = _index(down, getattr(row, down.name))
            colour = structure_colour(row.winner) if row.winner else "#FFFFFF"
            ax.add_patch(
                Rectangle(
                    (x - 0.5, y - 0.5),
                    1,
                    1,
                    facecolor=colour,
                    alpha=1.0 if row.clear else 0.35,
                    edgecolor="white",
                )
            )
            if row.winner:
                margin = "" if math.isnan(row.margin) else f"\n+{_compact(row.margin)}"
                ax.text(
                    x,
                    y,
                    f"{structure_label(row.winner)}{margin}",
                    ha="center",
                    va="center",
                    fontsize=7,
                )
        ax.set_xlim(-0.5, len(across.labels) - 0.5)
        ax.set_ylim(-0.5, len(down.labels) - 0.5)
        ax.set_xticks(range(len(across.labels)), [_short(v) for v in across.labels], fontsize=8)
        ax.set_yticks(range(len(down.labels)), [_short(v) for v in down.labels], fontsize=8)
        ax.set_xlabel(across.name)
        ax.set_ylabel(down.name)
        better = "lower" if kpi_spec(kpi).direction == "lower" else "higher"
        ax.set_title(f"{kpi_label(kpi)} ({better} is better)", fontsize=9)
    handles = [
        Patch(facecolor=structure_colour(s), label=structure_label(s)) for s in sweep.structures
    ]
    handles.append(Patch(facecolor="#BBBBBB", alpha=0.35, label="pale: CIs overlap"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    fig.suptitle(
        f"Which structure wins, by {across.name} and {down.name}\n"
        f"(margin over the runner-up; mean of {sweep.replications} replications)",
        fontsize=10,
    )
    return fig


def sweep_figures(
    summary: pd.DataFrame, crossings: pd.DataFrame, sweep: Sweep
) -> dict[str, Figure]:
    """Every figure of a sweep report, by file stem."""
    figures = {}
    if len(sweep.axes) == 2:
        figures["winner_map"] = plot_winner_map(summary, sweep, sweep.kpis)
    for axis in sweep.axes:
        for kpi in sweep.kpis:
            figures[f"{kpi}_vs_{axis.name}"] = plot_kpi_against(
                summary, crossings, sweep, kpi, axis
            )
    return figures


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes, without date or software metadata."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI, format="png", metadata={"Software": None})
    return buffer.getvalue()


def report_html(
    sweep: Sweep,
    summary: pd.DataFrame,
    crossings: pd.DataFrame,
    images: dict[str, bytes],
    claims: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    best: pd.DataFrame | None = None,
) -> str:
    """A self-contained HTML page: what was swept, crossovers, winners, figures.

    ``pairs`` (``summary.paired_table``) makes "clear" mean a paired 95 % CI clear of 0;
    ``best`` (``best_point.best_points``) adds the best value per structure and objective.
    """
    esc = html.escape
    runs = sweep.run_count
    grid_rows = "".join(
        f"<tr><td><code>{esc(a.name)}</code></td>"
        f"<td>{esc(', '.join(str(v) for v in a.labels))}</td>"
        f"<td>{'log' if a.log else 'linear' if a.numeric else 'categories'}</td></tr>"
        for a in sweep.axes
    )
    if len(crossings):
        crossing_html = _table(_readable_crossings(crossings))
    else:
        crossing_html = "<p>No crossover: the key KPIs keep their leader across the grid.</p>"
    first = sweep.kpis[0]
    board = _readable_board(winners(summary, sweep, first, pairs).drop(columns=["point"]), first)
    found = "".join(f"<li>{esc(line)}</li>" for line in findings(summary, crossings, sweep, pairs))
    rule = (
        "their paired difference (same leads in every replication) has a 95 % CI clear of 0"
        if pairs is not None
        else "their 95 % CIs do not overlap"
    )
    figures = "".join(
        f'<figure><img alt="{esc(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode()}"><figcaption>{esc(name)}</figcaption></figure>'
        for name, data in images.items()
    )
    structures = ", ".join(structure_label(s) for s in sweep.structures)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Sweep {esc(sweep.name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }}
img {{ max-width: 100%; }} figure {{ margin: 1.5em 0; }} code {{ background: #f3f3f3; }}
</style></head><body>
<h1>Sweep <code>{esc(sweep.name)}</code></h1>
<p>{esc(sweep.description)}</p>
<section id="verdict"><h2>What the sweep found</h2><ul>{found}</ul>
<p>Clear: {rule}. A change of leader that is not clear is within the noise of
{sweep.replications} replications: no clear change.</p></section>
<p>{len(sweep.points)} grid points &times; {len(sweep.structures)} structures ({esc(structures)})
&times; {sweep.replications} replications = {runs} runs; base scenario
<code>{esc(sweep.base.name)}</code>, seed {sweep.seed}, {sweep.base.horizon_days:g} days.
Every run is seeded by its replication alone, so every grid point and structure meets the
same lead luck (common random numbers). Means with 95 % t confidence intervals across
replications; sweep digest <code>{sweep.digest[:12]}</code>.</p>
{_best_section(best)}
<h2>Grid</h2>
<table><tr><th>parameter</th><th>values</th><th>scale</th></tr>{grid_rows}</table>
<h2>Crossovers</h2>
<p>Where the difference of two structures' means changes sign between neighbouring grid
values, found by linear interpolation (in log space on a log axis). A crossover between
grid points whose confidence bands overlap is a hint, not a finding.</p>
{crossing_html}
<h2>Leader per grid point: {esc(kpi_label(first))}</h2>
<p>Clear: for the leader and the runner-up, {rule}.</p>
{_table(board)}
{_claims_section(claims, sweep)}
<h2>Figures</h2>
{figures}
</body></html>
"""


def _best_section(best: pd.DataFrame | None) -> str:
    """The best grid point per structure and key KPI, paired on common random numbers."""
    if best is None or best.empty:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in best_lines(best))
    return (
        "<section id='best'><h2>Best value per structure and objective</h2>"
        "<p>The grid point with the best mean, against the runner-up point, replication by "
        "replication (the same leads and luck at every point): clear when the paired 95 % CI "
        "of the margin excludes 0. A structure the grid does not change has no line.</p>"
        f"<ul>{items}</ul></section>"
    )


def _claims_section(claims: pd.DataFrame | None, sweep: Sweep) -> str:
    """The literature's claims at every grid point, and where a verdict changes."""
    if claims is None or claims.empty:
        return ""
    axes = [a.name for a in sweep.axes]
    label = claims[axes].astype(str).agg(", ".join, axis=1)
    grid = claims.assign(at=label).pivot(index="id", columns="at", values="verdict")
    grid = grid.reindex(index=list(dict.fromkeys(claims["id"])), columns=list(dict.fromkeys(label)))
    changes = claims[claims["changed"]].assign(at=label[claims["changed"]])
    if changes.empty:
        change_html = "<p>No claim changes its verdict along the grid.</p>"
    else:
        items = "".join(
            f"<li><code>{html.escape(row.id)}</code> becomes <em>{html.escape(row.verdict)}</em> "
            f"at {html.escape(row.at)}</li>"
            for row in changes.itertuples(index=False)
        )
        change_html = f"<ul>{items}</ul>"
    return (
        "<h2>The literature's claims along the grid</h2>"
        "<p>Each claim of <code>sim/analysis/claims.toml</code> scored at every grid point as in "
        "the comparison report (holds / does not hold / not significant / not tested, from the "
        "95 % CI of the paired difference). Where a verdict changes between neighbouring "
        f"grid points (also in <code>claims.csv</code>):</p>{change_html}"
        f"{grid.reset_index().to_html(index=False, border=0, na_rep='-')}"
    )


def write_report(
    sweep: Sweep,
    summary: pd.DataFrame,
    crossings: pd.DataFrame,
    out_dir: Path,
    claims: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    best: pd.DataFrame | None = None,
) -> list[Path]:
    """Write ``plots/<name>.png`` and ``report.html`` into ``out_dir`` (each atomically).

    Returns:
        The written paths.
    """
    out_dir = Path(out_dir)
    plots = out_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    images = {
        name: png_bytes(fig) for name, fig in sweep_figures(summary, crossings, sweep).items()
    }
    written = []
    for name, data in images.items():
        written.append(write_atomic(plots / f"{name}.png", data))
    page = report_html(sweep, summary, crossings, images, claims, pairs, best)
    written.append(write_atomic(out_dir / "report.html", page.encode()))
    return written


def _readable_crossings(crossings: pd.DataFrame) -> pd.DataFrame:
    """The crossovers with human headers and names, clear ones first."""
    table = crossings.sort_values("clear", ascending=False, kind="stable")
    shown = pd.DataFrame(
        {
            "KPI": [kpi_spec(k).label for k in table["kpi"]],
            "parameter": table["parameter"],
            "other parameters": table["at"],
            "near": [f"{v:.3g}" for v in table["value"]],
            "leader below": [structure_label(s) for s in table["leader_before"]],
            "leader above": [structure_label(s) for s in table["leader_after"]],
            "clear": ["yes" if c else "no: CIs overlap" for c in table["clear"]],
        }
    )
    return shown.drop(columns=["other parameters"]) if not table["at"].any() else shown


def _readable_board(board: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """The leader per grid point with human headers and the KPI's own number format."""
    spec = kpi_spec(kpi)
    return board.assign(
        winner=[structure_label(s) if s else "-" for s in board["winner"]],
        runner_up=[structure_label(s) if s else "-" for s in board["runner_up"]],
        best=[spec.format_value(v) for v in board["best"]],
        margin=[spec.format_value(v) for v in board["margin"]],
        clear=["yes" if c else "no" for c in board["clear"]],
    ).rename(columns={"winner": "leader", "best": "leader's mean", "runner_up": "runner-up"})


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, na_rep="-")


def _positions(axis: Axis) -> np.ndarray:
    if axis.numeric:
        return np.asarray(axis.labels, dtype=float)
    return np.arange(len(axis.labels), dtype=float)


def _index(axis: Axis, value: object) -> int:
    labels = list(axis.labels) if axis.numeric else [str(v) for v in axis.labels]
    return labels.index(value)


def _compact(value: float) -> str:
    """3 significant digits, thousands as k and millions as M: 312k, 1.11M, 0.0117."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _panels(count: int, size: tuple[float, float] = (5.6, 3.8)) -> tuple[Figure, list]:
    ncols = 1 if count <= 1 else 2
    if ncols == 1:
        size = (size[0] * 1.35, size[1] * 1.2)
    nrows = max(1, math.ceil(count / ncols))
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows + 0.8), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel())
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes
