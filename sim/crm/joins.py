"""Columns brought into an export from another file, as the mapping's ``[[joins]]`` say.

A CRM keeps the office, region or team of each owner in a roster, not on the
deal: an opportunity export names the owner ("Deal owner" = "Anna Snyder") and
``agents.csv`` says Anna works in the Central office. A join looks each deal's
owner up in the roster and brings the office in as the deal's ``segment``, so
that Pods can be calibrated per office without a hand-made column. The joined
file is read like the export (any encoding or delimiter). A key that names two
rows of it is refused (which row would be meant?); a value of the export that
is not in it is a row problem (``not_in_join``), and an empty cell brings
nothing, as an empty cell of the export would.
"""

from __future__ import annotations

import pandas as pd

from sim.crm.export_file import read_table
from sim.crm.mapping import CrmMapping, JoinConfig, did_you_mean
from sim.crm.problems import ExportError, ExportProblem
from sim.crm.rows import cell_problems

SHOWN_DUPLICATES = 5
"""Duplicate keys named one line each; more are counted in one line."""


def apply_joins(
    df: pd.DataFrame, mapping: CrmMapping, export: str
) -> tuple[pd.DataFrame, list[ExportProblem], list[str]]:
    """The export with each join's columns added under our field names.

    Args:
        df: the export's cells, columns renamed to ours.
        mapping: the mapping, with its ``joins``.
        export: the export's file name, for the lines.

    Returns:
        The export with the new columns, the rows whose value is not in a joined
        file, and the notes of reading the joined files.

    Raises:
        ExportError: a joined file that cannot be read, lacks a named column,
            repeats a key, or brings a field the export already has.
    """
    problems: list[ExportProblem] = []
    notes: list[str] = []
    for index, join in enumerate(mapping.joins):
        table, table_notes = _joined_table(join, mapping, index, df, export)
        notes += table_notes
        on = mapping.columns.get(join.on, join.on)
        values = df[on].astype(str).str.strip()
        for column, field in join.columns.items():
            df[field] = values.map(table[column].str.strip()).fillna("")
        unknown = (values != "") & ~values.isin(table.index)
        problems += cell_problems(
            df, unknown, on, f"{{value}} is not in {join.file} (column {join.key!r})",
            "not_in_join",
        )  # fmt: skip
    return df, problems, notes


def _joined_table(
    join: JoinConfig, mapping: CrmMapping, index: int, df: pd.DataFrame, export: str
) -> tuple[pd.DataFrame, list[str]]:
    """The joined file indexed by its key (stripped), checked; and how it was read."""
    where = f"{mapping.label}: joins[{index}]"
    taken = [field for field in join.columns.values() if field in df.columns]
    if taken:
        raise ExportError(
            [f"{where}.columns: {field!r} is already a column of {export}; bring it from one "
             "place" for field in taken]
        )  # fmt: skip
    read = read_table(mapping.folder / join.file, "joined file")
    table = read.frame
    header = list(table.columns)
    missing = [name for name in (join.key, *join.columns) if name not in header]
    if missing:
        raise ExportError(
            [f"{where}: {join.file} has no column {name!r}{did_you_mean(name, header)}"
             for name in missing]
        )  # fmt: skip
    keys = table[join.key].astype(str).str.strip()
    _refuse_duplicates(keys, join)
    table = table[keys != ""].set_index(keys[keys != ""])
    return table, list(read.notes)


def _refuse_duplicates(keys: pd.Series, join: JoinConfig) -> None:
    """Refuse a joined file where one key names two rows (which would a deal take?)."""
    repeated = keys[(keys != "") & keys.duplicated(keep=False)]
    if repeated.empty:
        return
    groups = repeated.groupby(repeated, sort=False).groups
    lines = [
        f"{join.file}: {join.key}: {value!r} is on rows "
        f"{', '.join(str(int(i) + 2) for i in rows)}; a key must name one row"
        for value, rows in list(groups.items())[:SHOWN_DUPLICATES]
    ]
    if len(groups) > SHOWN_DUPLICATES:
        lines.append(f"{join.file}: ... and {len(groups) - SHOWN_DUPLICATES} more keys repeated")
    raise ExportError(lines)
