"""The sensitivity page: a tornado chart per objective and the sentence that answers it.

A tornado chart puts the assumptions on rows, widest swing on top: each bar
runs from the leading structure's margin at one end of the assumption's
range to its margin at the other end, with the scenario's own margin marked.
A bar that crosses zero is an assumption that changes the leader; it is drawn
in the alarm colour, and the value where the leader changes is printed beside
it. The page opens with one sentence per objective and carries the table.
Figures are returned, never shown; the page is one HTML file with the PNGs inside.
"""

from __future__ import annotations

import base64
import html
import math

import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.kpis import kpi_spec
from sim.analysis.sensitivity import tornado_order
from sim.analysis.verdict import objective_title
from sim.config.assumptions import Assumption
from sim.reports.style import structure_label

CHANGES = "#D55E00"  # vermilion (Okabe-Ito): the leader changes within the range
STAYS = "#999999"


def _scale(objective: str) -> tuple[float, str]:
    """Factor and unit of a margin on the axis: fractions in percentage points."""
    spec = kpi_spec(objective)
    factor = 100.0 if spec.format in ("percent", "points") else 1.0
    return factor, spec.difference_unit


def tornado_figure(
    table: pd.DataFrame, objective: str, assumptions: dict[str, Assumption], horizon_days: float
) -> Figure:
    """One objective's tornado: the base leader's margin over each assumption's range."""
    rows = tornado_order(table, objective)
    factor, unit = _scale(objective)
    fig = Figure(figsize=(8.5, 1.8 + 0.45 * max(len(rows), 1)), layout="constrained")
    ax = fig.add_subplot()
    leader = structure_label(str(rows["base_leader"].iloc[0])) if len(rows) else "-"
    names = []
    for y, (_, row) in enumerate(rows.iloc[::-1].iterrows()):
        assumption = assumptions[row["assumption"]]
        ends = (factor * row["margin_at_low"], factor * row["margin_at_high"])
        if not all(math.isfinite(e) for e in ends):
            names.append(assumption.label)
            continue
        left, right = min(ends), max(ends)
        colour = CHANGES if row["changes_leader"] else STAYS
        ax.barh(y, right - left, left=left, color=colour, height=0.6)
        ax.plot([factor * row["margin_at_base"]], [y], marker="|", color="black", markersize=14)
        names.append(
            f"{assumption.label}\n{assumption.text(row['low'])} to {assumption.text(row['high'])}"
        )
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"{leader}'s lead over the next best structure ({unit}); left of 0: it is behind")
    ax.set_ylabel("assumption (range)")
    ax.set_title(
        f"{objective_title(objective, horizon_days)}: which assumptions decide whether "
        f"{leader} leads",
        fontsize=10,
    )
    return fig


def sensitivity_figures(
    table: pd.DataFrame,
    objectives: tuple[str, ...],
    assumptions: dict[str, Assumption],
    horizon_days: float,
) -> dict[str, Figure]:
    """``tornado_<objective>`` for every objective with at least one assumption."""
    return {
        f"tornado_{objective}": tornado_figure(table, objective, assumptions, horizon_days)
        for objective in objectives
        if (table["objective"] == objective).any()
    }


def _e(text: object) -> str:
    return html.escape(str(text))


def _table_html(table: pd.DataFrame, objective: str, assumptions: dict[str, Assumption]) -> str:
    rows = tornado_order(table, objective)
    cells = [
        "<table><tr><th>assumption</th><th>range</th><th>scenario</th><th>leader at low</th>"
        "<th>leader at high</th><th>leader changes at</th></tr>"
    ]
    for _, row in rows.iterrows():
        a = assumptions[row["assumption"]]
        switches = [
            f"{a.text(row[f'switch_{side}'])} ({_e(structure_label(row[f'leader_{side}']))} after"
            + ("" if row.get(f"clear_{side}", True) else ", within the noise")
            + ")"
            for side in ("below", "above")
            if isinstance(row[f"leader_{side}"], str) and row[f"leader_{side}"]
        ]
        cells.append(
            f"<tr><td>{_e(a.label)}<br><code>{_e(a.name)}</code></td>"
            f"<td>{_e(a.text(row['low']))} to {_e(a.text(row['high']))}</td>"
            f"<td>{_e(a.text(row['base_value']))}</td>"
            f"<td>{_e(structure_label(row['leader_at_low']))}</td>"
            f"<td>{_e(structure_label(row['leader_at_high']))}</td>"
            f"<td>{_e('; '.join(switches) or '-')}</td></tr>"
        )
    return "".join(cells) + "</table>"


PAGE_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}"
    "table{border-collapse:collapse;font-size:.9em;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
    ".answer{background:#f5f5f5;border-left:4px solid #D55E00;padding:.6em 1em}"
    "img{max-width:100%}"
)


def render_html(
    intro: str,
    sentences: dict[str, str],
    table: pd.DataFrame,
    assumptions: dict[str, Assumption],
    images: dict[str, bytes],
    notes: list[str],
    title: str,
) -> str:
    """The whole page as one HTML document (no dates: the same inputs give the same text)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{PAGE_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(intro)}</p>",
        "<div class='answer'>" + "".join(f"<p>{_e(s)}</p>" for s in sentences.values()) + "</div>",
    ]
    for objective in sentences:
        parts.append(f"<h2>{_e(kpi_spec(objective).label)}</h2>")
        if (image := images.get(f"tornado_{objective}")) is not None:
            data = base64.b64encode(image).decode()
            parts.append(
                f"<img alt='tornado chart: {_e(objective)}' src='data:image/png;base64,{data}'>"
            )
        parts.append(_table_html(table, objective, assumptions))
    parts += [f"<p>{_e(note)}</p>" for note in notes]
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
