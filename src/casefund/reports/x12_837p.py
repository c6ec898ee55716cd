"""ASC X12 837 Professional (005010X222A1) claims from casefund's claim lines.

One claim (CLM) per participant, contract and month; one service line (SV1) per claim row
with its HCPCS code and modifiers, units, charge and service date (DTP*472, a date range for
monthly payments). Segments are written by a small writer here; pyx12 validates the result
in the tests. Identifiers come from the contract's ``billing`` block and the participants'
optional claim columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from casefund.errors import InputError
from casefund.records.contracts import Billing, Contract
from casefund.reports.claim_rows import coded_claims
from casefund.reports.outputs import Evaluation

DELIMITERS = ("~", "*", ":", "^")


@dataclass
class Interchange:
    segments: list[list[str]] = field(default_factory=list)

    def add(self, *elements: object) -> None:
        self.segments.append([_clean(e) for e in elements])

    def text(self) -> str:
        """The interchange, after checking that no element holds a delimiter: a value that
        did would end its element or segment and start one of the writer's choosing."""
        for segment in self.segments[1:]:  # ISA carries the separators themselves
            for element in segment:
                parts = element.split(":") if isinstance(element, _Composite) else [element]
                if any(d in part for part in parts for d in DELIMITERS) or any(
                    ord(ch) < 32 for ch in element
                ):
                    raise InputError(
                        f"837P segment {segment[0]}: element '{element}' holds an "
                        "X12 delimiter or control character; refused"
                    )
        return "".join("*".join(s).rstrip("*") + "~\n" for s in self.segments)


def _clean(value: object) -> str:
    if isinstance(value, _Composite):
        return value
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    # Free text (names, addresses) may carry a delimiter; it becomes a space. Codes were
    # refused at validation if they had one, and text() checks every element again.
    for delimiter in DELIMITERS:
        text = text.replace(delimiter, " ")
    return "".join(ch for ch in text if ord(ch) >= 32).upper()


class _Composite(str):
    """An element made of components joined by ':'; each component is checked, never
    changed (a code with a delimiter in it is refused, not silently rewritten)."""

    @classmethod
    def of(cls, *components: str) -> _Composite:
        for component in components:
            if any(d in component for d in DELIMITERS) or any(ord(c) < 32 for c in component):
                raise InputError(
                    f"837P: the code '{component}' holds an X12 delimiter or "
                    "control character; refused"
                )
        return cls(":".join(components))


def _money(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value)}"


def _units(value: float) -> str:
    return f"{value:g}"


def build_837p(
    evaluation: Evaluation,
    contract_id: str,
    control: int = 1,
    created: dt.datetime | None = None,
) -> str:
    """The 837P interchange for one contract's billable claims."""
    assert evaluation.dataset is not None
    contracts = {c.id: c for c in evaluation.dataset.contracts}
    if contract_id not in contracts:
        raise InputError(f"contract '{contract_id}' is not in contracts.yaml")
    contract = contracts[contract_id]
    if contract.billing is None:
        raise InputError(f"contract '{contract_id}': key 'billing' is needed to write an 837P")
    billing = contract.billing
    claims = coded_claims(evaluation, contract_id, "837P")
    people = evaluation.dataset.participants.set_index(
        evaluation.dataset.participants["participant_id"].astype(str)
    )
    now = created or dt.datetime(2000, 1, 1)
    x = Interchange()
    _envelope_open(x, billing, control, now)
    hl = 1
    x.add("HL", hl, "", "20", "1")
    x.add("NM1", "85", "2", billing.provider_name, "", "", "", "", "XX", billing.provider_npi)
    x.add("N3", billing.address)
    x.add("N4", billing.city, billing.state, billing.zip)
    x.add("REF", "EI", billing.tax_id)
    for (participant, month), rows in claims.groupby(["participant_id", "month"], sort=True):
        person = people.loc[str(participant)]
        assert isinstance(person, pd.Series)  # participant ids are unique after validation
        hl += 1
        _subscriber(x, hl, billing, contract, person, str(participant))
        _claim(x, billing, contract, person, str(participant), str(month), rows)
    _envelope_close(x, control)
    return x.text()


