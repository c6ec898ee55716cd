"""What an unbillable line would have paid at the contract behind its primary reason.

An estimate, not a claim: each contract's payment model is offered the unbillable minutes
whose primary reason is its own (on days the contract is in effect and its rules in force),
with the contract's caps and budget left out (a cap that refused is itself the reason, and
recoverable revenue asks what the work is worth at the contract's rate). Minutes of a
participant-day (encounters) or member-month (monthly rates) the contract already paid for
are bundled into that payment, so they are estimated at nothing: the contract would not pay
again.
"""

from __future__ import annotations

import numpy as np

from casefund.allocate.models import pay
from casefund.allocate.offer import group_ids, offered
from casefund.allocate.status import LineStatus
from casefund.allocate.waterfall import Allocation
from casefund.engine.adjudication import Adjudication
from casefund.payers.terms import contract_parameters
from casefund.records.contracts import Caps, Contract
from casefund.rules.book import RuleBook

# Units whose payment covers a group of activities once, and the group they cover.
_ONCE_PER = {"encounter": "day", "member_month": "month"}


def estimate_unbilled(
    adjudication: Adjudication,
    contracts: list[Contract],
    allocation: Allocation,
    book: RuleBook,
    primary_contract: np.ndarray,
) -> np.ndarray:
    """Per allocation row, the estimated amount its primary contract would have paid (0 on
    billed rows and where no contract refused)."""
    out = np.zeros(len(allocation.contract))
    unbillable = allocation.contract == -1
    for position, contract in enumerate(contracts):
        mine = np.flatnonzero(unbillable & (primary_contract == position))
        days = adjudication.days[allocation.activity_row[mine]]
        # On a day the contract could not pay at all, its work is worth nothing to it.
        mine = mine[contract.effective.mask(days) & book.in_force(contract.program, days)]
        if len(mine) == 0:
            continue
        rows = allocation.activity_row[mine]
        recorded = np.nan_to_num(adjudication.array("amount"))
        uncapped = contract.model_copy(update={"caps": Caps()})
        offer = offered(adjudication, uncapped, rows, allocation.minutes[mine], recorded[rows])
        share = pay(offer, contract_parameters(book.parameters, contract), uncapped)
        estimate = np.where(share.status == LineStatus.BILLABLE, share.amount, 0.0)
        group = _ONCE_PER.get(contract.unit)
        if group is not None:
            estimate[_already_paid(adjudication, allocation, position, rows, group)] = 0.0
        out[mine] = np.round(estimate, 2)
    return out


def _already_paid(
    adjudication: Adjudication, allocation: Allocation, position: int, rows: np.ndarray, group: str
) -> np.ndarray:
    """Which of ``rows`` fall in a participant-day or -month the contract already paid."""
    period = adjudication.array("_day" if group == "day" else "_month_index")
    participant = adjudication.array("_code")
    paid_rows = allocation.activity_row[
        (allocation.contract == position) & (allocation.status == LineStatus.BILLABLE)
    ]
    both = np.concatenate([paid_rows, rows])
    groups = group_ids(participant[both], period[both])
    paid = np.zeros(int(groups.max()) + 1 if len(groups) else 0, dtype=bool)
    paid[groups[: len(paid_rows)]] = True
    result: np.ndarray = paid[groups[len(paid_rows) :]]
    return result
