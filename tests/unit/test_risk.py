"""Risk, not only means: P10, P50 and P90 across replications."""

import numpy as np
import pandas as pd
import pytest

from sim.analysis.risk import risk_sentences, risk_table, roughness_note


def _kpis():
    # Hand-made years: All-In steady, Pods "big win or big loss".
    return pd.DataFrame(
        {
            "structure": ["allin"] * 5 + ["pods"] * 5,
            "replication": list(range(5)) * 2,
            "profit": [100.0, 110.0, 120.0, 130.0, 140.0, 0.0, 50.0, 120.0, 190.0, 240.0],
            "wins_per_30_days": [10.0, 11.0, 12.0, 13.0, 14.0] * 2,
        }
    )


def test_percentiles_are_those_of_the_replications():
    table = risk_table(_kpis(), ["profit", "wins_per_30_days", "book_value_at_end"])
    assert list(table["kpi"].unique()) == ["profit", "wins_per_30_days"]  # missing KPI left out
    pods = table.set_index(["structure", "kpi"]).loc[("pods", "profit")]
    # Linear interpolation on 5 sorted values: P10 at rank 0.4, P90 at rank 3.6.
    assert pods["p10"] == pytest.approx(0.0 + 0.4 * 50.0)
    assert pods["p50"] == pytest.approx(120.0)
    assert pods["p90"] == pytest.approx(190.0 + 0.6 * 50.0)
    assert pods["spread"] == pytest.approx(220.0 - 20.0)
    assert pods["replications"] == 5


def test_the_sentence_names_the_structure_that_swings_most_and_not_a_tie():
    lines = risk_sentences(risk_table(_kpis(), ["profit", "wins_per_30_days"]))
    assert lines[0].startswith("Profit, P10 to P90: All-In 104 to 136, Pods 20 to 220")
    assert lines[0].endswith("Pods swings most (200 between P10 and P90).")
    assert "swings most" not in lines[1]  # both swing alike on wins


def test_few_replications_are_called_rough():
    assert "rough" in roughness_note(5)
    assert "rough" not in roughness_note(20)


def test_the_sweep_summary_carries_the_same_percentiles():
    from sim.sweep.summary import summarise_sweep

    class _Sweep:
        axes = ()

    table = _kpis().assign(point=0, seed=1)
    summary = summarise_sweep(table, _Sweep())
    row = summary.set_index(["structure", "kpi"]).loc[("pods", "profit")]
    assert row["p10"] == pytest.approx(np.quantile([0, 50, 120, 190, 240], 0.1))
    assert row["p90"] == pytest.approx(np.quantile([0, 50, 120, 190, 240], 0.9))
