"""Exports shaped like real CRM files (docs: /work/shared/CRM_EXPORTS.md), read or refused.

Each file is written here from a small table, the way the CRM or Excel writes
it: Salesforce's opportunity report (US dates, ``$1,200.00``, a BOM, CRLF),
HubSpot's deals as Excel "Unicode text" (UTF-16, tabs), Pipedrive's deals with
status and close_time (CR-only line ends), a European export (semicolons,
decimal comma, cp1252 with ``€`` and accented owners, day-first dates), and
the issue's opportunity file with a roster of agents in a second file. What is
read is checked cell by cell; a broken variant is refused with one line and
exit code 2, before anything is written.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from sim.cli.main import main
from sim.crm.amounts import parse_amount_cells
from sim.crm.backtest import month_edges
from sim.crm.mapping import read_mapping
from sim.crm.read import ExportError, read_export


def write_table(
    path: Path,
    rows: list[list[str]],
    delimiter: str = ",",
    encoding: str = "utf-8",
    line_end: str = "\n",
) -> Path:
    """Write rows (the header first) as a CRM or Excel would: any delimiter, encoding, line end."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=line_end).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_mapping(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def calibrate_cli(export: Path, out: Path, *extra: str) -> int:
    return main(["calibrate", str(export), "--structure", "conveyor", "--out", str(out), *extra])


def one_line_refusal(capsys, code: int, out: Path) -> str:
    """The single stderr line of a refusal (exit 2, no traceback, nothing written)."""
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1, err
    assert not out.exists()
    return err[0]


# Salesforce: an opportunity report exported from a US org -------------------------------

SALESFORCE = [
    ["Opportunity ID", "Opportunity Name", "Opportunity Owner", "Account Name", "Stage",
     "Amount", "Probability (%)", "Created Date", "Close Date", "Type", "Lead Source"],
    ["0065g01", "Acme renewal", "Ann Lee", "Acme", "Closed Won", "$1,200.00", "100",
     "1/2/2024", "1/20/2024", "New Business", "Web"],
    ["0065g02", "Globex", "Bo Chen", "Globex", "Closed Lost", "$15,000.00", "0",
     "1/5/2024", "2/13/2024", "New Business", "Partner"],
    ["0065g03", "Initech", "Ann Lee", "Initech", "Negotiation", "$980.50", "60",
     "2/1/2024", "3/31/2024", "New Business", "Web"],  # an open deal's close date: a forecast
    ["0065g04", "Umbrella", "Bo Chen", "Umbrella", "Prospecting", "", "10",
     "3/25/2024", "4/30/2024", "New Business", "Web"],  # 25 cannot be a month: month first
    ["0065g05", "Hooli", "Ann Lee", "Hooli", "Closed Won", "USD 2,500", "100",
     "2/10/2024", "3/1/2024", "New Business", "Event"],
]  # fmt: skip
SALESFORCE_MAPPING = """
[columns]
"Opportunity ID" = "lead_id"
"Created Date" = "created_at"
"Close Date" = "closed_at"
"Stage" = "status"
"Amount" = "amount"
"Opportunity Owner" = "closing_owner"
[stages]
"Prospecting" = "open"
"Negotiation" = "open"
"Closed Won" = "won"
"Closed Lost" = "lost"
"""


def test_salesforce_report_us_dates_dollars_bom_crlf(tmp_path):
    export = write_table(tmp_path / "sf.csv", SALESFORCE, encoding="utf-8-sig", line_end="\r\n")
    mapping = read_mapping(write_mapping(tmp_path / "sf.toml", SALESFORCE_MAPPING))
    history = read_export(export, mapping)
    assert not history.problems
    leads = history.leads.set_index("lead_id")
    assert leads["deal_value"].fillna(-1).tolist() == [1200.0, 15000.0, 980.5, -1, 2500.0]
    assert history.origin == pd.Timestamp("2024-01-02")
    assert leads.loc["0065g02", "end_day"] == 42  # 13 February, month first
    assert leads.loc["0065g04", "arrival_day"] == 83  # 25 March
    assert pd.isna(leads.loc["0065g03", "end_day"])  # the open deal's forecast is not used
    assert leads["outcome"].tolist() == ["won", "lost", "open", "open", "won"]
    assert leads.loc["0065g01", "closing_handler"] == "Ann Lee"
    # the export ends on its last real date, 25 March (not a forecast of April), whole
    assert history.as_of_day == 84
    assert history.notes == (
        "sf.csv: dates read month first (month/day/year), as '3/25/2024' (created_at, row 5) shows",
        "sf.csv: 2 open leads have a close date: a forecast, not an outcome; not used",
        "sf.csv: the last date, 2024-03-25, has no time: counted to the day's end",
    )


