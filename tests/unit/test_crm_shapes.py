"""From a known market to a CRM export of each real shape, and back: calibrate, then back-test.

A scenario with known parameters (24 generalists, arrivals ramping up over
14 months, three stages) is simulated once; its leads are written as each
shape real users bring (``tests.crm_shapes``: the issue's opportunity export
with a roster, engagement and close dates only, Salesforce's stage history,
HubSpot's deals, Pipedrive's, open deals nobody closed, a cp1252 semicolon
file, a UTF-8 BOM tab file with day-first dates). ``calibrate`` followed by
``backtest`` must pass the back-test's stated tolerances on every one.
Broken variants are refused with one line each, exit code 2, nothing written.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim.cli.main import main
from sim.model.runner import simulate
from tests.builders import scenario
from tests.crm_shapes import KNOWN_FUNNEL, SHAPES, write_rows

TRUTH = (
    "horizon_days=426.0",
    "seed=11",
    "leads.arrivals_per_day=4.0",
    "leads.monthly_factors=[0.3,0.5,0.7,0.9,1.0,1.1,1.1,1.2,1.2,1.2,1.2,1.2,1.2,1.2]",
    *KNOWN_FUNNEL,
    "structures.allin.generalists=24",
)
"""A few dozen agents over 14 months whose first months ramp up (the issue's export)."""


@pytest.fixture(scope="module")
def known_leads() -> pd.DataFrame:
    return simulate(scenario(*TRUTH), ("allin",)).leads


@pytest.mark.integration  # calibrate with the cycle fit, then a 20-replication back-test, each
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_calibrates_and_passes_its_backtest(known_leads, shape, tmp_path, capsys):
    shaped = SHAPES[shape](known_leads, tmp_path)
    out = tmp_path / "ours.toml"
    args = ["calibrate", str(shaped.export), "--structure", "allin", "--out", str(out)]
    assert main([*args, "--mapping", str(shaped.mapping), *shaped.options]) == 0
    assert main(["backtest", str(out), "--out", str(tmp_path / "bt"), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    verdict = printed[printed.index("PASS") if "PASS" in printed else printed.index("FAIL") :]
    assert f"PASS: ours reproduces {shaped.export.name} within every tolerance" in printed, verdict


def _refused(capsys, code: int, out) -> list[str]:
    """The lines of a refusal: exit code 2, no traceback, nothing written."""
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert not any("Traceback" in line for line in err)
    assert not out.exists()
    return err


def test_a_roster_without_its_key_column_is_refused_in_one_line(known_leads, tmp_path, capsys):
    shaped = SHAPES["typical_opportunities"](known_leads, tmp_path)
    roster = pd.read_csv(tmp_path / "sales_teams.csv", dtype=str)
    write_rows(tmp_path / "sales_teams.csv", roster.rename(columns={"sales_agent": "agent"}))
    out = tmp_path / "ours.toml"
    args = ["calibrate", str(shaped.export), "--structure", "allin", "--out", str(out)]
    (line,) = _refused(capsys, main([*args, "--mapping", str(shaped.mapping)]), out)
    assert line.startswith("mapping.toml: joins[0]") and "sales_teams.csv has no column" in line
    assert "'sales_agent'" in line


def test_a_role_that_would_be_busier_than_its_time_is_refused(tmp_path, capsys):
    # One owner, two leads a day, each worked for a day and a half at every stage:
    # 2 x 1.5 x 3 = 9 days of work a day for one person.
    start = pd.Timestamp("2024-01-01")
    rows = []
    for i in range(60):
        created = start + pd.Timedelta(hours=12 * i)
        row = {"lead_id": f"L{i}", "owner": "Ann", "status": "won" if i % 3 else "lost"}
        for k, stage in enumerate(("prospecting", "qualification", "closing")):
            entered = created + pd.Timedelta(days=2 * k)
            row[f"{stage}_entered_at"] = f"{entered:%Y-%m-%d %H:%M}"
            row[f"{stage}_assigned_at"] = f"{entered:%Y-%m-%d %H:%M}"
            row[f"{stage}_worked_at"] = f"{entered + pd.Timedelta(hours=36):%Y-%m-%d %H:%M}"
        row["created_at"] = row["prospecting_entered_at"]
        row["closed_at"] = f"{created + pd.Timedelta(days=6):%Y-%m-%d %H:%M}"
        rows.append(row)
    export = write_rows(tmp_path / "export.csv", pd.DataFrame(rows))
    out = tmp_path / "ours.toml"
    code = main(["calibrate", str(export), "--structure", "allin", "--out", str(out)])
    lines = _refused(capsys, code, out)
    assert lines[0].startswith("export.csv: structures.allin.generalists: the calibrated work ")
    assert "busy in the busiest month: the team could not carry the export's volume" in lines[0]
    assert lines[-1] == "export.csv: nothing written"
