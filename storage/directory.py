"""The workspace's people as the bot last saw them: who is known, who is deactivated, and when the
whole workspace was last listed. Answers from here need no Web API call, so a modal's submission can
check the people it names before its ack."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import DirectorySync, Person
from storage.queries import NEVER


def known_people(*, session: Session, slack_ids: Iterable[str]) -> dict[str, bool]:
    """{id: active} for each id Slack has told us about (a row only `ensure_person_rows` made, never
    verified, is not known). One query, bounded by the ids asked for."""
    wanted = set(slack_ids)
    if not wanted:
        return {}
    query = select(Person.slack_id, Person.active).where(col(Person.slack_id).in_(wanted))
    rows = session.exec(query.where(col(Person.refreshed_at) > NEVER)).all()
    return {slack_id: active for slack_id, active in rows}


def directory_users(*, session: Session, refs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{reference: the person as a users.info user} for each reference (a user id or an e-mail) the
    directory knows as an active person: an import needs no Web API call for them. Two queries."""
    wanted = set(refs)
    emails = {ref.lower() for ref in wanted if "@" in ref}
    ids = wanted - {ref for ref in wanted if "@" in ref}
    known = col(Person.refreshed_at) > NEVER
    found: list[Person] = []
    if ids:
        found += session.exec(select(Person).where(col(Person.slack_id).in_(ids), known)).all()
    if emails:
        found += session.exec(select(Person).where(sa.func.lower(col(Person.email)).in_(emails), known)).all()
    by_id = {p.slack_id: p for p in found if p.active}
    by_email = {(p.email or "").lower(): p for p in by_id.values() if p.email}
    users = {}
    for ref in wanted:
        person = by_email.get(ref.lower()) if "@" in ref else by_id.get(ref)
        if person is not None:
            users[ref] = {"id": person.slack_id, "tz": person.tz, "is_admin": person.is_workspace_admin,
                          "profile": {"real_name": person.name, "email": person.email}}  # fmt: skip
    return users


def stored_admin(*, session: Session, slack_id: str) -> bool:
    """Whether the stored profile says this person is a workspace admin or owner (no Web API call)."""
    person = session.get(Person, slack_id)
    return bool(person and person.active and person.is_workspace_admin)


def claim_listing(*, session: Session, now: datetime, every: timedelta, workspace: str = "") -> datetime | None:
    """Claim the workspace's listing when the last is older than `every`: returns the previous time,
    or None when it is not due or another process claimed it."""
    row = session.get(DirectorySync, workspace, with_for_update=True)
    if row is None:  # the first listing: two processes may both find no row, and both insert one
        try:
            with session.begin_nested():
                session.add(DirectorySync(workspace=workspace, synced_at=now))
                session.flush()
        except IntegrityError:
            return None  # the other one inserted it first: it lists
        return NEVER
    if now - row.synced_at < every:
        return None
    previous, row.synced_at = row.synced_at, now
    session.add(row)
    return previous


def release_listing(*, session: Session, previous: datetime, workspace: str = "") -> None:
    """A listing failed: put its time back to `previous` (when it is due again follows from it)."""
    row = session.get(DirectorySync, workspace)
    if row is not None:
        row.synced_at = previous
        session.add(row)


def mark_deactivated(*, session: Session, slack_ids: Iterable[str]) -> int:
    """Deactivated accounts that we know: never offered or accepted again. Returns how many changed."""
    wanted = set(slack_ids)
    if not wanted:
        return 0
    people = session.exec(select(Person).where(col(Person.slack_id).in_(wanted), col(Person.active))).all()
    for person in people:
        person.active = False
        session.add(person)
    return len(people)
