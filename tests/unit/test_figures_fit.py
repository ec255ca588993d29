"""No figure is cropped: titles, axis labels and legends lie inside the saved image.

Issue 15 found single-structure figures whose title ran off the right edge
("... by structu") and whose legend was cut. Every figure the commands save
is drawn here at the saved resolution, with one structure and with four, and
the drawn box of each title, label and legend must lie inside the image.
"""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim import api
from sim.analysis.comparison import build_comparison
from sim.reports.compare_figures import comparison_figures
from sim.reports.run_figures import run_figures
from sim.reports.saving import DPI

SHORT = ("horizon_days=150", "warmup_days=20", "replications=2")
TOLERANCE_PX = 1.0


def _texts(fig):
    """Every visible title, axis label and legend of a figure, with a name for messages."""
    found = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        found.append(("suptitle", fig._suptitle))
    for legend in fig.legends:
        found.append(("figure legend", legend))
    for index, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        for name, text in (
            ("title", ax.title),
            ("x label", ax.xaxis.label),
            ("y label", ax.yaxis.label),
        ):
            if text.get_text():
                found.append((f"axes {index} {name} {text.get_text()[:30]!r}", text))
        if ax.get_legend() is not None:
            found.append((f"axes {index} legend", ax.get_legend()))
    return found


def _outside(fig) -> list[str]:
    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = canvas.get_width_height()
    problems = []
    for name, artist in _texts(fig):
        box = artist.get_window_extent(renderer)
        if (
            box.x0 < -TOLERANCE_PX
            or box.y0 < -TOLERANCE_PX
            or box.x1 > width + TOLERANCE_PX
            or box.y1 > height + TOLERANCE_PX
        ):
            problems.append(
                f"{name}: [{box.x0:.0f}, {box.x1:.0f}] x [{box.y0:.0f}, {box.y1:.0f}] "
                f"outside {width} x {height}"
            )
    return problems


@pytest.fixture(scope="module")
def four():
    run = api.run("scenarios/baseline.toml", overrides=SHORT)
    return comparison_figures(build_comparison(run.result, "allin"))


@pytest.fixture(scope="module")
def one():
    run = api.run("scenarios/pods.toml", overrides=SHORT)
    return {**run_figures(run.result), **comparison_figures(build_comparison(run.result, "pods"))}


@pytest.mark.integration  # over 10 s of CPU: make test stays under 4 minutes
def test_no_figure_of_four_structures_is_cropped(four):
    problems = {name: _outside(fig) for name, fig in four.items()}
    assert {name: p for name, p in problems.items() if p} == {}


def test_no_figure_of_one_structure_is_cropped(one):
    problems = {name: _outside(fig) for name, fig in one.items()}
    assert {name: p for name, p in problems.items() if p} == {}
