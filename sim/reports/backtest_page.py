"""The back-test page: does the calibrated scenario reproduce the export? Pass or fail first.

Before a sales leader bets a reorganisation on a calibrated scenario, they
need to know whether it reproduces the history it came from, the way a
forecaster shows last year's forecast against last year's actuals before
forecasting the next. The page opens with the verdict (every tolerance met,
or which ones miss), then the checks as a table, the figure with history
against the replications' bands, and, folded, each point of history outside
its band. Self-contained HTML (the figure embedded), the same inputs always
giving the same text.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from sim.config.names import structure_label
from sim.reports.compare_page import PAGE_CSS
from sim.reports.verdict_section import VERDICT_CSS


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_backtest_html(result: Any, image: bytes | None) -> str:
    """The back-test page.

    Args:
        result: ``sim.crm.backtest.BacktestResult``.
        image: ``backtest.png``'s bytes, if drawn.

    Returns:
        The HTML text.
    """
    history = result.history
    verdict, *check_lines = result.verdict_lines()
    first = history.origin.strftime("%Y-%m-%d")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(result.scenario.name)}: back-test against {_e(history.label)}</title>",
        f"<style>{PAGE_CSS}{VERDICT_CSS}</style></head><body><main>",
        f"<h1>{_e(result.scenario.name)}: does it reproduce {_e(history.label)}?</h1>",
        f"<p class='lead'>{_e(structure_label(result.structure))} simulated "
        f"{result.replications} times over the export's {history.as_of_day:.0f} days from "
        f"{first}, against what the export records.</p>",
        f"<div class='verdict'><p class='answer'>{_e(verdict)}</p></div>",
        _checks_table(result.checks()),
        f"<p>{_e(result.lost_cycle_line())}.</p>",
    ]
    if image is not None:
        encoded = base64.b64encode(image).decode("ascii")
        parts.append(
            f"<figure><img src='data:image/png;base64,{encoded}' alt='history against the "
            "simulation'><figcaption><b>History against the simulation.</b> Dots: the export; "
            "line: the replications' median; band: their middle 95 %.</figcaption></figure>"
        )
    parts += [_outside_html(result), "</main></body></html>"]
    return "\n".join(parts) + "\n"


def _checks_table(checks: list) -> str:
    rows = "".join(
        f"<tr><td>{_e(c.name)}</td><td>{_e(c.measured())}</td>"
        f"<td class='{'holds' if c.passed else 'does-not-hold'}'>"
        f"{'pass' if c.passed else 'fail'}</td></tr>"
        for c in checks
    )
    return (
        "<table><thead><tr><th>check</th><th>measured (tolerance)</th><th>result</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _outside_html(result: Any) -> str:
    outside = result.outside.dropna(subset=["history", "sim_low"])
    if outside.empty:
        return "<p class='ok'>Every point of history lies inside its band.</p>"
    rows = "".join(
        f"<tr><td>{_e(row.metric)}</td><td>{_e(row.period or 'whole period')}</td>"
        f"<td>{row.history:.3g}</td><td>{row.sim_low:.3g} to {row.sim_high:.3g}</td>"
        f"<td>{row.sim_median:.3g}</td></tr>"
        for row in outside.itertuples(index=False)
    )
    return (
        "<details class='section'><summary><h2>Points of history outside their band "
        f"({len(outside)})</h2></summary><table><thead><tr><th>measure</th><th>month</th>"
        "<th>history</th><th>band (middle 95 %)</th><th>median</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></details>"
    )
