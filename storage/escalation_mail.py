"""What the escalation sweep owes: one message per recipient per sweep, listing every escalation
that was raised to them or climbed to them in it (never one message per escalation)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage.calendars import is_person_id
from storage.models import Escalation, EscalationCopy, Outbox
from storage.outbox import EscalationCopyItem, EscalationsPayload, Kind, ListingPart, owe


class EscalationMail:
    """Collects, during one sweep's transaction, which escalations reached whom; `owe` then owes one
    outbox row per recipient and links each escalation to it (so a change updates that message)."""

    def __init__(self) -> None:
        self._by_recipient: dict[str, list[Escalation]] = defaultdict(list)
        self._urgent: set[str] = set()  # recipients owed something their portfolio marks urgent

    def add(self, escalation: Escalation, recipient: str | None, *, urgent: bool = False) -> None:
        if recipient:
            self._by_recipient[recipient].append(escalation)
            if urgent:
                self._urgent.add(recipient)

    def owe(self, *, session: Session, now: datetime) -> int:
        """Owe the messages; returns how many. Two processes sweeping at once raise and climb disjoint
        escalations (a unique key, rows locked and skipped), so the key — recipient, the sweep's time
        and the first escalation listed — never collides between them."""
        copies: list[dict[str, int]] = []
        for recipient, escalations in sorted(self._by_recipient.items()):
            items = [EscalationCopyItem(escalation_id=e.id or 0, rung=e.rung) for e in escalations]
            versions = {e.id or 0: e.version for e in escalations}
            key = f"{recipient}:{now.isoformat()}:{items[0].escalation_id}"
            for message in self._messages(session, recipient, key, items):
                copies += [
                    {"escalation_id": i.escalation_id, "outbox_id": message.id or 0, "rung": i.rung,
                     "version": versions[i.escalation_id]}
                    for i in items
                ]  # fmt: skip
        if copies:  # one statement for all of them (10,000 escalations climbing at once: 10,000 rows)
            session.execute(insert(EscalationCopy), copies)
        return len(self._by_recipient)

    def _messages(self, session: Session, recipient: str, key: str, items: list[EscalationCopyItem]) -> list[Outbox]:
        """A person's one message; a steering channel's summary and, in its thread, the detail (when
        there is more than one): both list the escalations, so both are kept up to date."""
        parts = [ListingPart.WHOLE] if is_person_id(recipient) or len(items) == 1 else list(ListingPart)[1:]
        messages: list[Outbox] = []
        for part in parts:
            message = owe(
                session=session, kind=Kind.ESCALATIONS, key=key if part is parts[0] else f"{key}:{part}",
                recipient=recipient, payload=EscalationsPayload(items=items, part=part),
            )  # fmt: skip
            message.urgent = recipient in self._urgent
            message.thread_of = messages[0].id if messages else None
            messages.append(message)
        return messages


def batches_showing(*, session: Session, escalation_ids: Iterable[int]) -> list[Outbox]:
    """The sent messages that list any of these escalations in an older state than it has now (a
    message owed with an escalation's change, in the same transaction, already shows it)."""
    wanted = list(set(escalation_ids))
    if not wanted:
        return []
    query = (
        select(Outbox)
        .join(EscalationCopy, col(EscalationCopy.outbox_id) == col(Outbox.id))
        .join(Escalation, col(Escalation.id) == col(EscalationCopy.escalation_id))
        .where(col(EscalationCopy.escalation_id).in_(wanted), col(Outbox.ts).is_not(None))
        .where(col(EscalationCopy.version) < col(Escalation.version))
        .distinct()
    )
    return list(session.exec(query).all())


def versions_of(*, session: Session, escalation_ids: Iterable[int]) -> dict[int, int]:
    wanted = list(set(escalation_ids))
    query = select(Escalation.id, Escalation.version).where(col(Escalation.id).in_(wanted))
    return {escalation_id or 0: version for escalation_id, version in session.exec(query).all()}


def mark_shown(*, session: Session, outbox_id: int, versions: dict[int, int]) -> None:
    """The message was just updated with the escalations at these versions (as read for its render):
    its copies record them, never going back. A copy still behind is found by `stale_listings`."""
    copies = session.exec(select(EscalationCopy).where(EscalationCopy.outbox_id == outbox_id)).all()
    for copy in copies:
        copy.version = max(copy.version, versions.get(copy.escalation_id, copy.version))
        session.add(copy)


def behind(*, session: Session) -> list[int]:
    """Escalations some sent message shows in an older state than they have (a refresh that failed, or
    raced another replica's): the sweep refreshes them."""
    query = (
        select(EscalationCopy.escalation_id)
        .join(Escalation, col(Escalation.id) == col(EscalationCopy.escalation_id))
        .join(Outbox, col(Outbox.id) == col(EscalationCopy.outbox_id))
        .where(col(EscalationCopy.version) < col(Escalation.version), col(Outbox.ts).is_not(None))
        .distinct()
    )
    return list(session.exec(query).all())