def test_a_won_deal_without_a_close_date_is_reported_not_given_zero_days(tmp_path):
    rows = [*SALESFORCE, ["0065g06", "Stark", "Ann Lee", "Stark", "Closed Won", "$10", "100",
                          "3/1/2024", "", "New Business", "Web"]]  # fmt: skip
    export = write_table(tmp_path / "sf.csv", rows)
    mapping = read_mapping(write_mapping(tmp_path / "sf.toml", SALESFORCE_MAPPING))
    history = read_export(export, mapping)
    (problem,) = history.problems
    assert (problem.row, problem.lead_id, problem.kind) == (7, "0065g06", "won_without_close_date")
    assert "0065g06" not in set(history.leads["lead_id"])


# HubSpot: deals as Excel "Unicode text" (UTF-16 with a BOM, tab-separated) -----------------

HUBSPOT = [
    ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Create Date",
     "Deal owner", "Associated Company"],
    ["9001", "Zoë GmbH", "Closed won", "Sales Pipeline", "1200", "2024-02-15 16:20",
     "2024-01-03 09:15", "Zoë Åberg", "Zoë GmbH"],
    ["9002", "Kiosk", "Closed lost", "Sales Pipeline", "", "2024-02-01 11:00",
     "2024-01-10 14:00", "Ola Nordmann", "Kiosk"],
    ["9003", "Fjord", "Appointment scheduled", "Sales Pipeline", "300.5", "2024-03-31 00:00",
     "2024-03-02 08:00", "Zoë Åberg", "Fjord"],
]  # fmt: skip
HUBSPOT_MAPPING = """
[columns]
"Record ID" = "lead_id"
"Create Date" = "created_at"
"Close Date" = "closed_at"
"Deal Stage" = "status"
"Amount" = "amount"
[stages]
"Closed won" = "won"
"Closed lost" = "lost"
"Appointment scheduled" = "open"
"""


def test_hubspot_deals_as_utf16_with_tabs(tmp_path):
    export = write_table(tmp_path / "deals.txt", HUBSPOT, delimiter="\t", encoding="utf-16")
    mapping = read_mapping(write_mapping(tmp_path / "hubspot.toml", HUBSPOT_MAPPING))
    history = read_export(export, mapping)
    assert not history.problems and len(history.leads) == 3
    leads = history.leads.set_index("lead_id")
    assert leads.loc["9001", "end_day"] == pytest.approx(43 + (16 + 20 / 60 - 0) / 24)
    assert leads["deal_value"].fillna(-1).tolist() == [1200.0, -1, 300.5]
    assert history.notes[:2] == (
        "deals.txt: not UTF-8; read as UTF-16",
        "deals.txt: columns separated by tabs",
    )
    # times of day: the export ends at its last timestamp, not at a day's end
    assert history.as_of_day == pytest.approx(59 + 8 / 24)


# Pipedrive: deals with status and close_time, written with CR-only line ends ---------------

PIPEDRIVE = [
    ["id", "title", "owner_name", "value", "currency", "status", "add_time", "won_time",
     "lost_time", "close_time", "lost_reason", "stage_id"],
    ["1", "Deal A", "Kim", "5000", "EUR", "won", "2024-01-08 10:00:00", "2024-02-01 12:00:00",
     "", "2024-02-01 12:00:00", "", "4"],
    ["2", "Deal B", "Kim", "750.25", "EUR", "lost", "2024-01-09 10:00:00", "",
     "2024-01-20 09:30:00", "2024-01-20 09:30:00", "Price", "2"],
    ["3", "Deal C", "Lu", "", "EUR", "open", "2024-02-05 08:00:00", "", "", "", "", "1"],
]  # fmt: skip
PIPEDRIVE_MAPPING = """
[columns]
"id" = "lead_id"
"add_time" = "created_at"
"close_time" = "closed_at"
"value" = "amount"
"""


