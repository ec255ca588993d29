"""Report figures from small hand-made metric tables (no simulation)."""

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.reports.funnel_figures import plot_cycle_times, plot_funnel, plot_wins_over_time
from sim.reports.saving import save_figures
from sim.reports.style import STRUCTURE_COLOURS, structure_colour, structure_label
from sim.reports.workload_figures import plot_utilisation, plot_wip

STRUCTURES = ["allin", "two_party", "conveyor", "pods"]
POINTS = [
    "prospecting",
    "handoff_to_qualification",
    "qualification",
    "handoff_to_closing",
    "closing",
    "won",
]


def funnel_table(structures=("allin", "two_party")):
    rows = []
    for structure in structures:
        reached = 100.0
        for point in POINTS[:-1]:
            rows.append(
                {
                    "structure": structure,
                    "point": point,
                    "reached": reached,
                    "failed": 10.0,
                    "dropped_in_handoff": 2.0 if point.startswith("handoff") else 0.0,
                    "went_cold": 1.0,
                    "open": 0.0,
                }
            )
            reached -= 13.0 if point.startswith("handoff") else 11.0
        rows.append(
            {
                "structure": structure,
                "point": "won",
                "reached": 20.0,
                "failed": 0.0,
                "dropped_in_handoff": 0.0,
                "went_cold": 0.0,
                "open": 5.0,
            }
        )
    return pd.DataFrame(rows)


def wins_table(structures=STRUCTURES, periods=4, with_ci=True):
    rows = []
    for i, structure in enumerate(structures):
        for period in range(periods):
            wins = 1.0 + i + period
            rows.append(
                {
                    "structure": structure,
                    "period_start_day": 30.0 * period,
                    "wins": wins,
                    "ci_low": wins - 3.0 if with_ci else math.nan,
                    "ci_high": wins + 3.0 if with_ci else math.nan,
                }
            )
    return pd.DataFrame(rows)


def cycle_table(structures=("allin", "pods", "conveyor")):
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        [
            {"structure": s, "replication": r, "days_to_close": float(d)}
            for s in structures
            for r in range(2)
            for d in rng.gamma(3.0, 10.0, size=15)
        ]
    )


def util_table(with_ci=True):
    roles = {
        "allin": ["generalist"],
        "two_party": ["account_manager", "closer", "lead_gen"],
        "conveyor": ["account_manager", "closer", "lead_gen", "qualifier"],
    }
    rows = []
    for structure, names in roles.items():
        for role in names:
            rows.append(
                {
                    "structure": structure,
                    "role": role,
                    "utilisation": 0.6,
                    "ci_low": 0.55 if with_ci else math.nan,
                    "ci_high": 0.65 if with_ci else math.nan,
                }
            )
    return pd.DataFrame(rows)


def wip_table(structures=("allin", "two_party", "conveyor")):
    roles = {
        "allin": ["generalist"],
        "two_party": ["lead_gen", "closer"],
        "conveyor": ["lead_gen", "qualifier", "closer"],
    }
    rows = []
    for structure in structures:
        for role in roles[structure]:
            for day in range(5):
                rows.append(
                    {
                        "structure": structure,
                        "role": role,
                        "day": float(day),
                        "waiting": float(day),
                        "in_service": 1.0,
                        "open_deals": 3.0,
                        "accounts": 0.0,
                    }
                )
    df = pd.DataFrame(rows)
    df["structure"] = pd.Categorical(df["structure"], categories=STRUCTURES)
    return df


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def panel_titles(fig):
    return [ax.get_title() for ax in visible_axes(fig)]


def bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def test_colours_and_labels_cover_the_four_structures_in_order():
    assert list(STRUCTURE_COLOURS) == STRUCTURES
    assert len(set(STRUCTURE_COLOURS.values())) == 4
    assert [structure_label(s) for s in STRUCTURES] == [
        "All-In",
        "Two-Party",
        "Conveyor",
        "Pods",
    ]
    assert structure_label("hub_and_spoke") == "Hub And Spoke"
    assert structure_colour("hub_and_spoke") == structure_colour("hub_and_spoke")


def test_funnel_has_one_panel_per_structure_with_labelled_axes():
    fig = plot_funnel(funnel_table())
    assert isinstance(fig, Figure)
    assert panel_titles(fig) == ["All-In", "Two-Party"]
    assert fig.get_suptitle()
    ax = visible_axes(fig)[0]
    assert "leads per replication" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "outcome at horizon"
    assert len(ax.get_yticks()) == len(POINTS)
    assert fig.legends, "the loss reasons need a legend"


