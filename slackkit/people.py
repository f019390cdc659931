"""People: refreshed from users.info (name, e-mail, timezone, admin flag) and who may do what."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from domain.policy import Deed, may
from slackkit.context import Deps
from storage.measures import reschedule_owner
from storage.models import Person
from storage.queries import get_person, upsert_person
from storage.types import now_of

log = logging.getLogger(__name__)
MAX_AGE = timedelta(hours=12)
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")  # a Slack user id; Person.slack_id holds 32 characters


async def refresh_person(deps: Deps, slack_id: str, *, force: bool = False) -> Person | None:
    """The person, refreshed from users.info when unknown or stale; None when Slack has no such user."""
    now = deps.clock()
    known = await deps.read(lambda s: get_person(session=s, slack_id=slack_id))
    if known is not None and not force and now - known.refreshed_at < MAX_AGE:
        return known
    try:
        response = await deps.client.users_info(user=slack_id)
    except SlackApiError as error:
        log.warning("users.info %s failed: %s", slack_id, error.response.get("error"))
        return known
    return await deps.transaction(lambda s: store_user(session=s, user=response["user"]))


def store_user(*, session: Session, user: dict[str, Any], touch: bool = True) -> Person:
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
        reschedule_owner(session=session, owner_id=person.slack_id, now=now_of(session))
    return person


NOT_A_PERSON = "Choose a person in this Slack workspace (not a channel, a bot or a deactivated account)."


def is_a_person(user: dict[str, Any]) -> bool:
    """A users.info user who can own, sponsor or control a measure: not a bot, not deactivated."""
    return not (user.get("is_bot") or user.get("deleted") or user.get("id") == "USLACKBOT")


async def people_errors(deps: Deps, picked: Mapping[str, str | None], *, known: Iterable[str] = ()) -> dict[str, str]:
    """{field: why} for each picked value that is not a person Slack knows. The values come from user
    pickers, which a forged submission can fill with anything; each id not in `known` (the people the
    measure has already) is asked of users.info, concurrently, and stored when it is a person."""
    already = set(known)
    wanted = {value for value in picked.values() if value and value not in already}
    answers = await asyncio.gather(*(_verified(deps, slack_id) for slack_id in wanted))
    people = {slack_id for slack_id, ok in zip(wanted, answers, strict=True) if ok}
    return {field: NOT_A_PERSON for field, value in picked.items() if value in wanted and value not in people}


async def _verified(deps: Deps, slack_id: str) -> bool:
    if not SLACK_USER_ID.fullmatch(slack_id):
        return False
    try:
        response = await deps.client.users_info(user=slack_id)
    except SlackApiError as error:
        log.info("users.info %s: %s", slack_id, error.response.get("error"))
        return False
    user = response["user"]
    if not is_a_person(user):
        return False
    await deps.transaction(lambda s: store_user(session=s, user=user, touch=False))
    return True


async def allowed(deps: Deps, slack_id: str, deed: Deed) -> bool:
    """The policy's answer for a deed on nothing in particular (configuration, import, export)."""
    return may(deed, slack_id, admin=await is_admin(deps, slack_id))


async def is_admin(deps: Deps, slack_id: str) -> bool:
    """The programme office (PACEKEEPER_ADMINS), or a Slack workspace admin or owner; the person is
    refreshed from users.info first (when their cached profile is stale)."""
    person = await refresh_person(deps, slack_id)
    return slack_id in deps.settings.admin_user_ids or bool(person and person.is_workspace_admin)
