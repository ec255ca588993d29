"""Lead tables in memory and on disk: the log taken without a copy, parquet in row groups."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.config.scenario import STAGES, Scenario
from sim.files import tables
from sim.model.leads import generate_leads
from sim.model.records import LeadLog, leads_frame


def test_the_lead_table_is_made_of_the_log_columns_without_a_copy():
    sc = Scenario.from_file("scenarios/baseline.toml")
    leads = generate_leads(sc, np.random.default_rng(1))
    log = LeadLog(len(leads))
    log.end_day[3] = 12.5
    log.handler[STAGES[0]][3] = 7
    df = leads_frame(log, leads, "conveyor", 0, 1, (0.0, 365.0))
    assert df.loc[3, "end_day"] == 12.5 and df.loc[3, "prospecting_handler"] == 7
    for column, array in (
        ("end_day", log.end_day),
        ("prospecting_handler", log.handler[STAGES[0]]),
        ("pod", log.pod),
        ("referred_by", log.referred_by),
    ):
        assert np.shares_memory(df[column].to_numpy(), np.asarray(array)), column
    assert df["prospecting_handler"].dtype == np.int32 and df["pod"].dtype == np.int16


def test_parquet_is_written_in_row_groups_and_reads_back_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", 4)
    df = pd.DataFrame(
        {
            "structure": pd.Categorical(["pods"] * 10, categories=["pods", "allin"]),
            "day": np.arange(10, dtype=float) / 4,
            "gap": [np.nan, 1.0] * 5,
            "rep": np.arange(10, dtype=np.int32),
        }
    )
    path = tmp_path / "t.parquet"
    tables.write_parquet(df, path, {"seed": 3})
    meta = pq.ParquetFile(path)
    assert meta.metadata.num_row_groups == 3  # 4 + 4 + 2 rows
    assert meta.schema_arrow.metadata[b"salesim"] == b'{"seed": 3}'
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)
    empty = df.iloc[:0]
    tables.write_parquet(empty, path, {})
    assert len(pd.read_parquet(path)) == 0