def test_funnel_stacks_losses_won_and_open():
    fig = plot_funnel(funnel_table(structures=("pods",)))
    ax = visible_axes(fig)[0]
    filled = [p for p in bars(ax) if p.get_fill()]
    # Each point: failed + went cold; handoffs also dropped; the last row won + open.
    widths = sorted(round(p.get_width(), 6) for p in filled)
    assert widths.count(10.0) == 5 and widths.count(2.0) == 2 and widths.count(1.0) == 5
    assert 20.0 in widths and 5.0 in widths
    assert filled[-2].get_facecolor()[:3] == to_rgb(STRUCTURE_COLOURS["pods"])


def test_wins_over_time_draws_a_line_and_a_band_per_structure():
    fig = plot_wins_over_time(wins_table())
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "All-In",
        "Two-Party",
        "Conveyor",
        "Pods",
    ]
    assert ax.get_xlabel() and "days" in ax.get_xlabel()
    assert ax.get_ylabel() == "wins per 30-day period"
    assert ax.get_title()
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 4
    # ci_low goes below zero in the first periods: the band is clipped at 0.
    assert min(float(np.min(path.vertices[:, 1])) for b in bands for path in b.get_paths()) >= 0
    colours = [line.get_color() for line in ax.get_lines()]
    assert colours == [STRUCTURE_COLOURS[s] for s in STRUCTURES]


def test_wins_over_time_without_ci_draws_no_band():
    fig = plot_wins_over_time(wins_table(structures=["allin", "pods"], with_ci=False))
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_cycle_times_histogram_and_box_per_structure():
    fig = plot_cycle_times(cycle_table())
    hist_ax, box_ax = fig.axes
    assert box_ax.get_xlabel() == "days from arrival to win"
    assert hist_ax.get_ylabel().startswith("share of wins")
    # Report order, not table order: All-In, Conveyor, Pods.
    assert [t.get_text() for t in box_ax.get_yticklabels()] == ["All-In", "Conveyor", "Pods"]
    steps = [p for p in hist_ax.patches if not p.get_fill()]
    assert len(steps) == 3
    assert fig.get_suptitle()


def test_cycle_times_with_no_wins_still_returns_a_figure():
    empty = pd.DataFrame(
        {
            "structure": pd.Categorical([], categories=STRUCTURES),
            "replication": pd.Series([], dtype=int),
            "days_to_close": pd.Series([], dtype=float),
        }
    )
    assert isinstance(plot_cycle_times(empty), Figure)


@pytest.mark.parametrize("with_ci", [True, False])
def test_utilisation_bars_per_role_and_structure(with_ci):
    table = util_table(with_ci)
    fig = plot_utilisation(table)
    (ax,) = fig.axes
    assert len(bars(ax)) == len(table) == 8
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "generalist",
        "lead gen",
        "qualifier",
        "closer",
        "account manager",
    ]
    assert "%" in ax.get_ylabel()
    assert ax.get_xlabel() == "role"
    assert all(math.isclose(p.get_height(), 60.0) for p in bars(ax))
    threshold = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(threshold) == 1 and threshold[0].get_ydata()[0] == pytest.approx(90.0)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["All-In", "Two-Party", "Conveyor", "bottleneck threshold (90 %)"]
    error_bars = [c for c in ax.containers if getattr(c, "errorbar", None) is not None]
    assert len(error_bars) == (8 if with_ci else 0)


def test_wip_has_one_panel_per_structure_and_a_line_per_role():
    fig = plot_wip(wip_table())
    axes = visible_axes(fig)
    assert panel_titles(fig) == ["All-In", "Two-Party", "Conveyor"]
    assert [len(ax.get_lines()) for ax in axes] == [1, 2, 3]
    assert all(ax.get_xlabel() == "day of horizon (days)" for ax in axes[-2:])
    assert axes[0].get_ylabel() == "leads waiting (mean)"
    assert "waiting in queue" in fig.get_suptitle()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "generalist",
        "lead gen",
        "qualifier",
        "closer",
    ]


def test_save_figures_writes_identical_png_files(tmp_path):
    figures = {
        "wins": plot_wins_over_time(wins_table()),
        "util": plot_utilisation(util_table()),
    }
    paths = save_figures(figures, tmp_path / "figures")
    assert [p.name for p in paths] == ["wins.png", "util.png"]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 1000
    again = save_figures({"wins": plot_wins_over_time(wins_table())}, tmp_path / "again")
    assert again[0].read_bytes() == paths[0].read_bytes()
