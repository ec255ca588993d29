"""CRM exports in the shapes real users bring, written from a simulated run.

Each writer takes a simulated ``leads`` table (one structure, one replication,
from a scenario with known parameters) and writes it the way a CRM or a
spreadsheet would (/work/shared/CRM_EXPORTS.md): its own column names, stage
names, date and amount formats, encoding and delimiter, with a mapping file.
The end-to-end tests calibrate from each and back-test the result.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.crm.write import export_crm

ORIGIN = "2024-01-01"
OFFICES = ("Central", "East", "West")
AGENT_NAMES = (
    *("Anna", "Bo", "Cecily", "Corliss", "Daniell", "Elease", "Garret", "Hayden", "Jonathan"),
    *("Kami", "Lajuana", "Markita", "Moses", "Niesha", "Reed", "Rosalina", "Versie", "Vicki"),
    *("Violet", "Wilburn", "Zoë", "Jürgen", "Anaïs", "Søren"),
)
"""First names of agents; the last ones are written in cp1252 by the European export."""


KNOWN_FUNNEL = (
    "leads.mean_deal_value=20000.0",
    "stages.prospecting.pass_prob=0.5",
    "stages.qualification.pass_prob=0.5",
    "stages.closing.pass_prob=0.4",
    "stages.prospecting.mean_effort_days=0.2",
    "stages.qualification.mean_effort_days=0.5",
    "stages.closing.mean_effort_days=1.0",
    "stages.prospecting.mean_lag_days=2.0",
    "stages.qualification.mean_lag_days=6.0",
    "stages.closing.mean_lag_days=12.0",
)
"""The known stages and deal value the exported markets are simulated with (overrides)."""


@dataclass(frozen=True)
class ShapedExport:
    """An export written in one shape: the file, its mapping and the options it needs."""

    export: Path
    mapping: Path
    options: tuple[str, ...] = ()


def write_rows(path: Path, frame: pd.DataFrame, delimiter=",", encoding="utf-8", line_end="\n"):
    """A table as a CRM or Excel writes it: any delimiter, encoding and line end."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(frame.columns)
    writer.writerows(frame.astype(str).itertuples(index=False))
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _agent(handler: pd.Series) -> pd.Series:
    """A seat number as a person's name (``Anna 07``), empty where no rep."""
    return handler.map(lambda h: f"{AGENT_NAMES[h % len(AGENT_NAMES)]} {h:02d}" if h >= 0 else "")


def _stamp(days: pd.Series, fmt: str) -> pd.Series:
    stamps = pd.Timestamp(ORIGIN) + pd.to_timedelta(days, unit="D")
    return stamps.dt.strftime(fmt).fillna("")


def _closed(leads: pd.DataFrame) -> pd.Series:
    return leads["end_day"].where(leads["outcome"].astype(str) != "open")


def _won_value(leads: pd.DataFrame, text: Callable[[float], str] = "{:.0f}".format) -> pd.Series:
    """The value of won deals only (lost 0, open empty), as the opportunity export has it."""
    outcome = leads["outcome"].astype(str)
    return pd.Series(
        [text(v) if o == "won" else "0" if o == "lost" else "" for v, o in
         zip(leads["deal_value"], outcome, strict=True)], index=leads.index,
    )  # fmt: skip


