"""The comparison report: one HTML page a sales leader reads in a minute.

``python -m sim compare`` runs every structure on the same leads, and this
module turns the saved tables into ``compare.csv`` (every KPI per structure
with its paired difference from the reference), the PNG figures, and
``report.html``: one self-contained file (figures embedded as base64, no
script, no network) that opens in any browser and can be mailed around like a
board deck. ``python -m sim report DIR`` rebuilds all three from the saved
tables without simulating, and gets the same bytes.

The page answers, in order: what was compared; which structure to run,
per objective, how sure that is and what would settle it (the verdict,
``sim.reports.verdict_section``, with its headline figure); which red flags trip (too few
reps at quota, a win rate below benchmark, a bottleneck role, an overloaded
pod); the headline table (mean and 95 % CI per structure); which differences
are significant, in words; the paired differences as a forest plot; how much
common random numbers tightened the intervals; people and money (headcount over
time, turnover, vacancies, quota attainment per role and level, the cost
breakdown); and the figures behind it all.

The tables come from ``sim.analysis.comparison``, the drawing from the figure
modules of ``sim.reports``; this module lays them out as a page. The files are
written by ``sim.results.compare``.
"""

from __future__ import annotations

import base64
import html
import math
import re
from typing import Any

from sim.analysis import funnel_tables, in_words, report_kpis
from sim.analysis.comparison import Comparison, labels_of, variance_reduction_summary
from sim.analysis.kpis import KpiSpec, format_mean_ci, format_value, kpi_spec
from sim.analysis.risk import QUANTILES, risk_sentences, roughness_note
from sim.analysis.verdict import economics_lines
from sim.reports.claims_section import claims_html
from sim.reports.compare_figures import FIGURE_CAPTIONS, OWN_PLACE_FIGURES
from sim.reports.verdict_section import VERDICT_CSS, verdict_html
from sim.version import __version__

# --------------------------------------------------------------------------- HTML

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 2rem 3rem; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
p.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 0.6rem 0; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #999; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px;
          margin-right: 0.3em; vertical-align: -0.05em; }
