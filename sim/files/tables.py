"""Tables and documents on disk: parquet with the run's provenance, JSON without NaN.

A parquet file that leaves salesim carries in its metadata where it came
from (package version, seed, the resolved scenario), like a lab sample's
label, so a table found months later still says how it was made.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def json_safe(value: Any) -> Any:
    """JSON-safe: NaN becomes null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


ROW_GROUP_ROWS = 16_384
"""Rows converted to Arrow and written at a time (a row group of the file)."""


def write_parquet(df: pd.DataFrame, path: Path, provenance: dict[str, Any]) -> None:
    """Write a table with the run's provenance in the parquet file's metadata.

    The table goes to Arrow and to the file one row group of
    ``ROW_GROUP_ROWS`` rows at a time: converted whole, a million-lead table
    would sit in memory twice (as pandas and as Arrow) while it is written.
    """
    schema = pa.Schema.from_pandas(df, preserve_index=False)
    metadata = dict(schema.metadata or {})
    metadata[b"salesim"] = json.dumps(provenance, sort_keys=True).encode()
    schema = schema.with_metadata(metadata)
    with pq.ParquetWriter(path, schema) as writer:
        for first in range(0, max(len(df), 1), ROW_GROUP_ROWS):
            part = df.iloc[first : first + ROW_GROUP_ROWS]
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
