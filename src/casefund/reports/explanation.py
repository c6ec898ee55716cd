"""Why an activity's minutes went where they went: an explanation fit for an audit.

Built only from what a run wrote — the activity's lines and denials, the reason catalog and
the contracts' terms — so it never re-evaluates and can never disagree with the outputs, and
it reads the same from an evaluation in memory as from an output folder on disk. For each
contract that billed or refused the activity it shows the decision, every rule or outcome
that decided (reason, citation, dates, what the agency could fix) and every parameter value
those rules and the payment read, with where the value came from.

The records are plain text rows, as the CSV files hold them, so that explaining from a
folder needs neither pandas nor the rule book.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from casefund.records.payment_models import PAYMENT_MODELS

MAX_LINES = 20
Row = dict[str, str]


@dataclass
class ActivityRecords:
    """What a run wrote about one activity, as text rows."""

    activity_id: str
    lines: list[Row]
    denials: list[Row]
    reasons: dict[str, Row]  # the catalog, by rule id
    terms: list[Row]
    version: str
    rules_hash: str
    notes: list[str] = field(default_factory=list)


class ParameterUsed(BaseModel):
    name: str
    value: Any = Field(description="the value read on the service date (JSON)")
    source: str = Field(description="'contract <id>' or the bundled parameter file")
    effective_from: str | None = None
    effective_to: str | None = None
    citation: str | None = None


class RuleApplied(BaseModel):
    rule_id: str
    decision: str
    kind: str
    reason: str
    citation: str
    effective_from: str | None = None
    effective_to: str | None = None
    minutes_refused: int | None = Field(
        default=None, description="minutes this rule refused (refusals only)"
    )
    primary: bool = False
    unknown_fact: bool = Field(default=False, description="refused for want of a known fact")
    remedy: str | None = None
    what_to_fix: str | None = None


class LineShare(BaseModel):
    status: str
    contract_id: str
    minutes: int
    units: float
    amount: float
    procedure_code: str = ""
    modifiers: str = ""


class ContractDecision(BaseModel):
    contract_id: str
    payer: str
    program: str
    decision: Literal["billed", "bundled", "partly billed", "refused"]
    minutes_billed: int
    minutes_refused: int
    amount: float
    rules: list[RuleApplied]
    parameters: list[ParameterUsed]


class Explanation(BaseModel):
    """One activity's lines and, per contract, what decided them."""

    casefund_version: str
    rules_hash: str
    activity_id: str
    participant_id: str
    service_date: str
    activity: str
    minutes: int
    primary_reason: str | None = None
    primary_contract_id: str | None = None
    primary_reason_text: str | None = None
    not_enrolled_in: list[str] = Field(
        default_factory=list,
        description="programs whose contracts refused for want of an enrollment, "
        "authorization or determination on record on the service date",
    )
    lines: list[LineShare]
    contracts: list[ContractDecision]
    notes: list[str] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def to_text(self, full: bool = False) -> str:
        """A reading in plain lines: at most twenty unless ``full`` (then nothing hidden)."""
        out = _text(self)
        if not full and len(out) > MAX_LINES:
            hidden = len(out) - MAX_LINES + 1
            out = [
                *out[: MAX_LINES - 1],
                f"  … {hidden} more lines: casefund explain --full shows everything",
            ]
        return "\n".join(out) + "\n"


def explanation_schema() -> dict[str, Any]:
    """The JSON Schema ``casefund explain --json`` output follows (docs/schemas/)."""
    schema = Explanation.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://casefund.example/schemas/explanation.schema.json"
    return schema


def _int(text: str) -> int:
    return int(float(text)) if text not in ("", "nan") else 0


def _float(text: str) -> float:
    return float(text) if text not in ("", "nan") else 0.0


