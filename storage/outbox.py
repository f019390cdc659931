"""Outbox rows: each message owed, recorded in the transaction that owes it (sent later, exactly once)."""

from __future__ import annotations

import json

from sqlmodel import Session

from storage.models import Outbox


class Kind:
    PROMPT = "checkin_prompt"
    REMINDER = "checkin_reminder"
    DELIVERY_FAILURE = "delivery_failure"


def owe(*, session: Session, kind: str, key: str, recipient: str, payload: dict[str, object]) -> Outbox:
    message = Outbox(kind=kind, dedupe_key=f"{kind}:{key}", recipient=recipient, payload=json.dumps(payload))
    session.add(message)
    session.flush()
    return message


def owe_failure_reports(
    *, session: Session, key: str, recipient: str, kind: str, error: str, admins: frozenset[str]
) -> None:
    """Each admin (but the one it failed for) is owed a short report of a message given up on."""
    for admin in sorted(admins - {recipient}):
        owe(
            session=session, kind=Kind.DELIVERY_FAILURE, key=f"{key}:{admin}", recipient=admin,
            payload={"recipient": recipient, "kind": kind, "error": error},
        )  # fmt: skip