def _envelope_open(x: Interchange, billing: Billing, control: int, now: dt.datetime) -> None:
    x.segments.append(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            billing.submitter_id.ljust(15),
            "ZZ",
            billing.receiver_id.ljust(15),
            now.strftime("%y%m%d"),
            now.strftime("%H%M"),
            "^",
            "00501",
            f"{control:09d}",
            "0",
            "P",
            ":",
        ]
    )
    x.add(
        "GS",
        "HC",
        billing.submitter_id,
        billing.receiver_id,
        now.strftime("%Y%m%d"),
        now.strftime("%H%M"),
        control,
        "X",
        "005010X222A1",
    )
    x.add("ST", "837", "0001", "005010X222A1")
    x.add("BHT", "0019", "00", f"CF{control}", now.strftime("%Y%m%d"), now.strftime("%H%M"), "CH")
    x.add("NM1", "41", "2", billing.submitter_name, "", "", "", "", "46", billing.submitter_id)
    x.add("PER", "IC", billing.contact_name, "TE", billing.contact_phone)
    x.add("NM1", "40", "2", billing.receiver_name, "", "", "", "", "46", billing.receiver_id)


def _envelope_close(x: Interchange, control: int) -> None:
    st = next(i for i, s in enumerate(x.segments) if s[0] == "ST")
    x.add("SE", len(x.segments) - st + 1, "0001")  # ST through SE inclusive
    x.add("GE", "1", control)
    x.add("IEA", "1", f"{control:09d}")


def _value(person: pd.Series, column: str, default: str) -> str:
    value = person.get(column)
    return default if value is None or pd.isna(value) or str(value) == "" else str(value)


def _subscriber(
    x: Interchange,
    hl: int,
    billing: Billing,
    contract: Contract,
    person: pd.Series,
    participant: str,
) -> None:
    x.add("HL", hl, "1", "22", "0")
    x.add("SBR", "P", "18", "", "", "", "", "", "", billing.claim_filing)
    x.add(
        "NM1",
        "IL",
        "1",
        _value(person, "last_name", "UNKNOWN"),
        _value(person, "first_name", "UNKNOWN"),
        "",
        "",
        "",
        "MI",
        _value(person, "member_id", participant),
    )
    if _value(person, "address", ""):
        x.add("N3", _value(person, "address", ""))
        x.add(
            "N4",
            _value(person, "city", billing.city),
            billing.state,
            _value(person, "zip", billing.zip),
        )
    birth = person.get("birth_date")
    if birth is not None and not pd.isna(birth):
        x.add(
            "DMG",
            "D8",
            pd.Timestamp(birth).strftime("%Y%m%d"),
            _value(person, "gender", "u").upper(),
        )
    x.add("NM1", "PR", "2", contract.payer, "", "", "", "", "PI", billing.payer_code)


def _claim(
    x: Interchange,
    billing: Billing,
    contract: Contract,
    person: pd.Series,
    participant: str,
    month: str,
    rows: pd.DataFrame,
) -> None:
    diagnosis = _value(person, "diagnosis", billing.default_diagnosis or "")
    if not diagnosis:
        raise InputError(
            f"participant '{participant}': no diagnosis for the claim (give "
            "participants.diagnosis or the contract's billing.default_diagnosis)"
        )
    total = float(np.asarray(rows["amount"], dtype=float).sum())
    claim_id = f"{contract.id}-{participant}-{month}"[:38]
    x.add(
        "CLM",
        claim_id,
        _money(total),
        "",
        "",
        _Composite.of(billing.place_of_service, "B", "1"),
        "Y",
        "A",
        "Y",
        "Y",
    )
    x.add("HI", _Composite.of("ABK", diagnosis.replace(".", "").upper()))
    first = pd.Timestamp(f"{month}-01")
    last = first + pd.offsets.MonthEnd(0)
    for number, row in enumerate(rows.itertuples(index=False), start=1):  # a claim's lines
        code = [str(row.procedure_code)] + [m for m in str(row.modifiers or "").split(";") if m]
        x.add("LX", number)
        x.add(
            "SV1",
            _Composite.of("HC", *(c.upper() for c in code[:5])),
            _money(float(str(row.amount))),
            "UN",
            _units(float(str(row.units))),
            "",
            "",
            "1",
        )
        if str(row.service_date):
            x.add("DTP", "472", "D8", pd.Timestamp(str(row.service_date)).strftime("%Y%m%d"))
        else:
            x.add("DTP", "472", "RD8", f"{first:%Y%m%d}-{last:%Y%m%d}")
