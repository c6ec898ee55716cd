"""The claim rows of one contract for a claim file (837P, FHIR), checked before writing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from casefund.errors import InputError
from casefund.reports.outputs import Evaluation


def coded_claims(evaluation: Evaluation, contract_id: str, form: str) -> pd.DataFrame:
    """One contract's claim rows for a claim file whose every service line needs a
    procedure code (837P, FHIR): none, or rows without a code (a contract paid without
    codes, such as a grant), are an error naming the contract, never an empty code."""
    claims = evaluation.table("claims")
    mine = claims.loc[(claims["contract_id"].astype(str) == contract_id).to_numpy(dtype=bool)]
    if mine.empty:
        raise InputError(f"contract '{contract_id}' has no billable claims to write")
    code = mine["procedure_code"].astype(object).fillna("").astype(str).str.strip()
    uncoded = int(np.count_nonzero(code.to_numpy() == ""))
    if uncoded:
        raise InputError(
            f"contract '{contract_id}': {uncoded:,} of its {len(mine):,} claim rows have no "
            f"procedure code (the contract pays without codes, as a grant does), and every "
            f"{form} service line needs one; write its claims with --format invoice, or give "
            "the contract's rules a code for these activities"
        )
    return mine
