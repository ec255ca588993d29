"""The report's claims scoreboard: mechanisms first, then the claims that restate an input.

A claim that holds because the scenario says so (pods drop fewer leads because
their drop probability is set lower) proves nothing about the structures; a
claim whose outcome emerges from what people do in the model does. So the
scoreboard shows the two apart, each row with its test (one KPI, a trade-off
of two, or a spread from P10 to P90), its condition when it has one, and its
verdict (``sim.analysis.claims``).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from sim.analysis.kpis import format_value

HEAD = (
    "<h2>The literature's claims, checked on this scenario</h2>"
    "<p>Each claim is tested by a KPI comparison (the list is in "
    "<code>sim/analysis/claims.toml</code>): the paired difference between the two "
    "structures under common random numbers, the structure's mean against a threshold, "
    "a <em>trade-off</em> (better on one KPI and worse on another: both must hold), or a "
    "<em>spread</em> (the range from P10 to P90 across replications, with a paired "
    "bootstrap interval), with a 95 % CI. A claim <em>holds</em> when the whole interval is "
    "on the claimed side, <em>does not hold</em> when it is on the other side, in both "
    "cases only if its test also passes Holm's step-down over all the claims tested (so "
    "that no verdict is luck, at 95 % for all of them together); <em>not tested</em> means "
    "the run lacks a structure or the KPI, or the scenario is outside the claim's "
    "condition.</p>"
)

GROUPS = (
    ("mechanism", "Claims that test a mechanism", ""),
    (
        "input",
        "Claims that restate an input",
        "<p class='note'>These hold or fail because the scenario sets a number so (a relay "
        "drop probability, a segment-expertise factor): a verdict here measures the input, "
        "not the structure. python -m sim sensitivity shows whether such inputs decide the "
        "verdict.</p>",
    ),
)


def _e(text: Any) -> str:
    return html.escape(str(text))


def _interval(kpi: str, mean: float, low: float, high: float) -> str:
    return (
        f"{format_value(kpi, mean, difference=True)} "
        f"[{format_value(kpi, low, difference=True)}, {format_value(kpi, high, difference=True)}]"
    )


def _test_text(claim: Any, labels: dict[str, str]) -> str:
    who = labels.get(claim.structure, claim.structure)
    versus = labels.get(claim.versus, claim.versus)
    if claim.kind == "spread":
        text = f"P10-P90 range of {claim.kpi}: {who} {claim.expect} than {versus}"
    elif claim.kind == "trade_off":
        text = (
            f"{claim.kpi}: {who} {claim.expect} and {claim.kpi_2}: {claim.expect_2} than {versus}"
        )
    else:
        text = f"{claim.kpi}: {who} {claim.expect} than {versus}"
    return text + (f" (when {claim.condition})" if claim.condition else "")


def _value_text(claim: Any) -> str:
    if claim.verdict == "not tested" and pd.isna(claim.difference):
        return "-"
    value = _interval(claim.kpi, claim.difference, claim.ci_low, claim.ci_high)
    if claim.kind == "trade_off":
        value += "; " + _interval(claim.kpi_2, claim.difference_2, claim.ci_low_2, claim.ci_high_2)
    return value


def _rows(claims: pd.DataFrame, labels: dict[str, str]) -> str:
    return "".join(
        f"<tr><td>{_e(claim.claim)}</td><td>{_e(_test_text(claim, labels))}</td>"
        f"<td>{_e(_value_text(claim))}</td>"
        f"<td class='{_e(claim.verdict.replace(' ', '-'))}'>{_e(claim.verdict)}</td></tr>"
        for claim in claims.itertuples(index=False)
    )


def claims_html(claims: pd.DataFrame, labels: dict[str, str]) -> str:
    """The scoreboard: a table of mechanism claims, then one of input claims."""
    parts = [HEAD]
    for tests, title, note in GROUPS:
        group = claims[claims["tests"] == tests] if "tests" in claims else claims.iloc[:0]
        if group.empty:
            continue
        parts += [
            f"<h3>{title}</h3>",
            note,
            "<table><thead><tr><th>claim</th><th>test</th><th>difference [95 % CI]</th>"
            f"<th>verdict</th></tr></thead><tbody>{_rows(group, labels)}</tbody></table>",
        ]
    return "".join(parts)
