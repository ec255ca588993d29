"""The literature's claims about the structures, scored on a run's KPIs.

The claims live in ``claims.toml`` next to this module (or any file of the
same shape), one block per claim: the KPI that tests it, the structure it is
about, and either the structure it is compared with (a paired difference
under common random numbers) or a fixed threshold. Pure pandas: scoring needs
only the per-run KPI table of ``kpi_values.run_kpis``.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import Field, ValidationError, model_validator

from sim.analysis.compare import paired_differences
from sim.analysis.stats import holm, mean_ci, paired_p_value
from sim.config.names import STRUCTURE_NAMES
from sim.config.scenario import Frozen, ScenarioError, format_validation_error

CLAIMS_FILE = Path(__file__).with_name("claims.toml")
VERDICTS = ("holds", "does not hold", "not significant", "not tested")


class Claim(Frozen):
    """One claim and the KPI comparison that tests it."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    claim: str = Field(min_length=1)
    kpi: str = Field(min_length=1)
    structure: Literal[STRUCTURE_NAMES]
    versus: Literal[STRUCTURE_NAMES] | None = None
    threshold: float | None = None
    expect: Literal["higher", "lower"]

    @model_validator(mode="after")
    def _one_comparison(self) -> Claim:
        if (self.versus is None) == (self.threshold is None):
            raise ValueError("give exactly one of versus or threshold")
        if self.versus == self.structure:
            raise ValueError("versus must be another structure")
        return self


class ClaimsFile(Frozen):
    """A claims file: a list of claims with unique ids."""

    claims: tuple[Claim, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ClaimsFile:
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"claim ids must be unique, got {ids}")
        return self


def load_claims(path: str | Path = CLAIMS_FILE) -> tuple[Claim, ...]:
    """Read and validate a claims file.

    Raises:
        ScenarioError: one line per problem, naming the file and the field.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError([f"{path.name}: {exc}"]) from None
    try:
        return ClaimsFile.model_validate(raw, strict=False).claims
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, path.name)) from None


def score_claims(kpis: pd.DataFrame, claims: tuple[Claim, ...] | None = None) -> pd.DataFrame:
    """Score each claim on a run: the tested value with its 95 % CI, and a verdict.

    For a claim against another structure the value is the mean paired
    difference (structure - versus) over replications; against a threshold,
    the structure's mean minus the threshold. "holds" when the CI lies
    entirely on the expected side of 0, "does not hold" when entirely on the
    other side, "not significant" otherwise, "not tested" when a structure or
    the KPI is missing (or fewer than two replications give a CI).

    Many claims are tested on one run, so a verdict other than "not
    significant" also needs its test (paired t, or one-sample t against the
    threshold) to reject under Holm's step-down over all the tested claims:
    the chance that any claim's verdict is luck stays below 5 %.

    Returns:
        One row per claim: id, claim, kpi, structure, versus, expect,
        structure_mean, versus_mean (or the threshold), difference, ci_low,
        ci_high, p_value, verdict.
    """
    claims = claims if claims is not None else load_claims()
    present = set(kpis["structure"].astype(str))
    rows = []
    for claim in claims:
        row = {
            "id": claim.id,
            "claim": claim.claim,
            "kpi": claim.kpi,
            "structure": claim.structure,
            "versus": claim.versus if claim.versus is not None else f"{claim.threshold:g}",
            "expect": claim.expect,
            "structure_mean": math.nan,
            "versus_mean": math.nan,
            "difference": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "p_value": math.nan,
            "verdict": "not tested",
        }
        needed = {claim.structure} | ({claim.versus} if claim.versus else set())
        if claim.kpi in kpis.columns and needed <= present:
            row.update(_compare(kpis, claim))
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    decided = table["verdict"].isin(["holds", "does not hold"])
    table.loc[decided & ~holm(table["p_value"]), "verdict"] = "not significant"
    return table


def _compare(kpis: pd.DataFrame, claim: Claim) -> dict[str, object]:
    own = kpis.loc[kpis["structure"].astype(str) == claim.structure, claim.kpi]
    out: dict[str, object] = {"structure_mean": float(own.mean())}
    if claim.versus is not None:
        other = kpis.loc[kpis["structure"].astype(str) == claim.versus, claim.kpi]
        out["versus_mean"] = float(other.mean())
        pairs = kpis[kpis["structure"].astype(str).isin([claim.structure, claim.versus])]
        diff = paired_differences(pairs, claim.versus, [claim.kpi]).iloc[0]
        mean, low, high = diff["difference"], diff["ci_low"], diff["ci_high"]
        p_value = diff["p_value"]
    else:
        out["versus_mean"] = claim.threshold
        mean, low, high = (value - claim.threshold for value in mean_ci(own))
        p_value = paired_p_value(own.to_numpy(dtype=float) - claim.threshold)
    out.update({"difference": mean, "ci_low": low, "ci_high": high, "p_value": p_value})
    if not (math.isfinite(low) and math.isfinite(high)):
        return out
    sign = 1.0 if claim.expect == "higher" else -1.0
    if sign * low > 0 and sign * high > 0:
        out["verdict"] = "holds"
    elif sign * low < 0 and sign * high < 0:
        out["verdict"] = "does not hold"
    else:
        out["verdict"] = "not significant"
    return out
