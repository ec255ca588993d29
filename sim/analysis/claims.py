"""The literature's claims about the structures, scored on a run's KPIs.

The claims live in ``claims.toml`` next to this module (or any file of the
same shape), one block per claim: the KPI that tests it, the structure it is
about, and either the structure it is compared with (a paired difference
under common random numbers) or a fixed threshold. The literature says more
than "A is higher on x", so a claim has a ``kind``:

* ``difference`` (the default): one KPI, one comparison, one direction.
* ``trade_off``: better on one KPI *and* worse on another ("pods trade
  efficiency for closeness"): ``kpi``/``expect`` and ``kpi_2``/``expect_2``,
  both against ``versus``; it holds when both halves hold (an
  intersection-union test: its p-value is the larger of the two).
* ``spread``: the range from P10 to P90 of a KPI across replications ("big
  win or big loss") is wider (``higher``) or narrower than ``versus``'s; the
  interval comes from a bootstrap of the replications, resampled in pairs
  (the same leads in both), with a fixed seed so the same run scores the same.

A claim may hold only under a ``condition`` ("at scale"): fields of the
scenario with bounds (``{ path = "leads.arrivals_per_day", at_least = 20 }``);
a run whose scenario is outside them does not test the claim, so it is scored
along a sweep (``sim.sweep.summary.claims_along``) at the grid points that
meet it. Each claim also says what it ``tests``: a ``mechanism`` of the model
whose outcome is not set by an input, or an ``input`` it only restates (pods
drop fewer leads because their drop probability is set lower); the report
shows the two apart. Pure pandas: scoring needs only the per-run KPI table
of ``kpi_values.run_kpis`` (and the scenario, for conditions).
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from sim.analysis.compare import paired_differences
from sim.analysis.risk import p10_p90_range
from sim.analysis.stats import holm, mean_ci, paired_p_value
from sim.config.base import value_at
from sim.config.names import STRUCTURE_NAMES
from sim.config.scenario import Frozen, ScenarioError, format_validation_error

CLAIMS_FILE = Path(__file__).with_name("claims.toml")
VERDICTS = ("holds", "does not hold", "not significant", "not tested")


Direction = Literal["higher", "lower"]


class Condition(Frozen):
    """A scenario field's bounds under which a claim is meant to hold."""

    path: str = Field(min_length=1, description="dotted path of a scenario field")
    at_least: float | None = None
    at_most: float | None = None
    equals: bool | str | None = Field(
        default=None, description="a switch or a choice the field must have (true, 'value')"
    )

    @model_validator(mode="after")
    def _bounds_or_equals(self) -> Condition:
        bounds = (self.at_least, self.at_most) != (None, None)
        if not bounds and self.equals is None:
            raise ValueError("a condition needs at_least, at_most or equals")
        if bounds and self.equals is not None:
            raise ValueError("a condition has bounds or equals, not both")
        return self

    def met(self, data: dict[str, Any]) -> bool:
        """True when the dumped scenario's field lies within the bounds (or equals ``equals``)."""
        value = value_at(data, self.path)
        if self.equals is not None:
            # A switch or a choice: the same type and value (True is not 1 here).
            return type(value) is type(self.equals) and value == self.equals
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        low = self.at_least if self.at_least is not None else -math.inf
        high = self.at_most if self.at_most is not None else math.inf
        return low <= value <= high

    def text(self) -> str:
        """``leads.arrivals_per_day >= 20``."""
        parts = []
        if self.equals is not None:
            shown = str(self.equals).lower() if isinstance(self.equals, bool) else self.equals
            parts.append(f"{self.path} = {shown}")
        if self.at_least is not None:
            parts.append(f"{self.path} >= {self.at_least:g}")
        if self.at_most is not None:
            parts.append(f"{self.path} <= {self.at_most:g}")
        return " and ".join(parts)


