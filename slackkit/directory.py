"""The workspace's people, listed with users.list (paged) into the stored directory twice a day, so a
form's submission can check the people it names before its ack and an import resolves people without
a users.info call each."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from slackkit.context import Deps
from slackkit.people import is_a_person, store_user
from storage.directory import claim_listing, mark_deactivated, release_listing

log = logging.getLogger(__name__)
LIST_EVERY = timedelta(hours=12)
RETRY_AFTER = timedelta(minutes=10)  # after a failed listing
PAGE = 200  # users.list's recommended page size


@dataclass
class DirectoryReport:
    listed: int = 0  # people stored or confirmed
    deactivated: int = 0


async def sync_directory(deps: Deps, *, now: datetime) -> DirectoryReport | None:
    """List the workspace's people when the last listing is older than LIST_EVERY (one process does,
    whichever claims it first); None when it was not due. A failed listing is due RETRY_AFTER later."""
    previous = await deps.transaction(lambda s: claim_listing(session=s, now=now, every=LIST_EVERY))
    if previous is None:
        return None
    report = DirectoryReport()
    try:
        cursor = ""
        while True:
            response = await deps.client.users_list(limit=PAGE, cursor=cursor or None)
            await deps.transaction(partial(_store_page, members=response["members"], report=report))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return report
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:  # never the sweep's failure
        log.warning("users.list failed (%r): the directory is listed again in %s", error, RETRY_AFTER)
        retry_at = now - LIST_EVERY + RETRY_AFTER
        await deps.transaction(lambda s: release_listing(session=s, previous=retry_at))
        return None


def _store_page(session: Session, *, members: list[dict[str, Any]], report: DirectoryReport) -> None:
    gone = []
    for member in members:
        if member.get("deleted"):
            gone.append(member["id"])
        elif is_a_person(member):
            store_user(session=session, user=member)  # touched: fresh for MAX_AGE
            report.listed += 1
    report.deactivated += mark_deactivated(session=session, slack_ids=gone)
