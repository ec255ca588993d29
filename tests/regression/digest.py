"""Canonical, platform-stable digests of output tables.

A table's digest is a SHA-256 over its row count and, per column in order, the
column's name, a canonical kind and its values as bytes. The kind is one of
``bool``, ``int``, ``float``, ``text`` (strings and categoricals, hashed by
their values, not their codes or category lists) or ``other``; integer and
float widths are normalised to 64-bit little-endian, NaN and -0.0 to one bit
pattern each, so the digest depends on the values, not on the platform, the
pandas version (``object`` vs ``str`` dtype) or the byte order. Missing values
are hashed as a mask beside the values. Parquet bytes are never hashed: they
depend on the pyarrow version.

Every column also gets a digest of its own, so a change can be pinned down
to the columns it touched (``leads.closing_start_day`` alone: a queue order
changed).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

COLUMN_DIGEST_CHARS = 16
"""Hex characters kept of each column's SHA-256 (64 bits: enough to tell a change)."""


def column_kind(series: pd.Series) -> str:
    """The canonical kind of a column: bool, int, float, text or other."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        return "text"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    return "other"


def _value_bytes(series: pd.Series, kind: str, missing: np.ndarray) -> bytes:
    if kind == "bool":
        return series.fillna(False).to_numpy(dtype="u1").tobytes()
    if kind == "int":
        return series.fillna(0).to_numpy(dtype="<i8").tobytes()
    if kind == "float":
        values = series.to_numpy(dtype="<f8", na_value=np.nan)
        values = np.where(missing, 0.0, values) + 0.0  # one NaN pattern; -0.0 + 0.0 is 0.0
        return values.astype("<f8").tobytes()
    # text and other: each value as UTF-8 with its length (so "ab","c" != "a","bc")
    parts = []
    for value, gone in zip(series.astype(object).tolist(), missing.tolist(), strict=True):
        text = b"" if gone else str(value).encode("utf-8")
        parts.append(len(text).to_bytes(8, "little") + text)
    return b"".join(parts)


def column_digest(name: str, series: pd.Series) -> str:
    """SHA-256 (hex) of one column's name, canonical kind, missing mask and values."""
    kind = column_kind(series)
    missing = series.isna().to_numpy(dtype=bool)
    h = hashlib.sha256()
    for part in (str(name).encode("utf-8"), kind.encode(), len(series).to_bytes(8, "little")):
        h.update(len(part).to_bytes(8, "little") + part)
    h.update(missing.astype("u1").tobytes())
    h.update(_value_bytes(series, kind, missing))
    return h.hexdigest()


def table_digest(df: pd.DataFrame) -> dict:
    """``{"rows", "sha256", "columns": {name: short digest}}`` of one table.

    A non-default index is hashed as leading columns (``reset_index``).
    """
    if not (isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1):
        df = df.reset_index()
    if not df.columns.is_unique:
        raise ValueError(f"duplicate column names: {df.columns[df.columns.duplicated()].tolist()}")
    full = {str(name): column_digest(str(name), df[name]) for name in df.columns}
    h = hashlib.sha256(len(df).to_bytes(8, "little"))
    for name, digest in full.items():
        h.update(name.encode("utf-8") + b"\0" + digest.encode())
    return {
        "rows": len(df),
        "sha256": h.hexdigest(),
        "columns": {name: digest[:COLUMN_DIGEST_CHARS] for name, digest in full.items()},
    }


def describe_change(table: str, expected: dict | None, actual: dict) -> list[str]:
    """Lines saying how a table's digest changed (empty if it did not)."""
    if expected is None:
        return [f"{table}: new table ({actual['rows']} rows)"]
    if expected["sha256"] == actual["sha256"]:
        return []
    lines = []
    if expected["rows"] != actual["rows"]:
        lines.append(f"{table}: rows {expected['rows']} -> {actual['rows']}")
    old, new = expected["columns"], actual["columns"]
    added = [c for c in new if c not in old]
    removed = [c for c in old if c not in new]
    changed = [c for c in new if c in old and old[c] != new[c]]
    if added:
        lines.append(f"{table}: columns added: {', '.join(added)}")
    if removed:
        lines.append(f"{table}: columns removed: {', '.join(removed)}")
    if changed and expected["rows"] == actual["rows"]:  # else every column differs
        lines.append(f"{table}: values changed in {len(changed)} column(s): {', '.join(changed)}")
    same = [c for c in new if c in old]
    if not (added or removed or changed) and same != [c for c in old if c in new]:
        lines.append(f"{table}: column order changed")
    return lines or [f"{table}: digest changed"]
