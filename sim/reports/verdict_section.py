"""The report's first screen: the verdict in words, its table, the headline figure.

What a sales leader reads before scrolling: which structure to run and how
sure that is (``verdict.overall_lines``), then one short answer per objective
with the margins that are clear and those that are not yet, then the
headline figure. The numbers behind it are in ``verdict.csv``.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from sim.analysis.verdict import (
    Verdict,
    answer_lines,
    objective_title,
    opening_lines,
)

VERDICT_CSS = """
.verdict { background: #f3f6fb; border-left: 5px solid #0072B2; padding: 0.6rem 1.1rem;
           margin: 0.8rem 0 1rem; }
.verdict p.answer { font-size: 1.12rem; font-weight: 600; margin: 0.3rem 0; }
.verdict p { margin: 0.3rem 0; }
.objectives { display: grid; grid-template-columns: 1fr 1fr; gap: 0.2rem 1.4rem;
              font-size: 0.9rem; margin: 0.4rem 0; }
.objectives h3 { margin: 0.5rem 0 0.1rem; font-size: 0.95rem; }
.objectives p { margin: 0.1rem 0; }
.objectives ul { margin: 0.1rem 0 0.3rem; padding-left: 1.1rem; }
.objectives li { margin: 0.1rem 0; }
details { margin: 0.6rem 0; }
details > summary { cursor: pointer; font-weight: 600; }
details.section > summary h2, details.section > summary h3 { display: inline; }
details.section > summary { margin-top: 1.6rem; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def verdict_html(
    verdict: Verdict,
    horizon_days: float,
    image: bytes | None,
    selection: dict | None = None,
    economics: list[str] | None = None,
) -> str:
    """The verdict box, each objective's answer (margins folded), and the headline figure.

    Args:
        verdict: ``verdict.build_verdict``.
        horizon_days: the run's horizon, for the profit objective's title.
        image: the headline figure's PNG bytes, if drawn.
        selection: ``selection.json``'s document when ``--select-best`` made the run.
        economics: ``verdict.economics_lines``: why every structure may show a loss.

    Returns:
        An HTML fragment with ``id='verdict'`` on its box.
    """
    first, *rest = opening_lines(verdict, selection)
    parts = [
        "<section id='verdict' class='verdict'>",
        f"<p class='answer'>{_e(first)}</p>",
        *(f"<p>{_e(line)}</p>" for line in rest),
        *(f"<p class='note'>{_e(line)}</p>" for line in economics or ()),
        "</section>",
        "<div class='objectives'>",
    ]
    for objective in verdict.objectives if len(verdict.order) > 1 else ():
        head, *margins = answer_lines(verdict, objective)
        runner_up = f"<p>{_e(margins[0])}</p>" if margins else ""
        items = "".join(f"<li>{_e(line)}</li>" for line in margins[1:])
        more = (
            f"<details><summary>the other {len(margins) - 1}</summary><ul>{items}</ul></details>"
            if items
            else ""
        )
        parts.append(
            f"<div><h3>{_e(objective_title(objective, horizon_days))}: {_e(head)}</h3>"
            f"{runner_up}{more}</div>"
        )
    parts.append("</div>")
    if image is not None:
        encoded = base64.b64encode(image).decode("ascii")
        caption = (
            "<b>Which structure is ahead.</b> Per objective, each structure's mean with its "
            "95 % CI; outlined: the best mean; faded: clearly behind the best (paired "
            "differences on the same leads, Holm-corrected). Overlapping whiskers can still be "
            "a clear difference: the pairs cancel the luck both structures shared."
            if len(verdict.order) > 1
            else "<b>Each objective.</b> The mean over the replications with its 95 % CI."
        )
        parts.append(
            "<figure id='verdict-figure'><img src='data:image/png;base64,"
            f"{encoded}' alt='The objectives per structure'><figcaption>{caption}"
            "</figcaption></figure>"
        )
    return "\n".join(parts)