def _rule(rule_id: str, catalog: dict[str, Row], denial: Row | None = None) -> RuleApplied:
    entry = catalog.get(rule_id, {})
    return RuleApplied(
        rule_id=rule_id,
        decision=entry.get("decision", ""),
        kind=entry.get("kind", ""),
        reason=entry.get("reason", "(not in the reason catalog)"),
        citation=entry.get("citation", ""),
        effective_from=entry.get("effective_from") or None,
        effective_to=entry.get("effective_to") or None,
        minutes_refused=None if denial is None else _int(denial["minutes"]),
        primary=denial is not None and denial.get("primary", "") in ("True", "true", "1"),
        unknown_fact=denial is not None and denial.get("unknown_fact", "") in ("True", "true", "1"),
        remedy=entry.get("remedy") or None,
        what_to_fix=entry.get("what_to_fix") or None,
    )


def _in_period(row: Row, day: str) -> bool:
    start, end = row.get("effective_from", ""), row.get("effective_to", "")
    return (not start or start <= day) and (not end or day <= end)


def _parameters(
    contract_id: str, names: list[str], terms: list[Row], day: str
) -> list[ParameterUsed]:
    """The value of each named parameter the contract read on ``day``, with its source."""
    mine = [t for t in terms if t["contract_id"] == contract_id]
    out = []
    for name in dict.fromkeys(names):
        rows = [t for t in mine if t["parameter"] == name and _in_period(t, day)]
        rows = rows or [
            t for t in mine if t["parameter"] == name and t["source"].startswith("contract")
        ]
        for t in rows[:1]:
            out.append(
                ParameterUsed(
                    name=name,
                    value=json.loads(t["value"] or "null"),
                    source=t["source"],
                    effective_from=t.get("effective_from") or None,
                    effective_to=t.get("effective_to") or None,
                    citation=t.get("citation") or None,
                )
            )
    return out


def _names_read(rules: list[RuleApplied], catalog: dict[str, Row], payment: str) -> list[str]:
    names: list[str] = []
    for rule in rules:
        names += [n for n in catalog.get(rule.rule_id, {}).get("parameters", "").split(";") if n]
        if rule.rule_id.startswith("cap."):
            names.append("caps." + rule.rule_id.removeprefix("cap."))
    model = PAYMENT_MODELS.get(payment)
    if model is not None and any(
        r.kind in ("payment", "units", "limit") or r.rule_id == model.outcome for r in rules
    ):
        names += list(model.terms)
    return names


def _contract(contract_id: str, records: ActivityRecords, day: str) -> ContractDecision:
    lines = [r for r in records.lines if r["contract_id"] == contract_id]
    denials = [d for d in records.denials if d["contract_id"] == contract_id]
    rules = [_rule(d["rule_id"], records.reasons, d) for d in denials]
    seen = {r.rule_id for r in rules}
    for line in lines:
        for rule_id in line["reasons"].split(";"):
            if rule_id and rule_id not in seen:
                seen.add(rule_id)
                rules.append(_rule(rule_id, records.reasons))
    term = next((t for t in records.terms if t["contract_id"] == contract_id), {})
    billed = sum(_int(r["minutes"]) for r in lines)
    refused = max((_int(d["minutes"]) for d in denials), default=0)
    statuses = {r["status"] for r in lines}
    decision: Literal["billed", "bundled", "partly billed", "refused"] = (
        "refused"
        if not lines
        else "partly billed"
        if denials
        else "bundled"
        if statuses == {"bundled"}
        else "billed"
    )
    payment = lines[0]["payment"] if lines else term.get("payment", "")
    return ContractDecision(
        contract_id=contract_id,
        payer=lines[0]["payer"] if lines else term.get("payer", ""),
        program=lines[0]["program"] if lines else term.get("program", ""),
        decision=decision,
        minutes_billed=billed,
        minutes_refused=refused,
        amount=round(sum(_float(r["amount"]) for r in lines), 2),
        rules=rules,
        parameters=_parameters(
            contract_id, _names_read(rules, records.reasons, payment), records.terms, day
        ),
    )


