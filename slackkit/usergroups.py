"""The members of Slack user groups (`usergroups.users.list`), for the approval steps a governance
file gives to a group (`{usergroup: S…}`: any one member decides; domain/gate_policy.py)."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient


async def members_of(client: AsyncWebClient, subteam_ids: Iterable[str]) -> tuple[dict[str, frozenset[str]], set[str]]:
    """Each group's members, and the groups Slack does not know (`no_such_subteam`); one call a group."""
    members: dict[str, frozenset[str]] = {}
    unknown: set[str] = set()
    for subteam in sorted(set(subteam_ids)):
        try:
            answer = await client.usergroups_users_list(usergroup=subteam)
        except SlackApiError as error:
            if error.response.get("error") != "no_such_subteam":
                raise
            unknown.add(subteam)
            continue
        members[subteam] = frozenset(answer.get("users") or [])
    return members, unknown
