"""Telling one person something: ephemeral through the response URL when there is one, else a DM."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, SectionBlock
from slack_sdk.models.views import View
from slack_sdk.webhook.async_client import AsyncWebhookClient

from messages.blockkit import blocks_json
from slackkit.context import Deps

log = logging.getLogger(__name__)


SLACK_RESPONSE_ORIGINS = frozenset({"https://hooks.slack.com", "https://hooks.slack-gov.com"})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def response_url_of(body: dict[str, Any], *, api_url: str) -> str | None:
    """The request's response URL when it is Slack's own (or the Web API's host: the stand-in's);
    any other URL is never called, whatever the body says."""
    url = body.get("response_url")
    if not url:
        urls = body.get("response_urls") or []
        url = urls[0].get("response_url") if urls and isinstance(urls[0], dict) else None
    if not isinstance(url, str):
        return None
    trusted = SLACK_RESPONSE_ORIGINS | {origin_of(api_url)}
    if origin_of(url) not in trusted:
        log.warning("ignored a response_url outside Slack: %s", origin_of(url)[:80])
        return None
    return url


async def tell(
    deps: Deps, *, body: dict[str, Any], user_id: str, text: str, blocks: Sequence[Block] | None = None
) -> None:
    """One Slack call: an ephemeral reply where the request came with a response URL, else a DM."""
    block_dicts = blocks_json(blocks) if blocks else None
    url = response_url_of(body, api_url=deps.settings.api_url)
    if url:
        # the Web API client's connection pool, where there is one: no new TCP connection per reply
        await AsyncWebhookClient(url, session=deps.http).send(
            text=text, blocks=block_dicts, response_type="ephemeral", replace_original=False
        )
        return
    try:
        await deps.client.chat_postMessage(channel=user_id, text=text, blocks=block_dicts)
    except SlackApiError as error:
        log.warning("could not DM %s: %s", user_id, error.response.get("error"))


class FormAnswer:
    """How a modal's submission is answered. Normally in its ack: inline errors, or the view it turns
    into. When something must be asked of Slack first (which may not happen before the ack), `hold`
    acks with a short "checking" view; `errors` then brings the form back by views.update (what was
    typed, with the problems at its head) and `done` shows the outcome the same way."""

    def __init__(self, ack: Callable[..., Awaitable[Any]]) -> None:
        self._ack = ack  # bolt's AsyncAck
        self._later: tuple[Deps, str, Callable[[Mapping[str, str]], View]] | None = None

    async def hold(self, deps: Deps, *, view_id: str, form: Callable[[Mapping[str, str]], View]) -> None:
        checking = SectionBlock(text=":hourglass_flowing_sand: Checking the people you chose with Slack…")
        await self._ack(response_action="update", view=View(type="modal", title="Pacekeeper", blocks=[checking]))
        self._later = (deps, view_id, form)

    async def errors(self, errors: Mapping[str, str]) -> None:
        if self._later is None:
            await self._ack(response_action="errors", errors=dict(errors))
            return
        deps, view_id, form = self._later
        await _update(deps, view_id, form(errors))

    async def done(self, view: View) -> None:
        if self._later is None:
            await self._ack(response_action="update", view=view)
            return
        await _update(self._later[0], self._later[1], view)


async def _update(deps: Deps, view_id: str, view: View) -> None:
    try:
        await deps.client.views_update(view_id=view_id, view=view)
    except SlackApiError as error:  # the person closed the modal meanwhile: nothing to show it in
        log.info("views.update %s: %s", view_id, error.response.get("error"))