.flags { background: #fff4e5; border-left: 4px solid #D55E00; padding: 0.5rem 1rem; }
.ok { background: #eef7f1; border-left: 4px solid #009E73; padding: 0.5rem 1rem; }
td.holds { color: #00704f; font-weight: 600; }
td.does-not-hold { color: #b34700; font-weight: 600; }
td.not-significant, td.not-tested { color: #666666; }
.sig { font-weight: 600; }
.better { color: #00734f; }
.worse { color: #b34700; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.88rem; color: #555; }
.note { font-size: 0.85rem; color: #666; }
code { background: #f2f2f2; padding: 0 0.2em; border-radius: 3px; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _swatch(structure: str) -> str:
    from sim.reports.style import structure_colour

    return f'<span class="swatch" style="background:{structure_colour(structure)}"></span>'


def _structure_header(structures: list[str], labels: dict[str, str]) -> str:
    return "".join(f"<th>{_swatch(s)}{_e(labels[s])}</th>" for s in structures)


def _headline_html(comparison: Comparison, labels: dict[str, str]) -> str:
    structures = list(comparison.result.structures)
    table = in_words.headline_table(comparison.summary, comparison.headline)
    rows = []
    for kpi, (_, values) in zip(comparison.headline, table.iterrows(), strict=True):
        cells = "".join(f"<td>{_e(values[s])}</td>" for s in structures)
        rows.append(f"<tr>{_label_cell(kpi)}{cells}</tr>")
    return (
        f"<table><thead><tr><th>KPI (mean ± 95 % CI half-width)</th>"
        f"{_structure_header(structures, labels)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _risk_html(comparison: Comparison, labels: dict[str, str]) -> str:
    """P10, P50 and P90 of each objective by structure: how far one year can swing."""
    risk = comparison.risk
    if risk.empty or comparison.result.scenario.replications < 2:
        return "<p>One replication: no spread to show. Run more replications.</p>"
    structures = list(comparison.result.structures)
    rows = []
    for kpi, group in risk.groupby("kpi", sort=False):
        by_structure = group.set_index("structure")
        for column in QUANTILES:
            cells = "".join(
                f"<td>{_e(format_value(kpi, by_structure.at[s, column]))}</td>"
                if s in by_structure.index
                else "<td></td>"
                for s in structures
            )
            rows.append(f"<tr>{_label_cell(kpi, percentile=column.upper())}{cells}</tr>")
    sentences = "".join(f"<li>{_e(line)}</li>" for line in risk_sentences(risk))
    return (
        "<p>Each replication is one possible year of the same market: one year in ten "
        "comes out below P10, one in ten above P90.</p>"
        f"<ul>{sentences}</ul>"
        f"<table><thead><tr><th>Objective, percentile across replications</th>"
        f"{_structure_header(structures, labels)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<p class='note'>{_e(roughness_note(int(risk['replications'].max())))} "
        "The numbers are in <code>risk.csv</code>.</p>"
    )


def _compared_kpis(comparison: Comparison) -> list[str]:
    """Headline KPIs with a difference for at least one structure (a role both have)."""
    defined = comparison.differences.loc[
        comparison.differences["difference"].notna(), "kpi"
    ].unique()
    return [kpi for kpi in comparison.headline if kpi in set(defined)]


def _differences_html(comparison: Comparison, labels: dict[str, str]) -> str:
    others = [s for s in comparison.result.structures if s != comparison.reference]
    diffs = comparison.differences.set_index(["structure", "kpi"])
    rows = []
    for kpi in _compared_kpis(comparison):
        spec = kpi_spec(kpi)
        cells = []
        for structure in others:
            if (structure, kpi) not in diffs.index:
                cells.append("<td>-</td>")
                continue
            row = diffs.loc[(structure, kpi)]
            text = format_value(kpi, row["difference"], difference=True)
            if math.isfinite(row["ci_low"]):
                low = format_value(kpi, row["ci_low"], True).replace(" pp", "")
                high = format_value(kpi, row["ci_high"], True).replace(" pp", "")
                text += f" [{low}, {high}]"
            css = ""
            if row["significant"]:
                verdict = int(math.copysign(1, row["difference"])) * spec.better
                css = "sig " + {1: "better", -1: "worse"}.get(verdict, "")
            ratio = row.get("ci_width_ratio", math.nan)
            ratio_text = (
                f"<br><span class='note'>CI width ×{ratio:.2f}</span>"
                if (isinstance(ratio, float) and math.isfinite(ratio))
                else ""
            )
            cells.append(f'<td class="{css.strip()}">{_e(text)}{ratio_text}</td>')
        rows.append(f"<tr>{_label_cell(kpi, spec.difference_unit)}{''.join(cells)}</tr>")
    return (
        f"<table><thead><tr><th>difference from {_e(labels[comparison.reference])} "
        f"[95 % CI]</th>{_structure_header(others, labels)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _variance_html(comparison: Comparison, labels: dict[str, str]) -> str:
    if not comparison.independent_measured:
        return (
            "<p class='note'>Not measured: this directory has no run with independent lead "
            "streams (<code>python -m sim compare</code> makes one unless told "
            "<code>--no-independent</code>).</p>"
        )
    others = [s for s in comparison.result.structures if s != comparison.reference]
    diffs = comparison.differences.set_index(["structure", "kpi"])
    rows = []
    for kpi in _compared_kpis(comparison):
        cells = []
        for structure in others:
            ratio = (
                diffs.loc[(structure, kpi), "ci_width_ratio"]
                if (structure, kpi) in diffs.index
                else math.nan
            )
            cells.append(f"<td>{ratio:.2f}</td>" if math.isfinite(ratio) else "<td>-</td>")
        rows.append(f"<tr><td>{_e(kpi_spec(kpi).label)}</td>{''.join(cells)}</tr>")
    return (
        f"<p>{_e(variance_reduction_summary(comparison))}</p>"
        "<p class='note'>Each cell: the width of the paired 95 % CI with common random numbers "
        "divided by its width when every structure runs on lead streams of its own (same number "
        "of replications). Below 1: common random numbers helped; 0.5 is worth four times the "
        "replications. '-' where a width is undefined or zero.</p>"
        f"<table><thead><tr><th>CI width ratio (CRN / independent)</th>"
        f"{_structure_header(others, labels)}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _label_cell(kpi: str, unit: str | None = None, percentile: str = "") -> str:
    """A row's first cell: the KPI's label (and percentile) and, in a note, its unit."""
    spec = kpi_spec(kpi)
    unit = spec.shown_unit if unit is None else unit
    label = f"{spec.label} {percentile}".strip()
    return f"<td>{_e(label)} <span class='note'>({_e(unit)})</span></td>"


def _kpi_table_html(
    comparison: Comparison, specs: dict[str, KpiSpec], heading: str, labels: dict[str, str]
) -> str:
    """KPIs (rows, in ``specs`` order, those measured for some structure) by structure, ± CI."""
    structures = list(comparison.result.structures)
    kpis = [
        kpi
        for kpi in specs
        if kpi in comparison.kpis.columns and comparison.kpis[kpi].notna().any()
    ]
    table = in_words.headline_table(comparison.summary, kpis)
    rows = []
    for kpi, (_, values) in zip(kpis, table.iterrows(), strict=True):
        cells = "".join(f"<td>{_e(values[s])}</td>" for s in structures)
        rows.append(f"<tr>{_label_cell(kpi)}{cells}</tr>")
    return (
        f"<table><thead><tr><th>{_e(heading)}</th>"
        f"{_structure_header(structures, labels)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _levels_html(comparison: Comparison, labels: dict[str, str]) -> str:
    """Attainment and share at quota per structure, role and level, ± 95 % CI half-width."""
    from sim.reports.style import role_label

    levels = comparison.levels
    if levels.empty:
        return "<p class='note'>No rep-period with a quota counts (none after the warm-up).</p>"

    def cell(row: Any, value: str) -> str:
        return _e(
            format_mean_ci(
                "share_reps_at_quota",
                row[value],
                row[f"{value}_ci_low"],
                row[f"{value}_ci_high"],
            )
        )

    rows = []
    for row in levels.to_dict("records"):
        structure = str(row["structure"])
        rows.append(
            f"<tr><td>{_swatch(structure)}{_e(labels.get(structure, structure))}</td>"
            f"<td>{_e(role_label(str(row['role'])))}</td><td>{_e(row['level'])}</td>"
            f"<td>{row['rep_periods']:.1f}</td><td>{cell(row, 'mean_attainment')}</td>"
            f"<td>{cell(row, 'share_at_quota')}</td></tr>"
        )
    return (
        "<table><thead><tr><th>structure</th><th>role</th><th>level</th>"
        "<th>rep-periods per replication</th><th>mean attainment (± 95 % CI)</th>"
        "<th>share at quota (± 95 % CI)</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _folded(section: str) -> str:
    """A section that opens on a click: its first heading becomes the summary line.

    The page must show the verdict and the headline first; long tables and
    diagnostics would otherwise push the figures thousands of pixels down.
    """
    match = re.match(r"\s*(<h([23])[^>]*>.*?</h\2>)(.*)", section, re.S)
    if not match:
        return section
    heading, _, body = match.groups()
    return f"<details class='section'><summary>{heading}</summary>{body}</details>"


def _figure_html(name: str, data: bytes) -> str:
    title, caption = FIGURE_CAPTIONS.get(name, (name.replace("_", " "), ""))
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f"<figure id='{_e(name)}'><img src='data:image/png;base64,{encoded}' "
        f"alt='{_e(title)}'><figcaption><b>{_e(title)}.</b> {_e(caption)}</figcaption></figure>"
    )


def _people_html(comparison: Comparison, images: dict[str, bytes], labels: dict[str, str]) -> str:
    """The "People and money" section: headcount, turnover, quota, pay and what it bought."""
    scenario = comparison.result.scenario
    parts = [
        "<h2 id='people-and-money'>People and money</h2>",
        "<p>Reps leave (turnover), their seats stay empty for the hiring lag (vacancy), and "
        "new hires take time to reach full pace (ramp-up): the headcount at work is less than "
        "the headcount paid for. Quota attainment per role and level, then what the team cost "
        "and what it brought in.</p>",
    ]
    if "headcount" in images:
        parts.append(_figure_html("headcount", images["headcount"]))
    parts += [
        "<h3>Turnover, vacancies and quota per role</h3>",
        _kpi_table_html(
            comparison, report_kpis.PEOPLE_SPECS, "KPI (mean ± 95 % CI half-width)", labels
        ),
        "<p class='note'>Turnover: leavers per seat per year. Vacancy: share of seat-days with "
        "nobody in the seat. Attainment: credit over the period's quota (bookings for closers "
        "and generalists, meetings booked for lead gen, qualified opportunities for "
        "qualifiers, net revenue retention for account managers), counting rep-periods after "
        "the warm-up in which the rep was present at least half the period; the red line for "
        f"the share at quota is "
        f"{100 * scenario.benchmarks.min_share_at_quota:.0f} %.</p>",
        "<h3>Quota attainment by role and level</h3>",
        _levels_html(comparison, labels),
    ]
    if "quota_attainment" in images:
        parts.append(_figure_html("quota_attainment", images["quota_attainment"]))
    parts += [
        "<h3>What the team cost and what it brought in</h3>",
        _kpi_table_html(
            comparison, report_kpis.COST_SPECS, "money (mean ± 95 % CI half-width)", labels
        ),
    ]
    if "money" in images:
        parts.append(_figure_html("money", images["money"]))
    return "\n".join(parts)


def _territories_html(comparison: Comparison, labels: dict[str, str]) -> str:
    """Load and results per territory (segment): where leads come from and how they fare."""
    table = funnel_tables.territory_table(comparison.result.leads)
    rows = []
    for row in table.itertuples(index=False):
        conversion = format_mean_ci(
            "conversion", row.conversion, row.conversion_ci_low, row.conversion_ci_high
        )
        rows.append(
            f"<tr><td>{_swatch(str(row.structure))}{_e(labels.get(str(row.structure)))}</td>"
            f"<td>{_e(row.segment)}</td><td>{row.leads:,.0f}</td>"
            f"<td>{100 * row.share_overflowed:.1f} %</td><td>{row.won:,.1f}</td>"
            f"<td>{_e(conversion)}</td><td>{row.mean_first_wait_days:.2f}</td></tr>"
        )
    return (
        "<h2>Territories</h2><p>Per segment (the measured cohort, mean per replication): "
        "leads, the share a pod passed to another pod, wins, conversion with its 95 % CI, and "
        "the mean wait for the first rep (days). Load per pod is in the pod utilisation "
        "figure.</p><table><thead><tr><th>structure</th><th>segment</th><th>leads</th>"
        "<th>passed to another pod</th><th>won</th><th>conversion</th>"
        f"<th>first wait (days)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _customers_html(comparison: Comparison, labels: dict[str, str]) -> str:
    """Market share, go-live, advocates and referrals: the customer side of each structure."""
    table = _kpi_table_html(
        comparison, report_kpis.CUSTOMER_SPECS, "KPI (mean ± 95 % CI half-width)", labels
    )
    if "<td>" not in table:
        return ""
    return (
        "<h2>Customers: competition, go-live, advocates and referrals</h2>"
        "<p>Market share counts our wins among the deals the market decided. Go-live times "
        "run from the win to the end of implementation by the operations team (the same "
        "team for every structure). An advocate is an account served well at several "
        "reviews in a row; advocates churn less and bring referral leads, so a structure "
        "that serves its customers better also gets more leads.</p>" + table
    )


def render_html(
    comparison: Comparison,
    images: dict[str, bytes],
    scenario_file: str | None = None,
    sensitivity_page: bool = False,
) -> str:
    """The whole report as one self-contained HTML document.

    Args:
        comparison: the computed comparison.
        images: PNG bytes by figure name, embedded as base64 data URIs.
        scenario_file: shown in the header when known.
        sensitivity_page: link ``sensitivity/index.html`` (``python -m sim sensitivity``
            wrote it beside the report) under the verdict.

    Returns:
        The HTML text; the same inputs always give the same text (no dates).
    """
    result = comparison.result
    scenario = result.scenario
    labels = labels_of(result.structures)
    names = ", ".join(labels[s] for s in result.structures)
    reference = labels[comparison.reference]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(scenario.name)}: {_e(names)} compared</title>",
        f"<style>{PAGE_CSS}{VERDICT_CSS}</style></head><body><main>",
        f"<h1>{_e(scenario.name)}: "
        + (
            "which structure?</h1>"
            if len(result.structures) > 1
            else f"how {_e(labels[result.structures[0]])} does</h1>"
        ),
        f"<p class='lead'>{_e(names)}"
        + (
            " on the same lead stream with the same luck (common random numbers): "
            if len(result.structures) > 1
            else ": "
        )
        + f"{scenario.replications} independent replications of "
        f"{scenario.horizon_days:g} days (first {scenario.warmup_days:g} days warm-up), "
        f"seed {scenario.seed}"
        + (
            f". Reference for differences: {_e(reference)}.</p>"
            if len(result.structures) > 1
            else ".</p>"
        ),
        verdict_html(
            comparison.verdict,
            scenario.horizon_days,
            images.get("verdict"),
            comparison.selection,
            economics_lines(comparison.summary, scenario),
        ),
    ]
    if sensitivity_page:
        parts.append(
            "<p>Which assumptions decide this verdict, and at which value the leader changes: "
            "<a href='sensitivity/index.html'>the sensitivity analysis</a>.</p>"
        )
    if scenario.description:
        parts.append(f"<p>{_e(scenario.description)}</p>")
    parts.append("<h2>Red flags</h2>")
    if comparison.flags.empty:
        parts.append(
            "<div class='ok'>None tripped: every structure has at least "
            f"{100 * scenario.benchmarks.min_share_at_quota:.0f} % of reps at quota, no role is "
            f"above {100 * scenario.benchmarks.max_utilisation:.0f} % utilisation"
            + (
                f", every win rate is at least {100 * scenario.benchmarks.win_rate:.0f} %"
                if scenario.benchmarks.win_rate is not None
                else ""
            )
            + f", rep turnover is at most {100 * scenario.benchmarks.max_annual_turnover:.0f} % "
            "a year, no market share is falling, and no pod is overloaded.</div>"
        )
    else:
        items = "".join(f"<li>{_e(m)}</li>" for m in comparison.flags["message"])
        parts.append(f"<div class='flags'><ul>{items}</ul></div>")
    parts += [
        "<h2>Headline</h2>",
        _headline_html(comparison, labels),
        "<p class='note'>Throughput counts wins between warm-up and horizon; funnel KPIs count "
        "the measured cohort of leads; money covers the whole horizon. Rates are in %, "
        "dropped leads are counts per replication, money in the scenario's currency.</p>",
        "<h2>Risk: how far a year can swing</h2>",
        _risk_html(comparison, labels),
        f"<h2>What is significantly different from {_e(reference)}</h2>",
    ]
    if len(result.structures) < 2:
        parts.append("<p>Only one structure: nothing to compare it with.</p>")
    elif scenario.replications < 2:
        parts.append(
            "<p>One replication: no confidence interval, nothing can be called "
            "significant. Run more replications.</p>"
        )
    elif not comparison.sentences.empty:
        parts.append(
            "<p>Significant differences: the 95 % CI on the per-replication differences "
            "excludes 0, and the difference passes Benjamini and Hochberg's procedure over "
            "every KPI and structure compared:</p>"
        )
        for structure, group in comparison.sentences.groupby("structure", sort=False):
            items = "".join(
                f"<li class='{_e(verdict)}'>{_e(text)}</li>"
                for verdict, text in zip(group["verdict"], group["text"], strict=True)
            )
            parts.append(
                f"<h3>{_swatch(structure)}{_e(labels[structure])} vs {_e(reference)}</h3>"
                f"<ul>{items}</ul>"
            )
    else:
        parts.append("<p>None of the headline differences is significant at 95 %.</p>")
    parts += [
        "<p class='note'>Why a correction: with many KPIs and structures, about one in twenty "
        "intervals of structures that do not really differ still excludes 0. Benjamini and "
        "Hochberg's procedure keeps the share of luck among the differences called "
        "significant at 5 % or less (the false discovery rate), so a highlighted cell can be "
        "trusted; compare.csv has each p-value and, for a difference not significant, the "
        "replications that would make one this large significant.</p>",
        _folded(
            "<h3>Every headline KPI: paired difference [95 % CI]</h3>"
            + _differences_html(comparison, labels)
        ),
        "<h2>Figures</h2>",
    ]
    parts += [_figure_html(n, data) for n, data in images.items() if n not in OWN_PLACE_FIGURES]
    parts += [
        "<p class='note'>The sections below are folded: click a title to open it.</p>",
        *map(
            _folded,
            (
                "<h2>Variance reduction from common random numbers</h2>"
                + _variance_html(comparison, labels),
                _people_html(comparison, images, labels),
                _territories_html(comparison, labels),
                _customers_html(comparison, labels),
                claims_html(comparison.claims, labels),
            ),
        ),
    ]
    source = f" from <code>{_e(scenario_file)}</code>" if scenario_file else ""
    parts += [
        "<h2>About this report</h2>",
        f"<p class='note'>salesim {_e(__version__)}{source}. The numbers are in "
        "<code>compare.csv</code> (every KPI, its mean and CI per structure, the paired "
        "difference and, when measured, the CI width ratio), the claims in "
        "<code>claims.csv</code>, the raw tables in "
        "<code>leads.parquet</code>, <code>reps.parquet</code> and <code>samples.parquet</code>, "
        "the resolved scenario in <code>summary.json</code>. Rebuild this page without "
        "simulating: <code>python -m sim report DIR</code>.</p>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"
