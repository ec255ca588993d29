"""CSV files a spreadsheet can open safely: every CSV salesim writes goes through here.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula: a CRM export whose lead id is ``=HYPERLINK("http://…"&B2, "open")``
would, copied into our unusable-rows list, send the user's data elsewhere when
they open it. OWASP's rule (CSV injection) is to prefix such a text cell with a
single quote, which spreadsheets show as text and do not evaluate. Numbers are
written as numbers (a negative profit stays ``-1274000.0``); only text cells,
column names and category labels are neutralised. Tab and carriage return
lead the list too, as OWASP advises, because some spreadsheets strip them and
then meet a formula.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, made inert; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _safe_column(column: pd.Series) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if categories.dtype == object or pd.api.types.is_string_dtype(categories.dtype):
            return column.cat.rename_categories([neutralise(c) for c in categories])
        return column
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        return column.map(neutralise)
    return column


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell, category and column name neutralised (a copy)."""
    out = pd.DataFrame({i: _safe_column(df.iloc[:, i]) for i in range(df.shape[1])})
    out.columns = [neutralise(str(name)) for name in df.columns]
    out.index = df.index.map(neutralise) if df.index.dtype == object else df.index
    out.index.name = neutralise(df.index.name)
    return out


def write_csv(df: pd.DataFrame, path: Path, **to_csv: Any) -> Path:
    """Write ``df`` as CSV (no index unless asked), text cells neutralised, atomically.

    Args:
        df: the table.
        path: the CSV file; written to a temporary name beside it, then renamed.
        **to_csv: passed to ``DataFrame.to_csv``.

    Returns:
        ``path``.
    """
    path = Path(path)
    to_csv.setdefault("index", False)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        safe_frame(df).to_csv(tmp, **to_csv)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def csv_bytes(df: pd.DataFrame, **to_csv: Any) -> bytes:
    """The CSV text of ``df`` (neutralised, no index unless asked), as UTF-8 bytes."""
    to_csv.setdefault("index", False)
    return safe_frame(df).to_csv(**to_csv).encode()
