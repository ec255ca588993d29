"""The house style of every figure: colours, names, legends, and where matplotlib is set up.

A company's slide template keeps its colours and names the same on every
slide; this module does that for salesim's figures. Every figure colours a
structure the same way (``STRUCTURE_COLOURS``, from the Okabe-Ito
colour-blind-safe palette) and names it the same way (``structure_label``,
from ``sim.config.names``, also imported from here), so a reader who learns
that Pods is purple on the funnel finds it purple on the money chart. Roles
have a palette of their own (``ROLE_COLOURS``), unlike the structures', so a
role line is never mistaken for a structure. Time is in days throughout.

The helpers the figure modules share live here too: structures in report
order, a grid of panels with one legend below them, a bar with its 95 %
confidence interval, "no data" in an empty panel. Figures are built with
``Figure()`` rather than ``pyplot``, so making many of them keeps no global
state.

The Agg backend is selected when this module is imported (and nowhere else), so
figures render without a display, in CI or over SSH; every module that draws
imports this one. Text is drawn as typed, never parsed as maths: names come
from users' files, and a pod named ``Pod $x$`` must read so, not break the
figure (``text.parse_math``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.config.names import structure_label  # noqa: F401  (figures import it from here)

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False


STRUCTURE_COLOURS: dict[str, str] = {
    "allin": "#0072B2",  # blue
    "two_party": "#E69F00",  # orange
    "conveyor": "#009E73",  # bluish green
    "pods": "#CC79A7",  # reddish purple
}
"""One colour per structure (Okabe-Ito palette), in report order."""


ROLE_COLOURS: dict[str, str] = {
    # Paul Tol's muted palette plus grey: colour-blind safe and unlike the structure colours,
    # so a role line is never mistaken for a structure.
    "generalist": "#332288",  # indigo
    "lead_gen": "#88CCEE",  # cyan
    "qualifier": "#999933",  # olive
    "closer": "#882255",  # wine
    "account_manager": "#777777",  # grey
}
"""One colour per role, in pipeline order, for plots whose lines are roles."""


ROLE_LABELS: dict[str, str] = {
    "generalist": "generalist",
    "lead_gen": "lead gen",
    "qualifier": "qualifier",
    "closer": "closer",
    "account_manager": "account manager",
}
"""Human names of the roles."""


BOTTLENECK_UTILISATION = 0.90
"""Above this utilisation queues grow quickly (M/M/c waits explode as load nears 1)."""


# Colours for structures outside the four known ones: the rest of Okabe-Ito.
_SPARE_COLOURS = ("#D55E00", "#56B4E9", "#F0E442", "#000000")


_MISSING_COLOUR = "#7F7F7F"


def structure_colour(structure: str) -> str:
    """Colour of a structure in every figure.

    Args:
        structure: the structure's name, e.g. ``"two_party"``.

    Returns:
        A hex colour; structures outside the four known ones get a spare
        Okabe-Ito colour chosen from their name, so it is stable between runs.
    """
    if structure in STRUCTURE_COLOURS:
        return STRUCTURE_COLOURS[structure]
    return _SPARE_COLOURS[sum(structure.encode()) % len(_SPARE_COLOURS)]


def role_colour(role: str) -> str:
    """Colour of a role in plots whose lines or bars are roles."""
    return ROLE_COLOURS.get(role, _MISSING_COLOUR)


def role_label(role: str) -> str:
    """Human name of a role (``"account_manager"`` -> ``"account manager"``)."""
    return ROLE_LABELS.get(role, role.replace("_", " "))


def bottom_legend(fig: Figure, handles: list, title: str | None, ncols: int | None = None) -> None:
    """One legend for the whole figure, below the panels, in the house style."""
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=ncols or len(handles),
        fontsize=8,
        frameon=False,
        title=title,
        title_fontsize=8,
    )


def structures_in_order(column: pd.Series) -> list[str]:
    """Structures in report order: the column's categories if it has them, else known order."""
    present = list(dict.fromkeys(column.astype(str)))
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(c) for c in column.cat.categories if str(c) in present]
    return in_known_order(present, STRUCTURE_COLOURS)


def in_known_order(names: Iterable[str], known: Mapping[str, str]) -> list[str]:
    """Known names in the mapping's order, then unknown ones in order of appearance."""
    present = list(dict.fromkeys(names))
    return [n for n in known if n in present] + [n for n in present if n not in known]


MIN_FIGURE_WIDTH_IN = 8.5
"""The narrowest figure of panels (inches): room for a one-line title and a legend row."""


def panel_grid(
    count: int, sharex: bool, sharey: bool, panel_size: tuple[float, float]
) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels, two per row, spare panels hidden.

    At least ``MIN_FIGURE_WIDTH_IN`` wide: one panel alone would otherwise be too
    narrow for the figure's title and legend, which then run off the image.
    """
    ncols = 1 if count <= 1 else 2
    nrows = max(1, math.ceil(count / ncols))
    width = max(panel_size[0] * ncols, MIN_FIGURE_WIDTH_IN)
    fig = Figure(figsize=(width, panel_size[1] * nrows + 1.0), layout="constrained")
    axes = list(
        np.atleast_1d(
            fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False)
        ).ravel()
    )
    for ax in axes[count:]:
        ax.set_visible(False)
    if count == 0:
        no_data(axes[0])
        axes[0].set_visible(True)
    return fig, axes


def bottom_row(axes: list[Axes], count: int) -> list[Axes]:
    """Visible panels with no visible panel below them: they carry the x label."""
    ncols = axes[0].get_subplotspec().get_gridspec().ncols
    return [ax for index, ax in enumerate(axes[:count]) if index + ncols >= count]


def ci_error(value: float, low: float, high: float) -> list[list[float]] | None:
    """Asymmetric error bar for ``bar``, or None when the bounds are unknown."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return [[max(0.0, value - low)], [max(0.0, high - value)]]


def ci_bar(
    ax: Axes, x: float, value: float, err: list[list[float]] | None, structure: str, width: float
) -> None:
    """One structure's bar with its 95 % CI error bar (if known), in its colour."""
    ax.bar(
        x,
        value,
        width=width * 0.95,
        color=structure_colour(structure),
        yerr=err,
        capsize=3,
        error_kw={"elinewidth": 1, "ecolor": "#333333"},
    )


def no_data(ax: Axes) -> None:
    """Write "no data" in the middle of an empty panel."""
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
