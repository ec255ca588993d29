"""Bad CRM exports: each unusable row is listed with its reason; the CLI exits 2."""

from pathlib import Path

import pytest

from sim.cli import main
from sim.crm import ExportError, read_export, read_mapping

HEADER = (
    "lead_id,created_at,status,segment,amount,prospecting_entered_at,qualification_entered_at\n"
)
GOOD_ROWS = [
    "L1,2024-01-01 09:00,lost,soft,100,2024-01-01 09:00,\n",
    "L2,2024-01-02 09:00,open,soft,200,2024-01-02 09:00,2024-01-05 10:00\n",
]


def write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bad_rows_are_listed_with_reasons(tmp_path):
    rows = GOOD_ROWS + [
        "L3,2024-13-45,open,soft,1,,\n",  # row 4: unreadable date
        "L4,2024-01-03,Maybe,soft,1,,\n",  # row 5: unknown status
        "L5,2024-01-04,open,soft,1,2024-01-04,2024-01-02\n",  # row 6: backwards
        "L1,2024-01-05,open,soft,1,,\n",  # row 7: duplicate of row 2
    ]
    history = read_export(write(tmp_path, HEADER + "".join(rows)))
    reasons = {p.row: p.reason for p in history.problems}
    assert "cannot read '2024-13-45' as a date" in reasons[4]
    assert "'Maybe' is not in the mapping" in reasons[5]
    assert "moves backwards" in reasons[6]
    assert "duplicate lead_id" in reasons[7] and "duplicate lead_id" in reasons[2]
    assert list(history.leads["lead_id"]) == ["L2"]
    assert history.leads_left_out == 4  # L1 (both rows), L3, L4, L5
    lines = history.problem_lines()
    assert lines[0].startswith("export.csv: 5 of 6 rows cannot be used; 4 leads left out")


def test_history_shape_backwards_and_unknown_stage(tmp_path):
    text = (
        "lead_id,changed_at,stage,owner\n"
        "A,2024-01-01 09:00,prospecting,\n"
        "A,2024-01-02 09:00,qualification,ann\n"
        "A,2024-01-03 09:00,prospecting,bob\n"  # row 4: back to prospecting
        "B,2024-01-01 09:00,prospecting,\n"
        "B,2024-01-02 09:00,MQL,\n"  # row 6: not in the mapping
        "C,2024-01-01 09:00,prospecting,\n"
        "C,2024-01-01 10:00,prospecting,cy\n"
    )
    history = read_export(write(tmp_path, text))
    reasons = {p.row: p.reason for p in history.problems}
    assert "moves back from qualification to prospecting" in reasons[4]
    assert "'MQL' is not in the mapping" in reasons[6]
    assert list(history.leads["lead_id"]) == ["C"]
    assert history.leads.loc[0, "prospecting_handler"] == "cy"
    assert history.leads.loc[0, "prospecting_start_day"] == pytest.approx(10 / 24)


def test_mapping_renames_columns_and_stages(tmp_path):
    text = (
        "Id,When,Stage\nA,01/02/2024 09:00,New\nA,02/02/2024 09:00,MQL\n"
        "A,03/02/2024 09:00,Closed Lost\n"
    )
    mapping = write(
        tmp_path,
        '[columns]\nId = "lead_id"\nWhen = "changed_at"\nStage = "stage"\n'
        '[stages]\nNew = "prospecting"\nMQL = "qualification"\n"Closed Lost" = "lost"\n'
        '[dates]\nformat = "%d/%m/%Y %H:%M"\n',
        "mapping.toml",
    )
    history = read_export(write(tmp_path, text), read_mapping(mapping))
    lead = history.leads.iloc[0]
    assert lead["outcome"] == "lost" and lead["lost_at"] == "qualification"
    assert lead["qualification_queue_day"] == pytest.approx(1 + 9 / 24)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "empty file"),
        (HEADER, "no rows"),
        ("lead_id,status\nL1,open\n", "missing required column 'created_at'"),
    ],
)
def test_unusable_files(tmp_path, text, expected):
    with pytest.raises(ExportError) as caught:
        read_export(write(tmp_path, text))
    assert expected in caught.value.problems[0]


def test_calibrate_cli_reports_bad_rows_and_exits_2(tmp_path, capsys):
    rows = GOOD_ROWS + ["L3,yesterday,open,soft,1,,\n"]
    path = write(tmp_path, HEADER + "".join(rows))
    out = tmp_path / "ours.toml"
    assert main(["calibrate", str(path), "--structure", "conveyor", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "row 4 (lead L3): created_at: cannot read 'yesterday' as a date" in err
    assert "Traceback" not in err and not out.exists()
    code = main(
        ["calibrate", str(path), "--structure", "conveyor", "--out", str(out), "--skip-bad-rows"]
    )
    assert code == 0 and out.exists()
    assert "row 4" in capsys.readouterr().err
    assert "1 rows could not be used" in out.read_text()


def test_readme_mapping_example_is_valid(tmp_path):
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (example,) = re.findall(r"```toml mapping\n(.*?)```", readme, re.S)
    mapping = read_mapping(write(tmp_path, example, "mapping.toml"))
    assert mapping.columns["Opportunity ID"] == "lead_id"
    assert mapping.stages["Closed Won"] == "won"