def test_pipedrive_deals_with_cr_only_line_ends(tmp_path):
    export = write_table(tmp_path / "deals.csv", PIPEDRIVE, line_end="\r")
    mapping = read_mapping(write_mapping(tmp_path / "pd.toml", PIPEDRIVE_MAPPING))
    history = read_export(export, mapping)
    assert not history.problems and not history.notes
    leads = history.leads.set_index("lead_id")
    assert leads["outcome"].tolist() == ["won", "lost", "open"]
    assert leads.loc["2", "lost_reason"] == "Price"
    assert leads.loc["2", "end_day"] == pytest.approx(12 + 9.5 / 24)  # from 8 January
    assert leads["deal_value"].fillna(-1).tolist() == [5000.0, 750.25, -1]


# A European export: semicolons, decimal comma, cp1252, day-first dates ---------------------

EUROPEAN = [
    ["Nr", "Angelegt", "Status", "Abschluss", "Betrag", "Verantwortlich"],
    ["A1", "03/01/2024 09:00", "gewonnen", "25/01/2024 17:30", "1.200,00 €", "José Núñez"],
    ["A2", "04/01/2024 10:00", "verloren", "12/02/2024 08:00", "15.000 €", "Jürgen Müller"],
    ["A3", "05/02/2024 11:15", "offen", "", "99,50 €", "José Núñez"],
    ["A4", "06/02/2024 08:00", "offen", "", "viel", "Jürgen Müller"],  # a bad amount
]
EUROPEAN_MAPPING = """
[columns]
"Nr" = "lead_id"
"Angelegt" = "created_at"
"Status" = "status"
"Abschluss" = "closed_at"
"Betrag" = "amount"
"Verantwortlich" = "closing_owner"
[stages]
"gewonnen" = "won"
"verloren" = "lost"
"offen" = "open"
"""


def test_european_export_semicolons_decimal_comma_cp1252_day_first(tmp_path):
    export = write_table(tmp_path / "export.csv", EUROPEAN, delimiter=";", encoding="cp1252")
    mapping = read_mapping(write_mapping(tmp_path / "de.toml", EUROPEAN_MAPPING))
    history = read_export(export, mapping)
    leads = history.leads.set_index("lead_id")
    assert leads["deal_value"].fillna(-1).tolist() == [1200.0, 15000.0, 99.5, -1]
    assert leads["closing_handler"].tolist() == ["José Núñez", "Jürgen Müller"] * 2
    assert leads.loc["A1", "end_day"] == pytest.approx(22 + 17.5 / 24)  # 25 January
    assert leads.loc["A2", "arrival_day"] == pytest.approx(1 + 10 / 24)  # 4 January, not April
    # the bad amount loses the amount only: the lead stays
    (problem,) = history.problems
    assert (problem.row, problem.lead_id, problem.kind) == (5, "A4", "bad_amount")
    assert history.leads_left_out == 0 and history.rows_unusable == 0
    assert history.notes == (
        "export.csv: not UTF-8; read as cp1252",
        "export.csv: columns separated by semicolons",
        "export.csv: dates read day first (day/month/year), as '25/01/2024 17:30' "
        "(closed_at, row 2) shows",
        "export.csv: amounts read with a decimal comma (1.200,50 is 1200.5)",
    )


def test_a_semicolon_file_without_a_mapping_is_read(tmp_path):
    rows = [["lead_id", "created_at", "status", "amount"], ["L1", "2024-01-01", "open", "12,5"]]
    history = read_export(write_table(tmp_path / "export.csv", rows, delimiter=";"))
    assert history.leads["deal_value"].tolist() == [12.5]


