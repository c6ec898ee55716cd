"""A row's participant code is the same whether a few ids are looked up in a dict (a live
post) or many through the index (a batch)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from casefund.facts import prepared as prepared_module
from casefund.facts.prepared import PreparedData
from casefund.io.load import as_dataset
from casefund.synthetic import Shape, demo_contracts, generate

_TABLES = generate(Shape(participants=12, months=1, seed=3, malformed_share=0.0))
_PREPARED = PreparedData.build(as_dataset(_TABLES, demo_contracts(), {}))
_IDS = sorted(_TABLES["participants"]["participant_id"].astype(str))
ids = st.sampled_from([*_IDS, "P999999", "p000001", " P000001", ""])


@settings(max_examples=120, deadline=None)
@given(st.lists(st.one_of(ids, st.none()), max_size=90))
def test_few_and_many_ids_get_the_same_codes(rows: list[str | None]) -> None:
    prepared = _PREPARED
    column = pd.Series(rows, dtype="string")
    by_dict = prepared.codes_for(column)
    few = prepared_module._FEW_IDS
    try:
        prepared_module._FEW_IDS = -1  # every lookup through the index
        by_index = prepared.codes_for(column)
    finally:
        prepared_module._FEW_IDS = few
    assert by_dict.tolist() == by_index.tolist()
    known = {p: i for i, p in enumerate(prepared.ids.astype(str))}
    assert by_dict.tolist() == [known.get(r, -1) if r is not None else -1 for r in rows]
