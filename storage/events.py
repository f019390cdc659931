"""Events Slack delivered, remembered for a day so that a retried event is taken once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from storage.models import ProcessedEvent

KEEP = timedelta(days=1)  # Slack retries within minutes; a day is plenty


def remember(*, session: Session, event_id: str, now: datetime) -> None:
    """Record the event; IntegrityError (raised out of the transaction) when it was seen before."""
    session.add(ProcessedEvent(event_id=event_id[:64], received_at=now))
    session.flush()


def forget_old_events(*, session: Session, now: datetime) -> None:
    session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < now - KEEP))
