"""Denials: which contract refused which minutes of an activity, and by which rule — and the
one reason per unbillable line a biller would act on.

The waterfall logs every refusal as it walks the contracts (rule denials, a contract not in
effect, a cap or unit policy that stopped part of an activity), with the minutes that
contract was offered and did not take. The primary reason of a line left unbillable is
chosen from that log, contract first, then rule:

1. **Contract.** The contract the worker recorded on the activity (``activities.contract_id``)
   when it refused the activity. Otherwise, in waterfall order within each tier:
   a contract whose program the participant is enrolled in on that date (it refused for a
   substantive reason, with no enrollment, authorization or recertification missing); then
   one whose enrollment the participant has on record at other dates but not this one (a
   lapse or gap the agency can close); then a contract of a program that enrolls nobody
   (a grant, whose refusal is about the work, not the person); then one of a program the
   participant never had (so a person in no program is told so, by the first program that
   could have paid, and an explanation names them all); last, contracts that could not pay
   on that date at all (not in effect, rules not in force).
2. **Rule**, within that contract, the most fundamental refusal: the contract could not pay
   on that date; then a rule that names the case and excludes it ("deny": transportation
   is not case management, a second housing deposit); then the person or the service does
   not qualify (a "require" not met on known facts: not one of the covered components);
   then a limit, unit policy or payment term; and only then what the agency could
   fix, the most fundamental first — an enrollment or authorization, a recertification, a
   field to correct or a fact not known (often a consequence of the first). So a line
   is called fixable only when every barrier at its primary contract is one the agency can
   remove (a conservative reading: recoverable revenue is never overstated by a fixable
   reason hiding a substantive one). Ties go to the rule id, for determinism.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from casefund.engine.adjudication import Adjudication
from casefund.engine.reasons import ReasonBits
from casefund.records.contracts import Contract
from casefund.rules.book import RuleBook

# Rank of a refusal within its contract (lower: more fundamental, chosen first).
CANNOT_PAY, EXCLUDED, DOES_NOT_QUALIFY, LIMIT, ENROLL, RECERTIFY, DOCUMENT = range(7)
_REMEDY_RANK = {"document": DOCUMENT, "recertify": RECERTIFY, "enroll": ENROLL}
# Tier of a contract for a line (lower: preferred).
RECORDED, ENROLLED, LAPSED, OPEN, NEVER, NOT_PAYING = range(6)


_ROW = np.int32  # activity rows of one adjudication (partitions hold far fewer than 2**31)


@dataclass
class DenialLog:
    """Refusals as the waterfall records them: activity row, contract position, reason code
    (into ``ids``), minutes refused, and whether a fact the rule reads was not known."""

    ids: list[str]
    enabled: bool = True  # off where only the payments are wanted (settling budgets)
    rows: list[np.ndarray] = field(default_factory=list)
    contracts: list[int] = field(default_factory=list)
    reasons: list[int] = field(default_factory=list)
    minutes: list[np.ndarray] = field(default_factory=list)
    unknown: list[np.ndarray] = field(default_factory=list)

    def add(
        self,
        rows: np.ndarray,
        contract: int,
        reason: int,
        minutes: np.ndarray,
        unknown: np.ndarray | None,
    ) -> None:
        if len(rows) == 0 or not self.enabled:
            return
        if len(rows) > 1 and not bool(np.all(rows[1:] > rows[:-1])):
            raise ValueError("a denial chunk's rows must be distinct and in order")
        self.rows.append(rows)
        self.contracts.append(contract)
        self.reasons.append(reason)
        self.minutes.append(minutes)
        self.unknown.append(np.zeros(len(rows), dtype=bool) if unknown is None else unknown)

    def denials(self) -> Denials:
        """The log as aligned arrays, one entry per (row, contract, reason), in activity,
        contract and reason order."""
        if not self.rows:
            empty = np.zeros(0, dtype=np.int64)
            return Denials(self.ids, empty, empty, empty, empty, np.zeros(0, dtype=bool))
        # A stable counting sort by row, chunk by chunk: the chunks are visited in
        # (contract, reason) order, keeping the log's order among equal ones, and each chunk
        # holds distinct rows, so every entry's place is its row's start plus the entries of
        # that row already placed. No comparison sort and no gather over the whole log.
        chunks = sorted(range(len(self.rows)), key=lambda k: (self.contracts[k], self.reasons[k]))
        size = max(int(r[-1]) for r in self.rows) + 1
        if size >= np.iinfo(_ROW).max:
            raise OverflowError("more activity rows than one denial log holds; use partitions")
        counts = np.zeros(size, dtype=np.int64)
        for rows in self.rows:
            counts[rows] += 1
        fill = np.cumsum(counts) - counts
        total = int(counts.sum())
        # Narrow integers: the log is the largest thing an evaluation holds (13 entries an
        # activity), and its passes are bound by memory traffic.
        # A chunk's contract and reason are one value each: each entry's chunk is written
        # (16 bits), and the two are read from the chunks' own short lists after.
        out_rows = np.empty(total, dtype=_ROW)
        chunk = np.empty(total, dtype=np.int16 if len(chunks) < 2**15 else np.int32)
        minutes = np.empty(total, dtype=np.int32)
        unknown = np.empty(total, dtype=bool)
        for k in chunks:
            rows = self.rows[k]
            at = fill[rows]
            fill[rows] += 1
            out_rows[at] = rows
            chunk[at] = k
            minutes[at] = self.minutes[k]
            unknown[at] = self.unknown[k]
        contract = np.asarray(self.contracts, dtype=np.int16)[chunk]
        reason = np.asarray(self.reasons, dtype=np.int32)[chunk]
        # Of repeated (row, contract, reason) entries the first logged is kept.
        repeated = (
            (out_rows[1:] == out_rows[:-1])
            & (contract[1:] == contract[:-1])
            & (reason[1:] == reason[:-1])
        )
        if repeated.any():
            keep = np.r_[True, ~repeated]
            out_rows, contract, reason = out_rows[keep], contract[keep], reason[keep]
            minutes, unknown = minutes[keep], unknown[keep]
        return Denials(self.ids, out_rows, contract, reason, minutes, unknown)


@dataclass
class Denials:
    ids: list[str]
    rows: np.ndarray
    contract: np.ndarray
    reason: np.ndarray
    minutes: np.ndarray
    unknown: np.ndarray
    primary: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    tier: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.rows)


def refusal_ranks(book: RuleBook, ids: list[str]) -> np.ndarray:
    """Each reason id's rank within a contract (see the module's docstring)."""
    entries = book.reason_entries()
    ranks = np.full(len(ids), LIMIT, dtype=np.int8)
    for code, rule_id in enumerate(ids):
        entry = entries.get(rule_id)
        if entry is None:
            continue
        if entry.fix is not None:
            ranks[code] = _REMEDY_RANK[entry.fix.remedy]
        elif entry.kind == "contract":
            ranks[code] = CANNOT_PAY
        elif entry.decision == "deny":
            ranks[code] = EXCLUDED
        elif entry.kind in ("eligibility", "coverage"):
            ranks[code] = DOES_NOT_QUALIFY
    return ranks


def ever_had(
    denials: Denials, book: RuleBook, adjudication: Adjudication, contracts: list[Contract]
) -> np.ndarray:
    """Per denial, whether the participant has the enrollment the refusing rule asks for at
    some date (any span of the program it reads, with the contract's payer where the rule
    is payer-bound). True for refusals that ask for no enrollment."""
    out = np.ones(len(denials), dtype=bool)
    entries = book.reason_entries()
    asked: dict[int, list[tuple[str, tuple[Any, ...], tuple[Any, ...]]]] = {}
    for code, rule_id in enumerate(denials.ids):
        entry, rule = entries.get(rule_id), book.rule(rule_id)
        if entry is None or entry.fix is None or entry.fix.remedy != "enroll" or rule is None:
            continue
        calls = [c for c in rule.condition.calls() if c[0] == "enrolled" and c[1]]
        if calls:
            asked[code] = calls
    if not asked or len(denials) == 0:
        return out
    marked = np.zeros(len(denials.ids) + 1, dtype=bool)
    marked[list(asked)] = True
    at = np.flatnonzero(marked[denials.reason])
    if len(at) == 0:
        return out
    # The refusals asking for an enrollment, by (rule, contract): each pair's participants
    # who ever had the enrollment, as one row of a table, read at every refusal by (pair,
    # participant) — no sort of the refusals.
    width = int(denials.contract.max()) + 1
    group = denials.reason[at].astype(np.int64) * width + denials.contract[at]
    participant = adjudication.array("_code")[denials.rows[at]]
    data = adjudication.activity_scope.data
    present = np.flatnonzero(np.bincount(group))
    slot = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    slot[present] = np.arange(len(present))
    had = np.zeros((len(present), int(participant.max()) + 1), dtype=bool)
    for row, key in enumerate(present.tolist()):
        code, position = divmod(key, width)
        payer = contracts[position].coverage_payer
        for _name, args, kwargs in asked[code]:
            spans = data.spans(str(args[0]), payer if dict(kwargs).get("payer") else None)
            known = np.asarray(spans.codes, dtype=np.int64)
            had[row, known[(known >= 0) & (known < had.shape[1])]] = True
    out[at] = had[slot[group], participant]
    return out


def needs_enrollment(book: RuleBook, contracts: list[Contract]) -> np.ndarray:
    """Per contract, whether its program enrolls people: some rule of it refuses for want of
    an enrollment, authorization or determination on record."""
    return np.array(
        [
            any(
                r.rule.fix is not None and r.rule.fix.remedy in ("enroll", "recertify")
                for r in book.program_rules(c.program)
            )
            for c in contracts
        ],
        dtype=bool,
    )


def line_reasons(
    denials: Denials, rows: np.ndarray, include: np.ndarray, empty: str
) -> pd.Categorical:
    """For each activity row asked, the ';'-joined ids of the refusals of it that
    ``include`` marks (``empty`` where none)."""
    bits = ReasonBits([*denials.ids, empty], len(rows))
    matrix = bits.empty()
    position = np.full(
        int(max(rows.max(initial=-1), denials.rows.max(initial=-1))) + 1, -1, dtype=np.int64
    )
    position[rows] = np.arange(len(rows))
    line = position[denials.rows] if len(denials) else np.zeros(0, dtype=np.int64)
    at = np.flatnonzero(include & (line >= 0))
    if len(at):
        # Denials are in row order, so each line's refusals are one run: OR their bits
        # per run, a word at a time (no pass over the log per reason).
        lines = line[at]
        bit = np.array([bits.position[i] for i in denials.ids], dtype=np.int64)[denials.reason[at]]
        starts = np.flatnonzero(np.r_[True, lines[1:] != lines[:-1]])
        for word in range(bits.words):
            shifted = np.left_shift(np.uint64(1), (bit % 64).astype(np.uint64))
            values = np.where(bit // 64 == word, shifted, np.uint64(0))
            matrix[lines[starts], word] = np.bitwise_or.reduceat(values, starts)
    nothing = ~np.asarray(matrix.any(axis=1), dtype=bool)
    bits.set(matrix, empty, nothing)
    return bits.decode(matrix)


def best_tier(denials: Denials) -> np.ndarray:
    """Per denial, whether its contract is in the tier the row's primary reason came from:
    the contracts equally placed to pay the activity (see the module's docstring)."""
    if len(denials) == 0:
        return np.zeros(0, dtype=bool)
    # Denials are in row order: the best tier of each row's run, repeated over the run.
    rows = denials.rows
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    best = np.minimum.reduceat(denials.tier, starts)
    result: np.ndarray = denials.tier == np.repeat(best, np.diff(np.r_[starts, len(rows)]))
    return result


def choose_primary(
    denials: Denials,
    book: RuleBook,
    leftover: np.ndarray,
    recorded: np.ndarray,
    ever: np.ndarray,
    needs_enrollment: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The primary denial of each row in ``leftover`` (index into ``denials``, −1 where no
    contract refused it) and the primary flag on ``denials``. ``recorded``: per activity row,
    the position of the contract the worker recorded (−1: none); ``ever``: per denial, from
    :func:`ever_had`; ``needs_enrollment``: per contract position, whether its program
    enrolls people (has rules that refuse for want of an enrollment)."""
    n = len(denials)
    rank = refusal_ranks(book, denials.ids)[denials.reason] if n else np.zeros(0, np.int8)
    # A rule that denied for want of a known fact is fixable by recording it.
    rank = np.where(denials.unknown & (rank < ENROLL), DOCUMENT, rank)
    # Per (row, contract) pair — runs of the denials, which are in row and contract order —
    # whether the contract could not pay at all, or asked for an enrollment or
    # determination missing (one the participant never had, or had at other dates).
    # Each denial's three flags in one byte, ORed over its pair by one reduction; the
    # pair's tier is then spread back over its denials by the pair each denial is in (a
    # gather: np.repeat over millions of short runs costs several times as much).
    row_change, pair_change = _changes(denials.rows, denials.contract)
    starts = np.flatnonzero(pair_change)
    asks = (rank == ENROLL) | (rank == RECERTIFY)
    flags = (rank == CANNOT_PAY).view(np.uint8) << 2
    flags |= (asks & ~ever).view(np.uint8) << 1
    flags |= asks.view(np.uint8)
    pair_flags = np.bitwise_or.reduceat(flags, starts) if n else flags
    enrolled = np.where(needs_enrollment, ENROLLED, OPEN).astype(np.int8)
    pair_tier = enrolled[denials.contract[starts]] if n else np.zeros(0, np.int8)
    # Later assignments win: could not pay at all, then never had, then lapsed.
    pair_tier[(pair_flags & 1) > 0] = LAPSED
    pair_tier[(pair_flags & 2) > 0] = NEVER
    pair_tier[(pair_flags & 4) > 0] = NOT_PAYING
    tier = pair_tier[_run_index(pair_change)] if n else np.zeros(0, np.int8)
    if (recorded >= 0).any():
        tier = np.where(recorded[denials.rows] == denials.contract, RECORDED, tier)
    asked = np.zeros(
        max(int(leftover.max(initial=-1)), int(denials.rows.max(initial=-1))) + 1, bool
    )
    asked[leftover] = True
    wanted = asked[denials.rows]
    # Denials are in row order: each asked row's primary is the least of its denials by
    # (tier, contract position, rank, reason code) — one integer built in place, 32 bits
    # wide whenever the four fit (the passes over the log are bound by memory traffic) —
    # found by a minimum per run of the row.
    contracts = int(denials.contract.max(initial=0)) + 1
    widest = (NOT_PAYING + 1) * contracts * (DOCUMENT + 1) * (len(denials.ids) + 1)
    wide = np.int32 if widest < np.iinfo(np.int32).max else np.int64
    key = tier.astype(wide)
    key *= contracts
    key += denials.contract
    key *= DOCUMENT + 1
    key += rank
    key *= len(denials.ids) + 1
    key += denials.reason
    key[~wanted] = np.iinfo(wide).max
    if n:
        least = np.minimum.reduceat(key, np.flatnonzero(row_change))
        first = np.flatnonzero((key == least[_run_index(row_change)]) & wanted)
    else:
        first = np.zeros(0, dtype=np.int64)
    primary = np.zeros(n, dtype=bool)
    primary[first] = True
    denials.primary, denials.tier = primary, tier
    chosen = np.full(int(leftover.max()) + 1 if len(leftover) else 0, -1, dtype=np.int64)
    chosen[denials.rows[first]] = first
    return chosen[leftover] if len(leftover) else np.zeros(0, np.int64), primary


def _changes(rows: np.ndarray, contract: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a new row's run of denials starts, and where a new (row, contract) pair's does
    (denials in row and contract order)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    row_change = np.r_[True, rows[1:] != rows[:-1]]
    pair_change = row_change.copy()
    pair_change[1:] |= contract[1:] != contract[:-1]
    return row_change, pair_change


def _run_index(change: np.ndarray) -> np.ndarray:
    """Each entry's run number (runs start where ``change`` is true), in 32 bits: the log
    has tens of millions of entries, and a 64-bit index costs twice the memory traffic."""
    index: np.ndarray = np.cumsum(change, dtype=np.int32 if len(change) < 2**31 else np.int64)
    np.subtract(index, 1, out=index)
    return index
