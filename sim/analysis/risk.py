"""Risk, not only means: how far a structure's year can swing, from its replications.

A mean says what a structure earns on average; a sales leader betting a
reorganisation also asks how bad a bad year gets ("big win or big loss").
Each replication is one possible year of the same market, so the spread of a
KPI across replications, its 10th, 50th and 90th percentiles (P10, P50,
P90), is the range of years to expect: one year in ten worse than P10, one
in ten better than P90.

Percentiles are interpolated linearly between the sorted replications
(``numpy.quantile``'s default), so with few replications the tails are
rough: P10 and P90 of 5 years are mostly the worst and best year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.kpis import format_value, kpi_spec
from sim.config.names import structure_label

QUANTILES: dict[str, float] = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
"""The percentiles reported, by column name."""


def p10_p90_range(values: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """P90 minus P10: how far a good year lies from a bad one (along ``axis`` if given)."""
    low, high = np.quantile(values, [QUANTILES["p10"], QUANTILES["p90"]], axis=axis)
    return float(high - low) if axis is None else high - low


ROUGH_BELOW = 10
"""With fewer replications than this, P10 and P90 are about the worst and best year."""


def risk_table(kpis: pd.DataFrame, objectives: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """P10, P50 and P90 of each objective per structure, across replications.

    Args:
        kpis: per-run KPIs, one row per structure and replication.
        objectives: the KPIs to describe (those missing from ``kpis`` are left out).

    Returns:
        One row per (structure, kpi) in the structures' and objectives' order:
        structure, kpi, p10, p50, p90, spread (P90 - P10), replications.
    """
    present = [kpi for kpi in objectives if kpi in kpis.columns]
    structures = list(dict.fromkeys(kpis["structure"].astype(str)))
    rows = []
    for structure in structures:
        runs = kpis.loc[kpis["structure"].astype(str) == structure]
        for kpi in present:
            values = runs[kpi].astype(float).dropna()
            row = {"structure": structure, "kpi": kpi}
            for column, q in QUANTILES.items():
                row[column] = float(values.quantile(q)) if len(values) else float("nan")
            row["spread"] = row["p90"] - row["p10"]
            row["replications"] = len(values)
            rows.append(row)
    columns = ["structure", "kpi", *QUANTILES, "spread", "replications"]
    return pd.DataFrame(rows, columns=columns)


def risk_sentences(table: pd.DataFrame) -> list[str]:
    """One sentence per objective: each structure's P10 to P90, and the widest swing.

    "Profit, one year in ten below P10 and one in ten above P90: All-In 1.2M to
    1.5M, Pods 0.9M to 1.8M; Pods swings most (0.9M between P10 and P90)."
    """
    lines = []
    for kpi, group in table.groupby("kpi", sort=False):
        if group["spread"].isna().all():
            continue
        ranges = ", ".join(
            f"{structure_label(row.structure)} {format_value(kpi, row.p10)} to "
            f"{format_value(kpi, row.p90)}"
            for row in group.itertuples()
        )
        spec = kpi_spec(kpi)
        text = f"{spec.in_sentence[:1].upper()}{spec.in_sentence[1:]}, P10 to P90: {ranges}"
        lines.append(text + _widest(kpi, group) + ".")
    return lines


def _widest(kpi: str, group: pd.DataFrame) -> str:
    """The clause naming the structure that swings most, or nothing when none stands out."""
    spreads = group["spread"].astype(float)
    if len(group) < 2 or spreads.max() <= 0:
        return ""
    top = group.loc[spreads >= spreads.max() * (1 - 1e-9), "structure"]
    if len(top) > 1:
        return ""  # several swing alike: nobody swings most
    amount = format_value(kpi, float(spreads.max()), difference=True).lstrip("+")
    return f"; {structure_label(top.iloc[0])} swings most ({amount} between P10 and P90)"


def roughness_note(replications: int) -> str:
    """What the percentiles of so few replications can say."""
    if replications >= ROUGH_BELOW:
        return (
            f"Percentiles across {replications} replications (one simulated year each), "
            "interpolated between the sorted years."
        )
    return (
        f"Only {replications} replications: P10 and P90 are close to the worst and best of "
        f"{replications} simulated years, a rough view of the tails; run --replications "
        f"{ROUGH_BELOW} or more before reading them closely."
    )
