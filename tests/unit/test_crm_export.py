"""Bad CRM exports: each unusable row is listed with its reason; the CLI exits 2."""

from pathlib import Path

import pandas as pd
import pytest

from sim.cli.main import main
from sim.crm.mapping import read_mapping
from sim.crm.problems import unusable_rows
from sim.crm.read import ExportError, read_export

HEADER = (
    "lead_id,created_at,status,segment,amount,prospecting_entered_at,qualification_entered_at\n"
)
GOOD_ROWS = [
    "L1,2024-01-01 09:00,open,soft,100,2024-01-01 09:00,\n",
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


LEADS_HEADER = "lead_id,created_at,status,prospecting_entered_at,qualification_entered_at\n"
HISTORY_HEADER = "lead_id,changed_at,stage,owner\n"
GOOD_LEAD = "G1,2024-01-01 09:00,open,2024-01-01 09:00,2024-01-02 09:00\n"
GOOD_HISTORY = "G1,2024-01-01 09:00,prospecting,\nG1,2024-01-02 09:00,qualification,ann\n"

# One bad export per kind of unusable row: the text (a good lead G1 first), then the
# row (file line, header = 1), lead, kind and reason the report must give for it.
BAD_EXPORTS = {
    "unreadable_date": (
        LEADS_HEADER + GOOD_LEAD + "B1,2024-02-30 09:00,open,,\n",
        3, "B1", "unreadable_date", "created_at: cannot read '2024-02-30 09:00' as a date",
    ),
    "unreadable_date_history": (
        HISTORY_HEADER + GOOD_HISTORY + "B1,01/03/2024,prospecting,\n",
        4, "B1", "unreadable_date", "changed_at: cannot read '01/03/2024' as a date",
    ),
    "status_not_in_mapping": (
        LEADS_HEADER + GOOD_LEAD + "B1,2024-01-03 09:00,Nurture,,\n",
        3, "B1", "not_in_mapping", "status: 'Nurture' is not in the mapping",
    ),
    "stage_not_in_mapping": (
        HISTORY_HEADER + GOOD_HISTORY + "B1,2024-01-03 09:00,SQL,\n",
        4, "B1", "not_in_mapping", "stage: 'SQL' is not in the mapping",
    ),
    "backwards_leads": (
        LEADS_HEADER + GOOD_LEAD + "B1,2024-01-05 09:00,open,2024-01-05 09:00,2024-01-04 09:00\n",
        3, "B1", "backwards", "qualification_entered_at (2024-01-04 09:00) is before "
        "prospecting_entered_at (2024-01-05 09:00): the lead moves backwards in the funnel",
    ),
    "backwards_history": (
        HISTORY_HEADER + GOOD_HISTORY + "B1,2024-01-03 09:00,prospecting,\n"
        "B1,2024-01-04 09:00,qualification,\nB1,2024-01-05 09:00,prospecting,\n",
        6, "B1", "backwards", "moves back from qualification to prospecting",
    ),
    "skips_stage": (
        HISTORY_HEADER + GOOD_HISTORY + "B1,2024-01-03 09:00,prospecting,\n"
        "B1,2024-01-04 09:00,won,\n",
        5, "B1", "skips_stage", "won without entering closing",
    ),
    "duplicate_id": (
        LEADS_HEADER + GOOD_LEAD + "B1,2024-01-03 09:00,open,,\nB1,2024-01-04 09:00,open,,\n",
        4, "B1", "duplicate", "duplicate lead_id: also on row 3",
    ),
    "duplicate_history_row": (
        HISTORY_HEADER + GOOD_HISTORY + "B1,2024-01-03 09:00,prospecting,\n"
        "B1,2024-01-03 09:00,prospecting,\n",
        5, "B1", "duplicate", "duplicate row: same as row 4",
    ),
    "won_without_close_date": (
        LEADS_HEADER + GOOD_LEAD + "B1,2024-01-03 09:00,won,2024-01-03 09:00,\n",
        3, "B1", "won_without_close_date", "won without a close date",
    ),
    "lost_without_close_date": (
        LEADS_HEADER + GOOD_LEAD + "B1,2024-01-03 09:00,lost,,\n",
        3, "B1", "lost_without_close_date", "lost without a close date",
    ),
    "missing_changed_at": (
        HISTORY_HEADER + GOOD_HISTORY + "B1,2024-01-03 09:00,prospecting,\nB1,,qualification,\n",
        5, "B1", "missing_value", "changed_at is empty",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_EXPORTS))
def test_each_kind_of_bad_row_is_reported_with_row_and_reason(tmp_path, case):
    text, row, lead, kind, reason = BAD_EXPORTS[case]
    history = read_export(write(tmp_path, text))
    found = [p for p in history.problems if p.row == row]
    assert len(found) == 1, history.problems
    assert (found[0].lead_id, found[0].kind) == (lead, kind)
    assert reason in found[0].reason
    assert list(history.leads["lead_id"]) == ["G1"]  # the good lead is kept
    assert history.leads_left_out == 1
    # every row of the bad lead is listed: none is dropped silently
    bad_rows = {i + 2 for i, line in enumerate(text.splitlines()[1:]) if line.startswith("B1")}
    assert {p.row for p in history.problems} == bad_rows
    table = unusable_rows(history.problems)
    assert list(table.columns) == ["row", "lead_id", "kind", "reason"]
    assert set(table["row"]) == bad_rows and set(table["lead_id"]) == {"B1"}


def test_a_bad_amount_loses_the_amount_not_the_lead(tmp_path):
    text = "lead_id,created_at,status,amount\nG1,2024-01-01,open,10\nB1,2024-01-02,open,ten\n"
    history = read_export(write(tmp_path, text))
    (problem,) = history.problems
    assert (problem.row, problem.lead_id, problem.kind) == (3, "B1", "bad_amount")
    assert problem.reason.startswith("amount: 'ten' is not a non-negative number")
    assert list(history.leads["lead_id"]) == ["G1", "B1"] and history.leads_left_out == 0
    assert history.leads["deal_value"].tolist()[0] == 10
    assert pd.isna(history.leads["deal_value"].tolist()[1])
    assert history.problem_lines()[0].startswith("export.csv: 0 of 2 rows cannot be used")


def test_other_rows_of_a_left_out_lead_are_listed(tmp_path):
    text = (
        HISTORY_HEADER
        + GOOD_HISTORY
        + (
            "B1,2024-01-03 09:00,prospecting,\n"
            "B1,2024-01-04 09:00,qualification,bo\n"
            "B1,2024-01-05 09:00,prospecting,\n"  # row 6: backwards
        )
    )
    history = read_export(write(tmp_path, text))
    kinds = {p.row: p.kind for p in history.problems}
    assert kinds == {4: "lead_left_out", 5: "lead_left_out", 6: "backwards"}
    left_out = next(p for p in history.problems if p.row == 4)
    assert left_out.reason == "not used: lead B1 is left out because of row 6"
    assert history.rows_unusable == 3 and history.leads_left_out == 1
    assert history.problem_lines()[0] == (
        "export.csv: 3 of 5 rows cannot be used; 1 leads left out because of them "
        "(2 lead_left_out, 1 backwards):"
    )


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
    listed = tmp_path / "ours_unusable_rows.csv"
    assert main(["calibrate", str(path), "--structure", "conveyor", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "row 4 (lead L3): created_at: cannot read 'yesterday' as a date" in err
    assert f"all 1 listed in {listed}" in err
    assert "Traceback" not in err and not out.exists()
    assert listed.read_text().splitlines() == [
        "row,lead_id,kind,reason",
        "4,L3,unreadable_date,created_at: cannot read 'yesterday' as a date",
    ]
    skip = ["--skip-bad-rows", "--bad-rows-limit", "50"]  # 1 row of 3 is more than the 10 %
    code = main(["calibrate", str(path), "--structure", "conveyor", "--out", str(out), *skip])
    assert code == 0 and out.exists() and listed.exists()
    assert "row 4" in capsys.readouterr().err
    header = out.read_text().split("\n[leads]")[0]
    assert (
        "# 1 rows could not be used and 1 leads were left out; each row is listed in "
        "ours_unusable_rows.csv:\n#   1 unreadable_date\n" in header
    )
    # a clean export afterwards removes the stale list
    clean = write(tmp_path, HEADER + "".join(GOOD_ROWS), "clean.csv")
    assert main(["calibrate", str(clean), "--structure", "conveyor", "--out", str(out)]) == 0
    assert not listed.exists() and "could not be used" not in out.read_text()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "export.csv: empty file: no header and no rows"),
        ("lead_id,status\nL1,open\n", "export.csv: missing required column 'created_at'"),
    ],
)
def test_calibrate_cli_unusable_file_is_one_line_exit_2(tmp_path, capsys, text, expected):
    out = tmp_path / "ours.toml"
    path = write(tmp_path, text)
    assert main(["calibrate", str(path), "--structure", "conveyor", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected), err
    assert not out.exists() and not (tmp_path / "ours_unusable_rows.csv").exists()


def test_no_usable_row_lists_every_row_and_exits_2(tmp_path, capsys):
    path = write(tmp_path, LEADS_HEADER + "B1,2024-13-01,open,,\nB2,2024-01-02,Hot,,\n")
    out = tmp_path / "ours.toml"
    assert main(["calibrate", str(path), "--structure", "conveyor", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "export.csv: no usable rows (2 rows read)" in err and "Traceback" not in err
    listed = (tmp_path / "ours_unusable_rows.csv").read_text().splitlines()
    assert [line.split(",")[:3] for line in listed[1:]] == [
        ["2", "B1", "unreadable_date"],
        ["3", "B2", "not_in_mapping"],
    ]
    assert not out.exists()


def test_docs_mapping_example_is_valid(tmp_path):
    import re

    page = Path(__file__).resolve().parents[2] / "docs" / "guide" / "calibrate.md"
    (example,) = re.findall(r'```toml title="mapping.toml"\n(.*?)```', page.read_text(), re.S)
    mapping = read_mapping(write(tmp_path, example, "mapping.toml"))
    assert mapping.columns["Opportunity ID"] == "lead_id"
    assert mapping.stages["Closed Won"] == "won"
