"""The Arrow CSV reader against pandas' parser: the same frame, or the same refusal, for
whatever bytes a table file holds."""

from __future__ import annotations

import re
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


def _same(path: Path, as_pandas_reads_it: Path | None = None) -> None:
    expected, got = _pandas(as_pandas_reads_it or path), _ours(path)
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


# A lone carriage return ends a line for both parsers, but pandas' parser misreads the
# line after an empty one ended that way: it drops a row of empty cells ("…\n\r,\n") and
# shifts a row that opens with an empty cell ("…\n\r,1" reads as "1,"). casefund's reader
# keeps the row as written (Arrow, or pandas given the lone carriage return as a line feed),
# so validation sees it rather than losing or misplacing it. pandas is therefore asked about
# the same file with each lone carriage return written as a line feed -- the same lines, in
# the form its parser reads correctly. (The generated files have no quotes.)
LONE_CARRIAGE_RETURN = re.compile(rb"\r(?!\n)")


def _lone_returns_as_line_feeds(data: bytes) -> bytes:
    return LONE_CARRIAGE_RETURN.sub(b"\n", data)


@settings(max_examples=300, deadline=None)
@given(data=csv_bytes())
def test_the_same_frame_as_pandas(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("csv")
    ours, theirs = folder / "table.csv", folder / "as_line_feeds.csv"
    ours.write_bytes(data)
    theirs.write_bytes(_lone_returns_as_line_feeds(data))
    _same(ours, theirs)


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"a,aa\n\r,\n", [["", ""]]),
        (b"a,aa\r\n\r\r,", [["", ""]]),
        (b"a,aa\n\n\r,\r\n", [["", ""]]),
        (b"a,aa\n\r,1\n", [["", "1"]]),  # CI, session 9: pandas reads ["1", ""]
        (b"a,aa\n\r,1,2\n", None),  # too many cells: read through pandas, not shifted
    ],
)
def test_regression_a_row_after_a_lone_carriage_return_is_kept_as_written(
    data: bytes, rows: list[list[str]] | None, tmp_path: Path
) -> None:
    """Regression (found by the differential test in CI): pandas drops or shifts the row
    after an empty line ended by a lone carriage return; it is kept as written, so
    validation can refuse it into rejects rather than lose or misplace it."""
    path = tmp_path / "table.csv"
    path.write_bytes(data)
    if rows is None:
        theirs = tmp_path / "as_line_feeds.csv"
        theirs.write_bytes(_lone_returns_as_line_feeds(data))
        _same(path, theirs)
        return
    assert read_csv_text(path).values.tolist() == rows


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
