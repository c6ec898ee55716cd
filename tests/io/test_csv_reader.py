"""The Arrow CSV reader against pandas' parser: the same frame, or the same refusal, for
whatever bytes a table file holds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casefund.io.sources import read_csv_text

CELL = st.text(alphabet=st.sampled_from(list("ab 1é,\r\n\t\x0b\x0c")), max_size=4)


def _pandas(path: Path) -> pd.DataFrame | str:
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True
        )
    except Exception as exc:  # the kind of failure is what is compared
        return type(exc).__name__


def _ours(path: Path) -> pd.DataFrame | str:
    try:
        return read_csv_text(path)
    except Exception as exc:
        return type(exc).__name__


def _same(path: Path) -> None:
    expected, got = _pandas(path), _ours(path)
    if isinstance(expected, str) or isinstance(got, str):
        assert got == expected
        return
    pd.testing.assert_frame_equal(got, expected)


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    width = draw(st.integers(1, 4))
    header = draw(
        st.lists(st.text(alphabet="abc ", min_size=1, max_size=3), min_size=width, max_size=width)
    )
    rows = draw(st.lists(st.lists(CELL, min_size=1, max_size=5), max_size=6))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    text = bom + ",".join(header) + ending + "".join(",".join(r) + ending for r in rows)
    return text.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(data=csv_bytes())
def test_the_same_frame_as_pandas(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    path.write_bytes(data)
    _same(path)


@pytest.mark.parametrize(
    "data",
    [
        b"a,b\n1,2\n",
        b"\xef\xbb\xbfa,b\r\n1, 2\r\n",
        b"a, b\n  x,y\n",
        b'a,b\n" x",y\n',  # quoted: read by pandas (spaces inside quotes kept)
        b"a,b\n1,2,3\n",  # too many cells
        b"a,b\n1\n",  # too few
        b"a,a\n1,2\n",  # a repeated header (refused earlier by check_header)
        b"a,\n1,2\n",  # a blank header cell
        b"a,b\n\xff,1\n",  # not UTF-8
        b"a,b\n",
    ],
)
def test_edge_files_read_as_pandas_reads_them(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(data)
    _same(path)
