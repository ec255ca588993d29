"""The table digest depends on values, names and order, not on dtype widths or storage."""

import numpy as np
import pandas as pd

from tests.regression.digest import describe_change, table_digest


def _digest(**columns) -> str:
    return table_digest(pd.DataFrame(columns))["sha256"]


def test_same_values_same_digest_whatever_the_storage():
    text = ["a", "bc", None]
    assert _digest(x=pd.Series(text, dtype=object)) == _digest(x=pd.Series(text, dtype="string"))
    assert _digest(x=pd.Categorical(["b", "a", "b"], categories=["b", "a"])) == _digest(
        x=pd.Series(["b", "a", "b"], dtype=object)
    )
    assert _digest(x=np.array([1, 2], dtype=np.int16)) == _digest(
        x=np.array([1, 2], dtype=np.int64)
    )
    assert _digest(x=np.array([1.5, np.nan], dtype=np.float32)) == _digest(x=[1.5, -np.nan])
    assert _digest(x=[0.0, 1.0]) == _digest(x=[-0.0, 1.0])


def test_names_values_order_and_missing_count():
    base = _digest(x=[1.0, 2.0], y=["a", "b"])
    assert base != _digest(y=["a", "b"], x=[1.0, 2.0])
    assert base != _digest(z=[1.0, 2.0], y=["a", "b"])
    assert base != _digest(x=[1.0, 2.0 + 1e-15], y=["a", "b"])
    assert base != _digest(x=[1.0, 2.0], y=["b", "a"])
    assert _digest(x=["ab", "c"]) != _digest(x=["a", "bc"])
    assert _digest(x=[None, "a"]) != _digest(x=["", "a"])
    assert _digest(x=[1.0, np.nan]) != _digest(x=[1.0, 0.0])
    assert _digest(x=[1, 2]) != _digest(x=[1.0, 2.0])  # an int column that became float


def test_a_non_default_index_is_hashed():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    assert table_digest(df) != table_digest(df.set_axis(["a", "b"]))


def test_describe_change_names_the_columns():
    old = table_digest(pd.DataFrame({"x": [1.0], "y": [2.0]}))
    new = table_digest(pd.DataFrame({"x": [1.0], "y": [3.0], "z": [0]}))
    assert describe_change("leads", old, old) == []
    assert describe_change("leads", old, new) == [
        "leads: columns added: z",
        "leads: values changed in 1 column(s): y",
    ]
