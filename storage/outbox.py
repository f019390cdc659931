"""Outbox rows: each message owed, recorded in the transaction that owes it (sent later, exactly once).

Each kind of message has one payload model: what the row carries to find, when it is sent, the
data to render. `owe` takes the model; `payload_of` gives it back, typed.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from storage.models import Outbox


class Kind(StrEnum):
    PROMPT = "checkin_prompt"  # an owner's due check-ins, one DM
    REMINDER = "checkin_reminder"  # the check-ins of a prompt still unanswered
    GATE_APPROVAL = "gate_approval"  # to the approver of a step
    GATE_OUTCOME = "gate_outcome"  # to the requester, after a decision
    GATE_REMINDER = "gate_reminder"  # to an approver who has not decided within a day
    ESCALATION = "escalation"  # one escalation, to the rung it reached (rows owed before batches)
    ESCALATIONS = "escalations"  # every escalation that reached one person or channel in one sweep
    DELIVERY_FAILURE = "delivery_failure"  # to admins: a message given up on


class OutboxPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckinsPayload(OutboxPayload):
    checkin_ids: list[int]  # what the prompt asks for (its check-ins also point back at it by prompt_id)


class ReminderPayload(OutboxPayload):
    checkin_ids: list[int]
    prompt_id: int | None = None


class ApprovalPayload(OutboxPayload):
    request_id: int
    step: int


class GatePayload(OutboxPayload):
    request_id: int


class EscalationPayload(OutboxPayload):
    escalation_id: int
    rung: int


class EscalationCopyItem(OutboxPayload):
    escalation_id: int
    rung: int


class ListingPart(StrEnum):
    """Which part of a listing of escalations a message is: a person gets it whole; a steering
    channel gets a summary in the channel and the detail (each with its menu) in its thread."""

    WHOLE = "whole"
    SUMMARY = "summary"
    DETAIL = "detail"


class EscalationsPayload(OutboxPayload):
    items: list[EscalationCopyItem]  # in the order the message lists them
    part: ListingPart = ListingPart.WHOLE


class FailurePayload(OutboxPayload):
    recipient: str
    kind: str  # what was given up on: an outbox Kind, or "digest"
    error: str


PAYLOADS: dict[Kind, type[OutboxPayload]] = {
    Kind.PROMPT: CheckinsPayload,
    Kind.REMINDER: ReminderPayload,
    Kind.GATE_APPROVAL: ApprovalPayload,
    Kind.GATE_OUTCOME: GatePayload,
    Kind.GATE_REMINDER: GatePayload,
    Kind.ESCALATION: EscalationPayload,
    Kind.ESCALATIONS: EscalationsPayload,
    Kind.DELIVERY_FAILURE: FailurePayload,
}
OWED = "pacekeeper_owed"  # session.info: the outbox rows this transaction owed


def owe(*, session: Session, kind: Kind, key: str, recipient: str, payload: OutboxPayload) -> Outbox:
    if type(payload) is not PAYLOADS[kind]:
        raise TypeError(f"a {kind} message carries a {PAYLOADS[kind].__name__}, not a {type(payload).__name__}")
    message = Outbox(kind=kind, dedupe_key=f"{kind}:{key}", recipient=recipient, payload=payload.model_dump_json())
    session.add(message)
    session.flush()
    session.info.setdefault(OWED, []).append(message.id)
    return message


def owed_in(session: Session) -> list[int]:
    """The outbox rows owed so far in this transaction (a click sends these, and nothing else)."""
    return list(session.info.get(OWED, []))


def payload_of(message: Outbox) -> OutboxPayload:
    return PAYLOADS[Kind(message.kind)].model_validate_json(message.payload)


def owe_failure_reports(
    *, session: Session, key: str, recipient: str, kind: str, error: str, admins: frozenset[str]
) -> None:
    """Each admin (but the one it failed for) is owed a short report of a message given up on."""
    for admin in sorted(admins - {recipient}):
        owe(
            session=session, kind=Kind.DELIVERY_FAILURE, key=f"{key}:{admin}", recipient=admin,
            payload=FailurePayload(recipient=recipient, kind=kind, error=error),
        )  # fmt: skip