@pytest.mark.parametrize(
    "cells, expected",
    [
        (["$1,200.00", "USD 2,500", "(300)", "ten", ""], [1200.0, 2500.0, None, None, None]),
        (["1.200,00 €", "1 200", "€ 3.400", "99,50"], [1200.0, 1200.0, 3400.0, 99.5]),
        (["1\u00a0200,00\u00a0€", "CHF 1'200.50", "12,34,567.00"], [1200.0, 1200.5, 1234567.0]),
        (["1.200", "15.000"], [1200.0, 15000.0]),  # no cell shows a decimal mark: thousands
        (["1,200", "5,5"], [1.2, 5.5]),  # this file's cells show a decimal comma
    ],
)
def test_amount_rules(cells, expected):
    values, bad, _ = parse_amount_cells(pd.Series(cells))
    got = [None if pd.isna(v) else v for v in values]
    assert got == expected
    assert bad.tolist() == [bool(c) and e is None for c, e in zip(cells, expected, strict=True)]


# The file: opportunities with no dates in the early stage, agents in a roster ------

AGENTS = [
    ["sales_agent", "manager", "regional_office"],
    ["Anna Snyder", "Dustin Brinkmann", "Central"],
    ["Cecily Lampkin", "Dustin Brinkmann", "Central"],
    ["Corliss Cosme", "Melvin Marxen", "East"],
    ["Daniell Hammack", "Melvin Marxen", "East"],
]
OPPORTUNITY_HEADER = ["opportunity_id", "sales_agent", "product", "account", "deal_stage",
                      "engage_date", "close_date", "close_value"]  # fmt: skip
OPPORTUNITY_MAPPING = """
[columns]
opportunity_id = "lead_id"
engage_date = "created_at"
deal_stage = "status"
close_date = "closed_at"
close_value = "amount"
sales_agent = "closing_owner"
[stages]
Prospecting = "open"
Engaging = "open"
Won = "won"
Lost = "lost"
[[joins]]
file = "sales_teams.csv"
key = "sales_agent"
on = "sales_agent"
columns = { regional_office = "segment" }
"""