class Claim(Frozen):
    """One claim and the KPI comparison that tests it."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    claim: str = Field(min_length=1)
    kpi: str = Field(min_length=1)
    structure: Literal[STRUCTURE_NAMES]
    versus: Literal[STRUCTURE_NAMES] | None = None
    threshold: float | None = None
    expect: Direction
    kind: Literal["difference", "trade_off", "spread"] = "difference"
    kpi_2: str | None = Field(default=None, min_length=1)
    expect_2: Direction | None = None
    condition: tuple[Condition, ...] = ()
    tests: Literal["mechanism", "input"] = "mechanism"

    @model_validator(mode="after")
    def _one_comparison(self) -> Claim:
        if (self.versus is None) == (self.threshold is None):
            raise ValueError("give exactly one of versus or threshold")
        if self.versus == self.structure:
            raise ValueError("versus must be another structure")
        if self.kind != "difference" and self.versus is None:
            raise ValueError(f"a {self.kind} claim compares with versus, not a threshold")
        if (self.kind == "trade_off") != (self.kpi_2 is not None and self.expect_2 is not None):
            raise ValueError("kpi_2 and expect_2 go with kind = 'trade_off', and it needs both")
        if any(
            c.at_least is None and c.at_most is None and c.equals is None for c in self.condition
        ):
            raise ValueError("a condition needs at_least, at_most or equals")
        if any(
            c.equals is not None and (c.at_least, c.at_most) != (None, None) for c in self.condition
        ):
            raise ValueError("a condition has bounds or equals, not both")
        return self

    @property
    def condition_text(self) -> str:
        """The condition in words, empty without one."""
        return " and ".join(c.text() for c in self.condition)


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


def score_claims(
    kpis: pd.DataFrame,
    claims: tuple[Claim, ...] | None = None,
    scenario: Any = None,
) -> pd.DataFrame:
    """Score each claim on a run: the tested value with its 95 % CI, and a verdict.

    For a claim against another structure the value is the mean paired
    difference (structure - versus) over replications; against a threshold,
    the structure's mean minus the threshold; for a spread, the difference of
    the P10-to-P90 ranges. "holds" when the CI lies entirely on the expected
    side of 0, "does not hold" when entirely on the other side, "not
    significant" otherwise, "not tested" when a structure or the KPI is
    missing, fewer than two replications give a CI, or the scenario is
    outside the claim's condition (or not given, for a claim with one). A
    trade-off holds when both its halves hold and does not hold when either
    half is on the wrong side.

    Many claims are tested on one run, so a verdict other than "not
    significant" also needs its test to reject under Holm's step-down over
    all the tested claims: the chance that any claim's verdict is luck stays
    below 5 %.

    Args:
        kpis: one row per (structure, replication).
        claims: the claims (default: ``claims.toml``).
        scenario: the run's scenario (a ``Scenario``), to check conditions.

    Returns:
        One row per claim: id, claim, kind, tests, condition, kpi, structure,
        versus, expect, structure_mean, versus_mean (or the threshold),
        difference, ci_low, ci_high, kpi_2, expect_2, difference_2, ci_low_2,
        ci_high_2, p_value, verdict.
    """
    claims = claims if claims is not None else load_claims()
    present = set(kpis["structure"].astype(str))
    data = scenario.model_dump(mode="json") if scenario is not None else None
    rows = []
    for claim in claims:
        row = _empty_row(claim)
        needed = {claim.structure} | ({claim.versus} if claim.versus else set())
        kpis_needed = {claim.kpi} | ({claim.kpi_2} if claim.kpi_2 else set())
        in_condition = not claim.condition or (
            data is not None and all(c.met(data) for c in claim.condition)
        )
        if kpis_needed <= set(kpis.columns) and needed <= present and in_condition:
            row.update(_SCORERS[claim.kind](kpis, claim))
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    decided = table["verdict"].isin(["holds", "does not hold"])
    table.loc[decided & ~holm(table["p_value"]), "verdict"] = "not significant"
    return table


def _empty_row(claim: Claim) -> dict[str, object]:
    return {
        "id": claim.id,
        "claim": claim.claim,
        "kind": claim.kind,
        "tests": claim.tests,
        "condition": claim.condition_text,
        "kpi": claim.kpi,
        "structure": claim.structure,
        "versus": claim.versus if claim.versus is not None else f"{claim.threshold:g}",
        "expect": claim.expect,
        "structure_mean": math.nan,
        "versus_mean": math.nan,
        "difference": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "kpi_2": claim.kpi_2 or "",
        "expect_2": claim.expect_2 or "",
        "difference_2": math.nan,
        "ci_low_2": math.nan,
        "ci_high_2": math.nan,
        "p_value": math.nan,
        "verdict": "not tested",
    }


def _side(low: float, high: float, expect: str) -> str:
    """Where a CI lies against 0, seen from the expected direction."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "not tested"
    sign = 1.0 if expect == "higher" else -1.0
    if sign * low > 0 and sign * high > 0:
        return "holds"
    if sign * low < 0 and sign * high < 0:
        return "does not hold"
    return "not significant"