def explain_records(records: ActivityRecords) -> Explanation:
    """The explanation of one activity from what the run wrote about it."""
    lines = [r for r in records.lines if r["status"] != "rejected"] or records.lines
    first = lines[0]
    contract_ids = list(
        dict.fromkeys(
            [d["contract_id"] for d in records.denials]
            + [r["contract_id"] for r in lines if r["contract_id"]]
        )
    )
    order = {t["contract_id"]: i for i, t in enumerate(records.terms)}
    contract_ids.sort(key=lambda c: order.get(c, len(order)))
    contracts = [_contract(c, records, first["service_date"]) for c in contract_ids]
    unbillable = next((r for r in lines if r["status"] in ("unbillable", "rejected")), None)
    primary = unbillable["primary_reason"] if unbillable else ""
    not_enrolled = sorted(
        {
            c.program
            for c in contracts
            if any(
                r.remedy in ("enroll", "recertify") and r.minutes_refused is not None
                for r in c.rules
            )
        }
    )
    return Explanation(
        casefund_version=records.version,
        rules_hash=records.rules_hash,
        activity_id=records.activity_id,
        participant_id=first["participant_id"],
        service_date=first["service_date"],
        activity=first["activity"],
        minutes=sum(_int(r["minutes"]) for r in lines),
        primary_reason=primary or None,
        primary_contract_id=(unbillable or {}).get("primary_contract_id") or None,
        primary_reason_text=records.reasons.get(primary, {}).get("reason") if primary else None,
        not_enrolled_in=not_enrolled,
        lines=[
            LineShare(
                status=r["status"],
                contract_id=r["contract_id"],
                minutes=_int(r["minutes"]),
                units=_float(r["units"]),
                amount=_float(r["amount"]),
                procedure_code=r.get("procedure_code", ""),
                modifiers=r.get("modifiers", ""),
            )
            for r in records.lines
        ],
        contracts=contracts,
        notes=records.notes,
    )


def _text(e: Explanation) -> list[str]:
    out = [
        f"activity {e.activity_id}: {e.activity} on {e.service_date} for participant "
        f"{e.participant_id}, {e.minutes} minutes "
        f"(casefund {e.casefund_version}, rules {e.rules_hash})"
    ]
    for line in e.lines:
        code = f"  {line.procedure_code} {line.modifiers}".rstrip() if line.procedure_code else ""
        out.append(
            f"  {line.status:<10} {line.minutes:>4} min  "
            f"{line.contract_id or 'no contract'}  units {line.units:g}  "
            f"${line.amount:,.2f}{code}"
        )
    if e.primary_reason:
        out.append(
            f"primary reason: {e.primary_reason}"
            + (f" ({e.primary_contract_id})" if e.primary_contract_id else "")
            + f": {e.primary_reason_text or ''}"
        )
    if e.not_enrolled_in:
        out.append("not enrolled on the service date in: " + ", ".join(e.not_enrolled_in))
    for c in e.contracts:
        out.append(
            f"{c.contract_id} ({c.payer}, {c.program}): {c.decision}"
            + (f", {c.minutes_billed} min ${c.amount:,.2f}" if c.minutes_billed else "")
            + (f", {c.minutes_refused} min refused" if c.minutes_refused else "")
        )
        for r in c.rules:
            flags = [
                f
                for f in (
                    "primary" if r.primary else "",
                    "fact not known" if r.unknown_fact else "",
                    f"fixable: {r.remedy}" if r.remedy else "",
                )
                if f
            ]
            out.append(
                f"  - {r.rule_id}" + (f" [{', '.join(flags)}]" if flags else "") + f": {r.reason}"
            )
            out.append(f"      source: {r.citation}")
            if r.what_to_fix:
                out.append(f"      to fix: {r.what_to_fix}")
        for p in c.parameters:
            period = f"{p.effective_from or ''}..{p.effective_to or ''}"
            out.append(
                f"  · {p.name} = {json.dumps(p.value)} ({p.source}, {period}"
                + (f"; {p.citation}" if p.citation else "")
                + ")"
            )
    out += [f"note: {n}" for n in e.notes]
    return out
