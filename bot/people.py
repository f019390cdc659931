"""People: refreshed from users.info (name, e-mail, timezone, admin flag) and who may do what."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.context import Deps
from storage.measures import reschedule_owner
from storage.models import Measure, Person
from storage.queries import get_person, upsert_person
from storage.types import utcnow

log = logging.getLogger(__name__)
MAX_AGE = timedelta(hours=12)


async def refresh_person(deps: Deps, slack_id: str, *, force: bool = False) -> Person | None:
    """The person, refreshed from users.info when unknown or stale; None when Slack has no such user."""
    now = deps.clock()
    known = await deps.transaction(lambda s: get_person(session=s, slack_id=slack_id))
    if known is not None and not force and now - known.refreshed_at < MAX_AGE:
        return known
    try:
        response = await deps.client.users_info(user=slack_id)
    except SlackApiError as error:
        log.warning("users.info %s failed: %s", slack_id, error.response.get("error"))
        return known
    return await deps.transaction(lambda s: store_user(session=s, user=response["user"], now=now))


def store_user(*, session: Session, user: dict[str, Any], touch: bool = True, now: datetime | None = None) -> Person:
    """Store a users.info user; with touch=False an unchanged person is not written at all.
    A changed timezone moves the person's next check-ins to their new local time."""
    profile = user.get("profile") or {}
    fields = {
        "name": profile.get("real_name") or user.get("real_name") or user.get("name") or user["id"],
        "email": profile.get("email"),
        "tz": user.get("tz") or "UTC",
        "is_workspace_admin": bool(user.get("is_admin") or user.get("is_owner")),
    }
    known = get_person(session=session, slack_id=user["id"])
    old_tz = known.tz if known is not None else None
    if known is not None and not touch and all(getattr(known, k) == v for k, v in fields.items()):
        return known
    person = upsert_person(session=session, slack_id=user["id"], **fields)
    if old_tz is not None and old_tz != person.tz:
        session.flush()
        reschedule_owner(session=session, owner_id=person.slack_id, now=now or utcnow())
    return person


async def is_admin(deps: Deps, slack_id: str) -> bool:
    """The programme office (PACEKEEPER_ADMINS), or a Slack workspace admin or owner; the person is
    refreshed from users.info first (when their cached profile is stale)."""
    person = await refresh_person(deps, slack_id)
    return slack_id in deps.settings.admin_user_ids or bool(person and person.is_workspace_admin)


def can_edit(measure: Measure, slack_id: str, *, admin: bool) -> bool:
    return admin or slack_id in (measure.owner_id, measure.sponsor_id, measure.controller_id)