def _paired(kpis: pd.DataFrame, claim: Claim, kpi: str) -> tuple[float, float, float, float]:
    """Mean, CI and p-value of the paired difference structure - versus on ``kpi``."""
    pairs = kpis[kpis["structure"].astype(str).isin([claim.structure, claim.versus])]
    diff = paired_differences(pairs, claim.versus, [kpi]).iloc[0]
    return diff["difference"], diff["ci_low"], diff["ci_high"], diff["p_value"]


def _means(kpis: pd.DataFrame, claim: Claim, kpi: str) -> dict[str, object]:
    own = kpis.loc[kpis["structure"].astype(str) == claim.structure, kpi]
    other = kpis.loc[kpis["structure"].astype(str) == claim.versus, kpi]
    return {"structure_mean": float(own.mean()), "versus_mean": float(other.mean())}


def _compare(kpis: pd.DataFrame, claim: Claim) -> dict[str, object]:
    if claim.versus is not None:
        out = _means(kpis, claim, claim.kpi)
        mean, low, high, p_value = _paired(kpis, claim, claim.kpi)
    else:
        own = kpis.loc[kpis["structure"].astype(str) == claim.structure, claim.kpi]
        out = {"structure_mean": float(own.mean()), "versus_mean": claim.threshold}
        mean, low, high = (value - claim.threshold for value in mean_ci(own))
        p_value = paired_p_value(own.to_numpy(dtype=float) - claim.threshold)
    out.update({"difference": mean, "ci_low": low, "ci_high": high, "p_value": p_value})
    if math.isfinite(low) and math.isfinite(high):
        out["verdict"] = _side(low, high, claim.expect)
    return out


def _trade_off(kpis: pd.DataFrame, claim: Claim) -> dict[str, object]:
    out = _compare(kpis, claim)
    mean, low, high, p_value = _paired(kpis, claim, claim.kpi_2)
    out.update({"difference_2": mean, "ci_low_2": low, "ci_high_2": high})
    sides = {out.get("verdict", "not tested"), _side(low, high, claim.expect_2)}
    if "not tested" in sides:
        out["verdict"] = "not tested"
    elif "does not hold" in sides:
        out["verdict"] = "does not hold"
    else:
        out["verdict"] = "holds" if sides == {"holds"} else "not significant"
    # Both halves must hold: the intersection-union test rejects when both do.
    out["p_value"] = max(out["p_value"], p_value)
    return out


SPREAD_BOOTSTRAP = 2_000
"""Bootstrap resamples of the replications for a spread claim's interval."""


def _spread(kpis: pd.DataFrame, claim: Claim) -> dict[str, object]:
    runs = kpis[kpis["structure"].astype(str).isin([claim.structure, claim.versus])]
    wide = runs.pivot_table(index="replication", columns="structure", values=claim.kpi)
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.dropna()
    own, other = wide[claim.structure].to_numpy(), wide[claim.versus].to_numpy()
    out: dict[str, object] = {
        "structure_mean": float(own.mean()),
        "versus_mean": float(other.mean()),
    }
    if len(wide) < 3:
        return out
    difference = p10_p90_range(own) - p10_p90_range(other)
    # Resampled in pairs: replication r of both structures met the same leads.
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(wide), size=(SPREAD_BOOTSTRAP, len(wide)))
    boot = p10_p90_range(own[picks], axis=1) - p10_p90_range(other[picks], axis=1)
    low, high = (float(q) for q in np.quantile(boot, [0.025, 0.975]))
    share_above = float((boot > 0).mean())
    p_value = min(1.0, 2 * min(share_above, 1 - share_above))
    out.update({"difference": difference, "ci_low": low, "ci_high": high, "p_value": p_value})
    out["verdict"] = _side(low, high, claim.expect)
    return out


_SCORERS = {"difference": _compare, "trade_off": _trade_off, "spread": _spread}
