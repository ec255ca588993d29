"""Out-of-range numbers on the command line always stop before the simulation (issue 14).

Any numeric scenario field, set with ``--set`` to infinity, NaN, 1e308, a
negative or a 30-digit number, ends in exit code 2 with one line per bad
field, naming the flag and the field, no traceback, and nothing written.
These examples never simulate, so they take milliseconds each.
"""

from __future__ import annotations

import contextlib
import io
import math
import operator
import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli.main import main
from tests.unit.test_bounds import numeric_fields

SCENARIO = "scenarios/baseline.toml"  # configures all four structures

# --set cannot index a list (segments, tiers, pods): those are covered in test_bounds.
BOUNDS = {path: kind for path, kind in numeric_fields() if not any(c.isdigit() for c in path)}
PATHS = sorted(BOUNDS)

BAD_VALUES = [
    *("inf", "-inf", "nan", "+inf", "1e308", "-1e308", "-1", "-0.5"),
    *(str(10**30), str(-(10**30))),
]
COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


def out_of_bounds(path: str, value: str) -> bool:
    """Whether ``value`` breaks a bound of ``path`` (-0.5 is fine for a growth rate >= -0.9)."""
    number = float(value)
    bounds = re.findall(r"(>=|>|<=|<) (-?[0-9][0-9.e+]*)", BOUNDS[path])
    return not math.isfinite(number) or not all(
        COMPARE[sign](number, float(bound)) for sign, bound in bounds
    )


def run(args: list[str]) -> tuple[int, list[str], bool]:
    """Exit code, stderr lines, and whether the --out folder exists afterwards."""
    folder = Path(tempfile.mkdtemp())
    out = folder / "out"
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main([*args, "--out", str(out), "--no-plots"])
        return code, err.getvalue().strip().splitlines(), out.exists()
    finally:
        shutil.rmtree(folder)


def test_every_field_has_bad_values_and_a_growth_rate_takes_a_small_negative():
    assert all(sum(out_of_bounds(path, v) for v in BAD_VALUES) >= 6 for path in PATHS)
    assert not out_of_bounds("leads.deal_value_growth_per_year", "-0.5")
    assert out_of_bounds("leads.deal_value_growth_per_year", "-1")


@settings(max_examples=60)
@given(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3, unique=True), st.data())
def test_bad_numbers_given_with_set_are_one_line_each_and_exit_2(paths, data):
    # Each field gets a value outside its own bounds (a growth rate may be -0.5).
    values = [
        data.draw(st.sampled_from([v for v in BAD_VALUES if out_of_bounds(path, v)]))
        for path in paths
    ]
    sets = [
        item
        for path, value in zip(paths, values, strict=True)
        for item in ("--set", f"{path}={value}")
    ]
    code, lines, written = run(["simulate", SCENARIO, *sets])
    assert code == 2 and not written
    assert len(lines) == len(paths), lines
    for path in paths:
        assert sum(line.startswith(f"--set {path}=") for line in lines) == 1, lines
    assert not any("Traceback" in line for line in lines)


@settings(max_examples=20)
@given(
    st.sampled_from(["--seed", "--replications"]),
    st.one_of(st.integers(min_value=2**63), st.integers(max_value=-1)),
)
def test_bad_seed_or_replications_flags_are_one_line(flag, value):
    code, lines, written = run(["simulate", SCENARIO, flag, str(value)])
    assert code == 2 and not written
    assert len(lines) == 1 and lines[0].startswith(f"{flag} {value}: "), lines
