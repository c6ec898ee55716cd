"""The Arrow CSV writer against pandas' ``to_csv``: the same bytes for every kind of column
outputs hold, and the same cells when read back."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from casefund.reports.csv_text import write_frame

TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t=é-')), max_size=6)


def _pandas_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def _written(frame: pd.DataFrame, tmp_path: Path) -> bytes:
    path = tmp_path / "out.csv"
    write_frame(frame, path)
    return path.read_bytes()


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    texts = draw(st.lists(st.one_of(st.none(), TEXT), min_size=n, max_size=n))
    floats = draw(
        st.lists(
            st.one_of(
                st.floats(allow_infinity=False, width=64),
                st.sampled_from([0.1, -0.0, 1e-5, 1e16, 0.30000000000000004]),
            ),
            min_size=n,
            max_size=n,
        )
    )
    ints = draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n))
    flags = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    maybe = draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n))
    columns = {
        "text": pd.Series(texts, dtype=object),
        "arrow text": pd.Series(texts, dtype="str"),
        "category": pd.Categorical(texts),
        "amount": np.array(floats, dtype=np.float64),
        "minutes": np.array(ints, dtype=np.int64),
        "primary": np.array(flags, dtype=bool),
        "eligible": pd.array(maybe, dtype="boolean"),
        "count": pd.array(
            [None if m is None else i for m, i in zip(maybe, ints, strict=True)], dtype="Int64"
        ),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(columns)), min_size=1, max_size=8, unique=True))
    return pd.DataFrame({name: columns[name] for name in chosen})


@settings(max_examples=150, deadline=None)
@given(frame=frames())
def test_the_same_bytes_as_pandas(frame: pd.DataFrame, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    written = _written(frame, tmp_path_factory.mktemp("csv"))
    # A carriage return inside a cell is quoted like a line feed (Python 3.13's csv module
    # does so too; 3.11 and 3.12 wrote it bare, which readers take for a line end), so the
    # oracle is pandas on the frame with each carriage return read as a line feed.
    as_line_feeds = frame.apply(
        lambda c: c.str.replace("\r", "\n") if c.dtype == object or c.dtype == "str" else c
    )
    if "category" in frame:
        as_line_feeds["category"] = pd.Categorical(
            frame["category"].astype(object).str.replace("\r", "\n")
        )
    assert written.replace(b"\r", b"\n") == _pandas_bytes(as_line_feeds)


def test_a_carriage_return_inside_a_cell_is_quoted(tmp_path: Path) -> None:
    """Regression: written bare, ``a\\rb`` read back as two rows in pandas' C parser."""
    frame = pd.DataFrame({"activity_id": ["a\rb", "c"], "minutes": [1, 2]})
    written = _written(frame, tmp_path)
    assert written == b'activity_id,minutes\n"a\rb",1\nc,2\n'
    back = pd.read_csv(io.BytesIO(written), dtype=str, keep_default_na=False)
    assert back["activity_id"].tolist() == ["a\rb", "c"]


def test_other_columns_are_written_by_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame({"when": pd.to_datetime(["2024-01-02", None]), "n": [1, 2]})
    assert _written(frame, tmp_path) == _pandas_bytes(frame)


def test_a_lone_empty_column_keeps_its_rows(tmp_path: Path) -> None:
    frame = pd.DataFrame({"note": ["", "x", None]})
    assert _written(frame, tmp_path) == _pandas_bytes(frame) == b'note\n""\nx\n""\n'


def test_large_frames_are_written_in_blocks(tmp_path: Path) -> None:
    n = 600_000
    frame = pd.DataFrame(
        {"id": pd.Categorical.from_codes(np.arange(n) % 7, list("abcdefg")), "m": np.arange(n)}
    )
    assert _written(frame, tmp_path) == _pandas_bytes(frame)
