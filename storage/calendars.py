"""Whose working calendar applies: a person's own settings (`/measure settings`), else their
organization's (`/measure org … working-days=… holidays=…`), in the person's timezone. A person in
several organizations keeps the first organization's unless they set their own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time

from sqlmodel import Session, col, select

from domain.calendar import WorkingCalendar, parse_working_days
from domain.organization import OrganizationSettings
from domain.parsing import InputError
from domain.schedule import zone
from storage.models import Outbox, Person
from storage.organization import organizations, settings_of
from storage.queries import NEVER, record_audit


def organization_defaults(*, session: Session) -> OrganizationSettings:
    found = organizations(session=session)
    return settings_of(found[0] if found else None)


def is_person_id(recipient: str) -> bool:
    """A user id (U…, W…), not a channel: only people have working calendars."""
    return recipient[:1] in ("U", "W")


def calendar_of(person: Person | None, organization: OrganizationSettings) -> WorkingCalendar:
    """A person's calendar: their own settings, else their organization's, in their timezone (with no
    row for them: the organization's, in UTC)."""
    try:
        days = parse_working_days((person and person.working_days) or organization.working_days)
    except InputError:  # stored values were checked when set: this is only a safety net
        days = parse_working_days("mon-fri")
    region = person.holidays if person is not None and person.holidays is not None else organization.holidays
    quiet = None
    if person is not None and person.quiet_start is not None and person.quiet_end is not None:
        quiet = (person.quiet_start, person.quiet_end)
    return WorkingCalendar(days=days, region=region, quiet=quiet, tz=zone(person.tz if person else None))


def calendars_of(*, session: Session, slack_ids: Iterable[str]) -> dict[str, WorkingCalendar]:
    """Each person's calendar: two queries, however many people."""
    wanted = set(slack_ids)
    if not wanted:
        return {}
    organization = organization_defaults(session=session)
    people = {p.slack_id: p for p in session.exec(select(Person).where(col(Person.slack_id).in_(wanted))).all()}
    return {slack_id: calendar_of(people.get(slack_id), organization) for slack_id in wanted}


def personal_calendar(*, session: Session, slack_id: str) -> tuple[Person | None, OrganizationSettings]:
    """The person's row (their own settings) and the organization's defaults."""
    return session.get(Person, slack_id), organization_defaults(session=session)


def set_personal_calendar(
    *,
    session: Session,
    slack_id: str,
    working_days: str | None,
    holidays: str | None,
    quiet: tuple[time, time] | None,
    language: str | None = None,
) -> None:
    """Store a person's own calendar and language (None: their organization's), audited with before
    and after."""
    person = session.get(Person, slack_id) or Person(slack_id=slack_id, refreshed_at=NEVER)
    before = _shown(person)
    person.working_days, person.holidays = working_days, holidays
    person.quiet_start, person.quiet_end = quiet if quiet else (None, None)
    person.language = language
    session.add(person)
    record_audit(
        session=session, actor=slack_id, entity="person", entity_key=slack_id, action="person_settings_changed",
        detail={"before": before, "after": _shown(person)},
    )  # fmt: skip


def _shown(person: Person) -> dict[str, str | None]:
    quiet = f"{person.quiet_start:%H:%M}-{person.quiet_end:%H:%M}" if person.quiet_start and person.quiet_end else None
    return {"working-days": person.working_days, "holidays": person.holidays, "quiet-hours": quiet,
            "language": person.language}  # fmt: skip


def in_working_time(*, session: Session, rows: list[Outbox], now: datetime) -> list[Outbox]:
    """The outbox rows whose recipient may be written to at `now`: a DM to someone outside their
    working time (a day they do not work, a public holiday of their region, their quiet hours) waits,
    its `not_before` set to their next working instant. Channels are always open, and so is a
    message its portfolio marks urgent (`/measure rules … urgent=shortfall`)."""
    people = {m.recipient for m in rows if is_person_id(m.recipient) and not m.urgent}
    calendars = calendars_of(session=session, slack_ids=people) if people else {}
    now_rows = []
    for message in rows:
        calendar = calendars.get(message.recipient)
        if calendar is None or calendar.is_working_time(now):
            now_rows.append(message)
        else:
            message.not_before = calendar.next_working_time(now)
            session.add(message)
    return now_rows
