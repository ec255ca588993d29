"""Saving figures as PNG files that are identical from one run to the next.

A figure is drawn once and written once: ``save_figures`` writes each as
``<name>.png`` at ``DPI`` and closes it. The files carry no software or date
metadata, so the same run gives the same bytes, as a printed report is the
same document whichever day it is reprinted, and results folders can be
compared byte for byte or kept in a repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from matplotlib.figure import Figure

from sim.reports import style  # noqa: F401  (chooses the backend before pyplot is imported)

# isort: split
import matplotlib.pyplot as plt

DPI = 110
"""Resolution of saved PNGs: readable on screen, small enough for a repository."""


def save_figures(figures: Mapping[str, Figure], directory: Path) -> list[Path]:
    """Write each figure as ``<name>.png`` and close it.

    PNGs carry no software or date metadata, so identical figures give
    identical files.

    Args:
        figures: name -> figure; the name becomes the file stem.
        directory: where to write; created if missing.

    Returns:
        The written paths, in the order of ``figures``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        path = directory / f"{name}.png"
        fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
        plt.close(fig)
        paths.append(path)
    return paths
