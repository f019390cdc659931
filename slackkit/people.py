"""People: refreshed from users.info (name, e-mail, timezone, admin flag) and who may do what."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from domain.policy import Deed, may
from slackkit.context import Deps
from storage.directory import known_people, stored_admin
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
        "active": is_a_person(user),  # a bot or a deactivated account is never picked
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


@dataclass(frozen=True)
class PeopleCheck:
    """What the directory says of a form's picked people before the ack: `errors` to show inline,
    and `unknown` ({field: id}) for ids it has not seen, to verify with users.info after the ack."""

    errors: dict[str, str]
    unknown: dict[str, str]


async def check_people(deps: Deps, picked: Mapping[str, str | None], *, known: Iterable[str] = ()) -> PeopleCheck:
    """Check picked people against the stored directory only: one bounded read, no Web API call, so a
    view submission can do it before its ack. The values come from user pickers, which a forged
    submission can fill with anything; ids in `known` (the people the measure has already) pass."""
    already = set(known)
    wanted = {field: value for field, value in picked.items() if value and value not in already}
    bad = {field for field, value in wanted.items() if not SLACK_USER_ID.fullmatch(value)}
    ids = {value for field, value in wanted.items() if field not in bad}
    directory = await deps.read(lambda s: known_people(session=s, slack_ids=ids))
    errors = {field: NOT_A_PERSON for field, value in wanted.items() if field in bad or directory.get(value) is False}
    unknown = {field: value for field, value in wanted.items() if field not in errors and value not in directory}
    return PeopleCheck(errors=errors, unknown=unknown)


async def verify_people(deps: Deps, unknown: Mapping[str, str]) -> dict[str, str]:
    """After the ack: {field: why} for each id users.info says is not a person (each person is stored)."""
    ids = sorted(set(unknown.values()))
    answers = await asyncio.gather(*(_verified(deps, slack_id) for slack_id in ids))
    people = {slack_id for slack_id, ok in zip(ids, answers, strict=True) if ok}
    return {field: NOT_A_PERSON for field, value in unknown.items() if value not in people}


async def people_errors(deps: Deps, picked: Mapping[str, str | None], *, known: Iterable[str] = ()) -> dict[str, str]:
    """{field: why} for each picked value that is not a person: the directory first, users.info for
    the ids it does not know. For paths that have acked already (a slash command)."""
    check = await check_people(deps, picked, known=known)
    return check.errors | await verify_people(deps, check.unknown)


async def _verified(deps: Deps, slack_id: str) -> bool:
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


async def admin_now(deps: Deps, slack_id: str) -> bool:
    """Whether the person is an admin by what is stored (PACEKEEPER_ADMINS, or the stored profile):
    no Web API call, for a view submission before its ack. `refresh_person` after the ack keeps the
    profile current, and the sweep lists the workspace's people twice a day."""
    if slack_id in deps.settings.admin_user_ids:
        return True
    return await deps.read(lambda s: stored_admin(session=s, slack_id=slack_id))


async def is_admin(deps: Deps, slack_id: str) -> bool:
    """The programme office (PACEKEEPER_ADMINS), or a Slack workspace admin or owner; the person is
    refreshed from users.info first (when their cached profile is stale)."""
    person = await refresh_person(deps, slack_id)
    return slack_id in deps.settings.admin_user_ids or bool(person and person.is_workspace_admin)