def typical_opportunities(leads: pd.DataFrame, folder: Path) -> ShapedExport:
    """The issue's export: one row per opportunity, agents' offices in a roster file.

    Deals still in prospecting are written the way that CRM shows them: stage
    Prospecting, no date at all; open deals past it are Engaging with their
    engagement date only.
    """
    outcome = leads["outcome"].astype(str)
    prospecting = (outcome == "open") & leads["qualification_queue_day"].isna()
    stage = outcome.map({"won": "Won", "lost": "Lost", "open": "Engaging"})
    stage = stage.where(~prospecting, "Prospecting")
    agent = _agent(leads["prospecting_handler"])
    table = pd.DataFrame(
        {
            "opportunity_id": [f"{0x1C1FEB00 + i:08X}" for i in leads["lead_id"]],
            "sales_agent": agent,
            "product": ["GTX Basic", "MG Special", "GTXPro"] * (len(leads) // 3)
            + ["GTX Basic"] * (len(leads) % 3),
            "account": [f"Account {i % 85}" for i in leads["lead_id"]],
            "deal_stage": stage,
            "engage_date": _stamp(leads["arrival_day"], "%Y-%m-%d").where(~prospecting, ""),
            "close_date": _stamp(_closed(leads), "%Y-%m-%d"),
            "close_value": _won_value(leads),
        }
    )
    agents = sorted(set(agent) - {""})
    roster = pd.DataFrame(
        {
            "sales_agent": agents,
            "manager": [f"Manager {i // 6}" for i in range(len(agents))],
            "regional_office": [OFFICES[i % len(OFFICES)] for i in range(len(agents))],
        }
    )
    write_rows(folder / "sales_teams.csv", roster)
    mapping = """[columns]
opportunity_id = "lead_id"
sales_agent = "owner"
engage_date = "created_at"
deal_stage = "status"
close_date = "closed_at"
close_value = "amount"

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
    return _written(folder, "sales_pipeline.csv", table, mapping)


def _written(folder: Path, name: str, table: pd.DataFrame, mapping: str, **how) -> ShapedExport:
    export = write_rows(folder / name, table, **how)
    (folder / "mapping.toml").write_text(mapping, encoding="utf-8")
    return ShapedExport(export, folder / "mapping.toml")


DEAL_MAPPING = """[columns]
"Opportunity ID" = "lead_id"
"Deal owner" = "owner"
"Created" = "created_at"
"Status" = "status"
"Close Date" = "closed_at"
"""


def engage_and_close(leads: pd.DataFrame, folder: Path) -> ShapedExport:
    """Only an id, one owner column, the status, engagement and close dates (no amounts)."""
    table = pd.DataFrame(
        {
            "Opportunity ID": [f"OPP-{i:05d}" for i in leads["lead_id"]],
            "Deal owner": _agent(leads["prospecting_handler"]),
            "Created": _stamp(leads["arrival_day"], "%Y-%m-%d"),
            "Status": leads["outcome"].astype(str),
            "Close Date": _stamp(_closed(leads), "%Y-%m-%d"),
        }
    )
    return _written(folder, "deals.csv", table, DEAL_MAPPING)


def stale_open_deals(leads: pd.DataFrame, folder: Path) -> ShapedExport:
    """The one-owner export where nobody closed a third of the lost deals: they stay open."""
    shaped = engage_and_close(leads, folder)
    table = pd.read_csv(shaped.export, dtype=str, keep_default_na=False)
    never_closed = (table["Status"] == "lost") & (leads["lead_id"].to_numpy() % 3 == 0)
    table.loc[never_closed, "Status"] = "open"
    table.loc[never_closed, "Close Date"] = ""
    return _written(folder, "deals.csv", table, DEAL_MAPPING)


SALESFORCE_STAGES = {
    "prospecting": "Prospecting",
    "qualification": "Qualification",
    "closing": "Negotiation/Review",
    "won": "Closed Won",
    "lost": "Closed Lost",
}


def salesforce_history(leads: pd.DataFrame, folder: Path) -> ShapedExport:
    """Salesforce's OpportunityHistory (a row per stage change) and its Opportunity object.

    The history has no owner: the owner comes from the opportunities by a join.
    """
    history = export_crm(leads, "history", ORIGIN)
    history = history[history["event"] == "entered"].reset_index(drop=True)
    changed = pd.to_datetime(history["changed_at"])
    table = pd.DataFrame(
        {
            "OpportunityId": history["lead_id"].str.replace("L", "0065g", regex=False),
            "StageName": history["stage"].map(SALESFORCE_STAGES),
            "CreatedDate": changed.dt.strftime("%Y-%m-%dT%H:%M:00.000Z"),
            "Amount": history["amount"].map("{:.2f}".format),
            "Probability": history["stage"].map({"prospecting": "10", "qualification": "20",
                                                 "closing": "80", "won": "100", "lost": "0"}),
            "ForecastCategory": history["stage"].map(
                {"won": "Closed", "lost": "Omitted"}).fillna("Pipeline"),
        }
    )  # fmt: skip
    opportunities = pd.DataFrame(
        {
            "Id": leads["lead_id"].map(lambda i: f"0065g{i:06d}"),
            "OwnerId": leads["prospecting_handler"].map(lambda h: f"0055g{h:06d}AAA"),
            "StageName": leads["outcome"].astype(str),
        }
    )
    write_rows(folder / "Opportunity.csv", opportunities)
    mapping = """[columns]
OpportunityId = "lead_id"
StageName = "stage"
CreatedDate = "changed_at"
Amount = "amount"

[stages]
"Prospecting" = "prospecting"
"Qualification" = "qualification"
"Negotiation/Review" = "closing"
"Closed Won" = "won"
"Closed Lost" = "lost"

[[joins]]
file = "Opportunity.csv"
key = "Id"
on = "OpportunityId"
columns = { OwnerId = "owner" }
"""
    return _written(folder, "OpportunityHistory.csv", table, mapping)


HUBSPOT_STAGES = ("Appointment Scheduled", "Qualified To Buy", "Contract Sent")


def hubspot_deals(leads: pd.DataFrame, folder: Path) -> ShapedExport:
    """HubSpot's deals: the stage now, dates entered per stage, a forecast close date if open."""
    outcome = leads["outcome"].astype(str)
    reached = sum(leads[f"{s}_queue_day"].notna().astype(int)
                  for s in ("qualification", "closing"))  # fmt: skip
    stage = reached.map(lambda k: HUBSPOT_STAGES[k])
    closed = outcome.map({"won": "Closed Won", "lost": "Closed Lost"})
    stage = stage.where(outcome == "open", closed)
    created = pd.Timestamp(ORIGIN) + pd.to_timedelta(leads["arrival_day"], unit="D")
    forecast = (created + pd.offsets.MonthEnd(0)).dt.strftime("%Y-%m-%d")
    fmt = "%Y-%m-%d %H:%M"
    table = pd.DataFrame(
        {
            "Record ID": leads["lead_id"] + 9_000_000_000,
            "Deal Name": [f"Deal {i}" for i in leads["lead_id"]],
            "Deal Stage": stage,
            "Pipeline": "Sales Pipeline",
            "Amount": leads["deal_value"].round(2),
            "Close Date": _stamp(_closed(leads), fmt).where(outcome != "open", forecast),
            "Create Date": _stamp(leads["arrival_day"], fmt),
            "Deal owner": _agent(leads["prospecting_handler"]),
            "Associated Company": [f"Company {i % 97}" for i in leads["lead_id"]],
            'Date entered "Qualified To Buy (Sales Pipeline)"': _stamp(
                leads["qualification_queue_day"], fmt),
            'Date entered "Contract Sent (Sales Pipeline)"': _stamp(
                leads["closing_queue_day"], fmt),
        }
    )  # fmt: skip
    mapping = """[columns]
"Record ID" = "lead_id"
"Deal Stage" = "status"
"Amount" = "amount"
"Close Date" = "closed_at"
"Create Date" = "created_at"
"Deal owner" = "owner"
'Date entered "Qualified To Buy (Sales Pipeline)"' = "qualification_entered_at"
'Date entered "Contract Sent (Sales Pipeline)"' = "closing_entered_at"

[stages]
"Appointment Scheduled" = "open"
"Qualified To Buy" = "open"
"Contract Sent" = "open"
"Closed Won" = "won"
"Closed Lost" = "lost"
"""
    return _written(folder, "hubspot-crm-exports-all-deals.csv", table, mapping)


def pipedrive_deals(leads: pd.DataFrame, folder: Path) -> ShapedExport:
    """Pipedrive's deals: status open/won/lost, add, won, lost and close times, owner ids."""
    outcome = leads["outcome"].astype(str)
    fmt = "%Y-%m-%d %H:%M:%S"
    closed = _stamp(_closed(leads), fmt)
    table = pd.DataFrame(
        {
            "id": leads["lead_id"] + 1,
            "title": [f"Deal {i}" for i in leads["lead_id"]],
            "owner_id": leads["prospecting_handler"] + 12_000_000,
            "stage_id": 1 + sum(leads[f"{s}_queue_day"].notna().astype(int)
                                for s in ("qualification", "closing")),
            "status": outcome,
            "value": leads["deal_value"].round(2),
            "currency": "EUR",
            "add_time": _stamp(leads["arrival_day"], fmt),
            "won_time": closed.where(outcome == "won", ""),
            "lost_time": closed.where(outcome == "lost", ""),
            "close_time": closed,
            "lost_reason": outcome.map({"lost": "Price"}).fillna(""),
        }
    )  # fmt: skip
    mapping = """[columns]
id = "lead_id"
owner_id = "owner"
status = "status"
value = "amount"
add_time = "created_at"
close_time = "closed_at"
"""
    return _written(folder, "deals.csv", table, mapping)


def _european_amount(value: float) -> str:
    whole, cents = divmod(round(value * 100), 100)
    return f"{whole:,}".replace(",", ".") + f",{cents:02d} €"


def european_cp1252(leads: pd.DataFrame, folder: Path) -> ShapedExport:
    """A European spreadsheet: cp1252, semicolons, day-first dates, ``1.234,50 €``, CRLF."""
    outcome = leads["outcome"].astype(str)
    table = pd.DataFrame(
        {
            "Nr": [f"V-{i}" for i in leads["lead_id"]],
            "Verkäufer": _agent(leads["prospecting_handler"]),
            "Status": outcome.map({"open": "offen", "won": "gewonnen", "lost": "verloren"}),
            "Erstellt": _stamp(leads["arrival_day"], "%d.%m.%Y %H:%M"),
            "Abgeschlossen": _stamp(_closed(leads), "%d.%m.%Y %H:%M"),
            "Betrag": leads["deal_value"].map(_european_amount),
        }
    )
    mapping = """[columns]
Nr = "lead_id"
"Verkäufer" = "owner"
Status = "status"
Erstellt = "created_at"
Abgeschlossen = "closed_at"
Betrag = "amount"

[stages]
offen = "open"
gewonnen = "won"
verloren = "lost"
"""
    how = {"delimiter": ";", "encoding": "cp1252", "line_end": "\r\n"}
    return _written(folder, "Verkaufschancen.csv", table, mapping, **how)


def bom_tabs_day_first(leads: pd.DataFrame, folder: Path) -> ShapedExport:
    """UTF-8 with a byte-order mark, tab-separated, dates like ``25/03/2024`` (day first)."""
    table = pd.DataFrame(
        {
            "Deal": [f"D{i}" for i in leads["lead_id"]],
            "Owner": _agent(leads["prospecting_handler"]),
            "Outcome": leads["outcome"].astype(str).str.capitalize(),
            "Opened": _stamp(leads["arrival_day"], "%d/%m/%Y"),
            "Closed": _stamp(_closed(leads), "%d/%m/%Y"),
            "Value": leads["deal_value"].map("£{:,.2f}".format),
        }
    )
    mapping = """[columns]
Deal = "lead_id"
Owner = "owner"
Outcome = "status"
Opened = "created_at"
Closed = "closed_at"
Value = "amount"

[stages]
Open = "open"
Won = "won"
Lost = "lost"
"""
    how = {"delimiter": "\t", "encoding": "utf-8-sig"}
    return _written(folder, "deals.tsv", table, mapping, **how)


SHAPES: dict[str, Callable[[pd.DataFrame, Path], ShapedExport]] = {
    "typical_opportunities": typical_opportunities,
    "engage_and_close": engage_and_close,
    "salesforce_history": salesforce_history,
    "hubspot_deals": hubspot_deals,
    "pipedrive_deals": pipedrive_deals,
    "stale_open_deals": stale_open_deals,
    "european_cp1252": european_cp1252,
    "bom_tabs_day_first": bom_tabs_day_first,
}
"""Each shape's writer, by name."""
