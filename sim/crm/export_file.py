"""Reading the table of a CSV file as a CRM or a spreadsheet writes it.

Real exports are not all UTF-8 with commas. Excel in a European locale writes
``Opportunity;Owner;Amount`` with a decimal comma, in cp1252 (where ``€`` is
byte 0x80) or as "Unicode text" (UTF-16 with a byte-order mark, often with
tabs); older Mac tools end lines with a lone carriage return. This module finds
the encoding and the delimiter from the bytes, says which it used when it is
not the usual one, and hands over a table of text cells (``""`` = empty) with
the header names stripped. Both the export and a file joined to it
(``sim.crm.joins``) are read here.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.crm.problems import ExportError
from sim.errors import ScenarioError
from sim.files.read import CSV_LIMIT_BYTES, read_user_file

DELIMITERS: tuple[str, ...] = (",", ";", "\t")
"""The delimiters tried, the first winning a tie: comma, semicolon, tab."""

DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}

SNIFF_LINES = 50
"""Lines that decide the delimiter: the header and the rows after it."""


@dataclass(frozen=True)
class ExportFile:
    """A CSV file's table of text cells, and how it was read.

    Attributes:
        frame: one column per header name (stripped), every cell text.
        encoding: ``UTF-8``, ``UTF-16``, ``cp1252`` or ``latin-1``.
        delimiter: ``,``, ``;`` or a tab.
        notes: one line each for what was not the usual (an encoding other
            than UTF-8, a delimiter other than a comma), for the terminal.
    """

    frame: pd.DataFrame
    encoding: str
    delimiter: str
    notes: tuple[str, ...] = ()


def decode(data: bytes) -> tuple[str, str]:
    """The text of a file and the encoding it was read with.

    UTF-8 (a BOM dropped) first; UTF-16 when the file opens with its BOM; then
    cp1252, what Excel on Windows writes in Western Europe and the Americas;
    latin-1 last, which reads any byte (cp1252 leaves five bytes undefined).

    Raises:
        ValueError: a UTF-16 file cut in the middle of a character.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), "UTF-8" if encoding == "utf-8-sig" else encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most rows as wide as the header.

    A header split into one field by a delimiter rules it out; with none that
    splits it, the file has one column and the comma is as good as any.
    """
    head = text[: SNIFF_LINES * 2000]  # enough for 50 lines; the rest of a big file stays put
    lines = [line for line in head.split("\n")[:SNIFF_LINES] if line.strip()]

    def fit(delimiter: str) -> tuple[int, int]:
        rows = list(csv.reader(lines, delimiter=delimiter))
        if not rows or len(rows[0]) < 2:
            return (-1, 0)
        width = len(rows[0])
        return (sum(len(row) == width for row in rows[1:]), width)

    return max(DELIMITERS, key=fit)


def read_table(path: Path, kind: str = "CSV export") -> ExportFile:
    """The table in a CSV file, whatever its encoding, delimiter and line ends.

    Args:
        path: the file.
        kind: what the file is, for the messages ("CSV export", "joined file").

    Raises:
        ExportError: one line: the file cannot be read, is empty, has only a
            header, or is not CSV.
    """
    label = path.name
    try:
        data = read_user_file(path, CSV_LIMIT_BYTES, kind)
    except ScenarioError as exc:
        raise ExportError(exc.problems) from None
    try:
        text, encoding = decode(data)
    except UnicodeDecodeError as exc:
        raise ExportError([f"{path}: cannot read: UTF-16 cut short ({exc.reason})"]) from None
    if "\x00" in text:
        # Bytes of zero in "text" are UTF-16 without its byte-order mark: read as
        # one byte per character, no header would match and the message would mislead.
        raise ExportError(
            [f"{path}: cannot read: it holds zero bytes (UTF-16 without a byte-order mark?); "
             "save it as CSV UTF-8"]
        )  # fmt: skip
    # A lone carriage return ends a line in old Mac files; pandas splits on \n.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = sniff_delimiter(text)
    frame = _parse(text, delimiter, label)
    notes = []
    if encoding != "UTF-8":
        notes.append(f"{label}: not UTF-8; read as {encoding}")
    if delimiter != ",":
        notes.append(f"{label}: columns separated by {DELIMITER_NAMES[delimiter]}")
    return ExportFile(frame, encoding, delimiter, tuple(notes))


def _parse(text: str, delimiter: str, label: str) -> pd.DataFrame:
    """The text cells, header names stripped; refused when empty or only a header."""
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
            skipinitialspace=True,
        )  # fmt: skip
    except pd.errors.EmptyDataError:
        raise ExportError([f"{label}: empty file: no header and no rows"]) from None
    except pd.errors.ParserError as exc:
        first = str(exc).splitlines()[0]
        raise ExportError([f"{label}: not a readable CSV file ({first})"]) from None
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise ExportError([f"{label}: no rows (only a header: {', '.join(df.columns)})"])
    return df
