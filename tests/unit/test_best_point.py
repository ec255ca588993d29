"""The best value of a swept parameter per structure, paired on common random numbers."""

from types import SimpleNamespace

import pandas as pd
import pytest

from sim.sweep.best_point import best_lines, best_points


def _sweep() -> SimpleNamespace:
    points = pd.DataFrame({"point": [0, 1], "switch_day": ["365", "never"]})
    return SimpleNamespace(
        kpis=("profit",),
        structures=("allin", "pods"),
        axes=(SimpleNamespace(name="switch_day"),),
        point_table=lambda: points,
    )


def _table(pods_at_365: list[float]) -> pd.DataFrame:
    stay = [10.0, 12.0, 14.0]  # All-In, and Pods that never switch: the same runs
    rows = []
    for replication in range(3):
        for point in (0, 1):
            rows.append(("allin", point, replication, stay[replication]))
        rows.append(("pods", 0, replication, pods_at_365[replication]))
        rows.append(("pods", 1, replication, stay[replication]))
    return pd.DataFrame(rows, columns=["structure", "point", "replication", "profit"])


def test_the_best_day_is_clear_when_its_paired_margin_is():
    # Pods at 365 beat never by 2.0, 2.1, 1.9: mean 2, sd 0.1, t(2, 97.5 %) = 4.303,
    # so the paired 95 % CI is 2 +/- 4.303 * 0.1 / sqrt(3) = 2 +/- 0.2484.
    best = best_points(_table([12.0, 14.1, 15.9]), _sweep())
    pods = best[best["structure"] == "pods"].iloc[0]
    assert (pods["best"], pods["runner_up"]) == ("switch_day=365", "switch_day=never")
    assert pods["margin"] == pytest.approx(2.0)
    assert pods["ci_low"] == pytest.approx(2.0 - 0.2484, abs=1e-4)
    assert pods["clear"]
    # All-In does not move with the day: no line. Over all paths, Pods "never" is
    # All-In's run and counts once.
    assert "allin" not in set(best["structure"])
    overall = best[best["structure"] == "any"].iloc[0]
    assert (overall["best"], overall["runner_up"]) == (
        "pods: switch_day=365",
        "allin: switch_day=365",
    )
    assert "clear" in best_lines(best)[0]


def test_a_margin_within_the_noise_is_not_clear():
    # Differences 3, -1, 4: the mean is 2, but the interval spans 0.
    pods = best_points(_table([13.0, 11.0, 18.0]), _sweep())
    row = pods[pods["structure"] == "pods"].iloc[0]
    assert row["margin"] == pytest.approx(2.0) and not row["clear"]
    assert row["ci_low"] < 0 < row["ci_high"]