def opportunities(count: int = 40) -> list[list[str]]:
    """A small opportunity export: won, lost, engaging (an engage date) and prospecting (none)."""
    agents = [row[0] for row in AGENTS[1:]]  # each agent gets deals in every stage
    rows = [OPPORTUNITY_HEADER]
    for i in range(count):
        stage = ["Won", "Lost", "Engaging", "Prospecting"][i % 4]
        engaged = pd.Timestamp("2024-01-01") + pd.Timedelta(days=4 * i)
        closed = engaged + pd.Timedelta(days=10 + i % 7)
        dated = stage != "Prospecting"
        rows.append([
            f"{i:08X}", agents[(i + i // 4) % len(agents)], "GTX Basic", f"Account {i % 9}", stage,
            f"{engaged:%Y-%m-%d}" if dated else "",
            f"{closed:%Y-%m-%d}" if stage in ("Won", "Lost") else "",
            str(1000 + 10 * i) if stage == "Won" else "0" if stage == "Lost" else "",
        ])  # fmt: skip
    return rows


def opportunity_files(tmp_path: Path, rows=None, agents=None, mapping=OPPORTUNITY_MAPPING):
    export = write_table(tmp_path / "sales_pipeline.csv", rows or opportunities())
    write_table(tmp_path / "sales_teams.csv", agents or AGENTS)
    return export, write_mapping(tmp_path / "mapping.toml", mapping)


def test_opportunity_export_with_roster_join(tmp_path):
    export, mapping_file = opportunity_files(tmp_path)
    history = read_export(export, read_mapping(mapping_file))
    leads = history.leads
    assert len(leads) == 30  # 10 prospecting deals without any date are not placed in time
    assert {p.kind for p in history.problems} == {"undated_open"} and not history.errors
    assert history.leads_left_out == 0 and history.problem_lines() == []
    office = {row[0]: row[2] for row in AGENTS[1:]}
    assert (leads["segment"] == leads["closing_handler"].map(office)).all()
    assert set(leads["segment"]) == {"Central", "East"}
    assert "10 open leads have no date at all" in history.notes[-1]
    # the last close date, 2024-06-04 (date only), counts whole: the export ends at its end
    last_close = pd.Timestamp("2024-01-01") + pd.Timedelta(days=4 * 37 + 10 + 37 % 7)
    assert history.as_of_day == (last_close - history.origin).days + 1
    assert month_edges(history.as_of_day, history.origin)[1][-1] == "2024-05"


def test_last_month_is_kept_when_the_export_ends_on_its_last_day(tmp_path):
    rows = [
        ["lead_id", "created_at", "status", "closed_at"],
        ["L1", "2024-01-01", "won", "2024-03-10"],
        ["L2", "2024-02-01", "won", "2024-03-31"],
    ]
    history = read_export(write_table(tmp_path / "export.csv", rows))
    assert history.as_of_day == 91  # 1 January to the end of 31 March
    assert month_edges(history.as_of_day, history.origin)[1] == ["2024-01", "2024-02", "2024-03"]


def test_calibrate_pods_with_offices_from_the_roster(tmp_path, capsys):
    export, mapping_file = opportunity_files(tmp_path)
    out = tmp_path / "ours.toml"
    args = ["calibrate", str(export), "--structure", "pods", "--out", str(out),
            "--mapping", str(mapping_file)]  # fmt: skip
    assert main(args) == 0  # the undated early-stage deals need no --skip-bad-rows
    err = capsys.readouterr().err
    assert "10 open leads have no date at all" in err
    import tomllib

    scenario = tomllib.loads(out.read_text())
    assert sorted(s["name"] for s in scenario["leads"]["segments"]) == ["Central", "East"]
    pods = scenario["structures"]["pods"]["pods"]
    assert sorted(tuple(p["segments"]) for p in pods) == [("Central",), ("East",)]
    listed = pd.read_csv(tmp_path / "ours_unusable_rows.csv")
    assert set(listed["kind"]) == {"undated_open"} and len(listed) == 10


def test_an_agent_missing_from_the_roster_is_a_row_problem(tmp_path):
    export, mapping_file = opportunity_files(tmp_path, agents=AGENTS[:-1])  # no Daniell
    history = read_export(export, read_mapping(mapping_file))
    missing = [p for p in history.errors if p.kind == "not_in_join"]
    assert missing and all("'Daniell Hammack' is not in sales_teams.csv" in p.reason
                           for p in missing)  # fmt: skip
    assert "Daniell Hammack" not in set(history.leads["closing_handler"])


def test_roster_in_cp1252_with_semicolons_is_read_alike(tmp_path):
    agents = [*AGENTS[:-1], ["Daniell Hammack", "Melvin Marxen", "Köln"]]
    export, mapping_file = opportunity_files(tmp_path)
    write_table(tmp_path / "sales_teams.csv", agents, delimiter=";", encoding="cp1252")
    history = read_export(export, read_mapping(mapping_file))
    assert set(history.leads["segment"]) == {"Central", "East", "Köln"}
    assert "sales_teams.csv: not UTF-8; read as cp1252" in history.notes


# Refusals: one line each, exit code 2, nothing written --------------------------------------


def test_a_typo_in_a_mapped_column_is_refused_with_did_you_mean(tmp_path, capsys):
    mapping = OPPORTUNITY_MAPPING.replace("close_value =", "close_valu =")
    export, mapping_file = opportunity_files(tmp_path, mapping=mapping)
    out = tmp_path / "ours.toml"
    line = one_line_refusal(capsys, calibrate_cli(export, out, "--mapping", str(mapping_file)), out)
    assert line == (
        "mapping.toml: columns.close_valu: sales_pipeline.csv has no column 'close_valu'; "
        "did you mean 'close_value'?"
    )


@pytest.mark.parametrize(
    "typo, expected",
    [
        (("[columns]", "[column]"), "mapping.toml: column: unknown field 'column'; did you mean "
         "'columns'?"),
        (('= "amount"', '= "ammount"'), "mapping.toml: columns.close_value: 'ammount' is not one "
         "of ours; did you mean 'amount'?"),
        (('Won = "won"', 'Won = "wonn"'), "mapping.toml: stages.Won: 'wonn' is not one of ours; "
         "did you mean 'won'?"),

        (('regional_office = "segment"', 'regional_office = "segmnt"'), "mapping.toml: "
         "joins[0].columns.regional_office: 'segmnt' is not one of ours; did you mean 'segment'?"),
        (('on = "sales_agent"', 'on = "sales agent"'), "mapping.toml: joins[0].on: "
         "sales_pipeline.csv has no column 'sales agent'; did you mean 'sales_agent'?"),
        (("regional_office =", "regional_ofice ="), "mapping.toml: joins[0]: sales_teams.csv has "
         "no column 'regional_ofice'; did you mean 'regional_office'?"),
        (('file = "sales_teams.csv"', 'file = "teams.csv"'), "teams.csv: cannot read: no such "
         "joined file"),
    ],
)  # fmt: skip
def test_mapping_mistakes_are_one_line_each(tmp_path, capsys, typo, expected):
    export, mapping_file = opportunity_files(tmp_path, mapping=OPPORTUNITY_MAPPING.replace(*typo))
    out = tmp_path / "ours.toml"
    line = one_line_refusal(capsys, calibrate_cli(export, out, "--mapping", str(mapping_file)), out)
    assert line.endswith(expected), line
    assert "Traceback" not in line


def test_a_misspelled_join_key_says_both_what_is_missing_and_what_is_unknown(tmp_path, capsys):
    mapping = OPPORTUNITY_MAPPING.replace("key = ", "kee = ")
    export, mapping_file = opportunity_files(tmp_path, mapping=mapping)
    out = tmp_path / "ours.toml"
    assert calibrate_cli(export, out, "--mapping", str(mapping_file)) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "mapping.toml: joins.0.key: Field required",
        "mapping.toml: joins.0.kee: unknown field 'kee'; did you mean 'key'?",
    ]


def test_a_duplicate_key_in_the_roster_is_refused(tmp_path, capsys):
    agents = [*AGENTS, ["Anna Snyder", "Someone Else", "West"]]
    export, mapping_file = opportunity_files(tmp_path, agents=agents)
    out = tmp_path / "ours.toml"
    line = one_line_refusal(capsys, calibrate_cli(export, out, "--mapping", str(mapping_file)), out)
    assert line == (
        "sales_teams.csv: sales_agent: 'Anna Snyder' is on rows 2, 6; a key must name one row"
    )


def test_two_columns_mapped_to_one_field_are_refused(tmp_path, capsys):
    mapping = OPPORTUNITY_MAPPING.replace("engage_date =", 'account = "created_at"\nengage_date =')
    export, mapping_file = opportunity_files(tmp_path, mapping=mapping)
    out = tmp_path / "ours.toml"
    line = one_line_refusal(capsys, calibrate_cli(export, out, "--mapping", str(mapping_file)), out)
    assert "created_at: sales_pipeline.csv has it in 2 columns" in line


DAY_MONTH_ROWS = [["lead_id", "created_at", "status", "closed_at"]] + [
    [f"L{i}", f"{i % 28 + 1:02d}/{i % 12 + 1:02d}/2024", "lost", f"{i % 28 + 1:02d}/12/2024"]
    for i in range(40)
]


def test_day_first_dates_are_read_in_full(tmp_path):
    history = read_export(write_table(tmp_path / "export.csv", DAY_MONTH_ROWS))
    assert len(history.leads) == 40 and not history.problems
    assert "dates read day first" in history.notes[0]


def test_ambiguous_dates_are_refused_asking_for_the_order(tmp_path, capsys):
    rows = [["lead_id", "created_at", "status"], ["L1", "03/04/2024", "open"],
            ["L2", "05/06/2024", "open"]]  # fmt: skip
    export = write_table(tmp_path / "export.csv", rows)
    out = tmp_path / "ours.toml"
    line = one_line_refusal(capsys, calibrate_cli(export, out), out)
    assert line.startswith("export.csv: dates: '03/04/2024' (created_at, row 2) and every other")
    assert '[dates] order = "day_first" or "month_first"' in line
    mapping = write_mapping(tmp_path / "m.toml", '[dates]\norder = "day_first"\n')
    history = read_export(export, read_mapping(mapping))
    assert history.leads["arrival_day"].tolist() == [0.0, 63.0]  # 3 April, 5 June


def test_both_date_orders_in_one_file_are_refused(tmp_path, capsys):
    rows = [["lead_id", "created_at", "status"], ["L1", "25/03/2024", "open"],
            ["L2", "03/25/2024", "open"]]  # fmt: skip
    out = tmp_path / "ours.toml"
    line = one_line_refusal(capsys, calibrate_cli(write_table(tmp_path / "e.csv", rows), out), out)
    assert "'25/03/2024' (created_at, row 2) has the day first but '03/25/2024'" in line


def test_skip_bad_rows_refuses_when_too_many_rows_are_bad(tmp_path, capsys):
    """A wrong date format in the mapping reads only some rows: not a few bad rows."""
    export = write_table(tmp_path / "export.csv", DAY_MONTH_ROWS)
    mapping = write_mapping(tmp_path / "m.toml", '[dates]\nformat = "%m/%d/%Y"\n')
    out = tmp_path / "ours.toml"
    args = ("--mapping", str(mapping), "--skip-bad-rows")
    line = one_line_refusal(capsys, calibrate_cli(export, out, *args), out)
    # the day-first rows with a day of 12 or less are read, wrongly; the rest are not
    assert line.startswith("export.csv: 16 of 40 rows are bad (40%: 16 unreadable_date), more "
                           "than the 10 % that --skip-bad-rows goes on without")  # fmt: skip
    rows = (
        [DAY_MONTH_ROWS[0]]
        + [[f"L{i}", f"{i % 12 + 1:02d}/{i + 1:02d}/2024", "lost", "12/28/2024"] for i in range(20)]
        + [[f"M{i}", f"25/{i % 12 + 1:02d}/2024", "lost", "25/12/2024"] for i in range(20)]
    )
    export = write_table(tmp_path / "export.csv", rows)  # month first, but 20 of 40 rows
    line = one_line_refusal(capsys, calibrate_cli(export, out, *args), out)
    assert "20 of 40 rows are bad (50%" in line
    assert calibrate_cli(export, out, *args, "--bad-rows-limit", "60") == 0
    assert out.exists()


def test_utf16_without_a_byte_order_mark_is_refused(tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_bytes("lead_id,created_at,status\nL1,2024-01-01,open\n".encode("utf-16-le"))
    out = tmp_path / "ours.toml"
    line = one_line_refusal(capsys, calibrate_cli(path, out), out)
    assert "UTF-16 without a byte-order mark?" in line


def test_bad_rows_limit_is_a_percentage(tmp_path, capsys):
    export = write_table(tmp_path / "export.csv", DAY_MONTH_ROWS)
    out = tmp_path / "ours.toml"
    line = one_line_refusal(capsys, calibrate_cli(export, out, "--bad-rows-limit", "150"), out)
    assert line == "--bad-rows-limit: a percentage from 0 to 100, got 150"


def test_read_export_raises_one_line_per_problem(tmp_path):
    export, mapping_file = opportunity_files(
        tmp_path,
        mapping=OPPORTUNITY_MAPPING.replace("close_value =", "close_valu =").replace(
            "deal_stage =", "dealstage ="
        ),
    )
    with pytest.raises(ExportError) as caught:
        read_export(export, read_mapping(mapping_file))
    assert [line.split(": ")[1] for line in caught.value.problems] == [
        "columns.dealstage", "columns.close_valu"
    ]  # fmt: skip


def test_docs_join_example_is_the_one_tested_here(tmp_path):
    import re

    page = Path(__file__).resolve().parents[2] / "docs" / "guide" / "calibrate.md"
    (example,) = re.findall(r'```toml title="opportunities.toml"\n(.*?)```', page.read_text(), re.S)
    documented = read_mapping(write_mapping(tmp_path / "docs.toml", example))
    tested = read_mapping(write_mapping(tmp_path / "mapping.toml", OPPORTUNITY_MAPPING))
    assert documented.model_dump() == tested.model_dump()
