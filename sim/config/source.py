"""Where a calibrated scenario came from: the export, the mapping, the options.

A scenario written by ``calibrate`` remembers what it was made from, as a
lab notebook records the sample behind each measurement, so that
``backtest SCENARIO`` can test it against the same history without the user
repeating the export, the mapping and the options, and anyone reading the
file later knows what it rests on. Paths are relative to the scenario file's
folder when they can be (the pair moves together), else absolute.
"""

from __future__ import annotations

from pydantic import Field

from sim.config.base import Frozen


class CalibrationSource(Frozen):
    """What ``calibrate`` read and how, as it wrote this scenario."""

    export: str = Field(
        min_length=1, description="the CRM export (CSV), relative to the scenario file"
    )
    mapping: str | None = Field(
        default=None, description="the mapping file, relative to the scenario file; none = none"
    )
    structure: str = Field(min_length=1, description="the structure the team worked in")
    skip_bad_rows: bool = Field(
        default=False, description="whether unusable rows were left out (--skip-bad-rows)"
    )
    cold_after_days: float = Field(
        default=60.0, gt=0, le=3650, description="--cold-after-days the scenario was made with"
    )
    trend: bool = Field(
        default=False, description="whether the arrival trend was written (--trend)"
    )
    utilisation: float = Field(
        default=0.75, ge=0.05, le=0.95, description="--utilisation the team was sized at"
    )
