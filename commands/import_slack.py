"""Importing from Slack: an admin sends a CSV or XLSX file to the bot in a DM (or asks with
`/measure import`, which says how). The bot checks it with a dry run — the same import as
`python -m bot import` (commands/import_run.py) — and answers with what it would change and Import /
Cancel buttons; Import writes it in one transaction, Cancel forgets it."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from commands.import_run import ImportOutcome, import_table
from commands.invocation import Invocation, Subcommand
from commands.spreadsheet import SpreadsheetError, read_table
from domain.policy import Deed
from messages.blockkit import blocks_json
from messages.ids import Action, EventType
from messages.payloads import ImportRef
from messages.text import escape, pack_lines, truncate
from slackkit.clicks import Click, on_click
from slackkit.context import Deps
from slackkit.people import allowed
from slackkit.replays import first_delivery
from slackkit.surfaces import tell
from storage.pending_imports import hold_import, take_import

MAX_BYTES = 20 * 1024 * 1024  # a spreadsheet of 50,000 measures is far smaller
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
HOW = (
    "Send me the CSV or XLSX file here in a DM (drag it into this conversation): I check it and show "
    "what it would change before anything is written."
)


async def ask_for_file(call: Invocation) -> None:
    await call.reply(HOW if await allowed(call.deps, call.user_id, Deed.IMPORT) else _not_allowed())


async def file_in_dm(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], deps: Deps) -> None:
    await ack()
    files, user_id = event.get("files") or [], str(event.get("user") or "")
    if event.get("channel_type") != "im" or not files or event.get("bot_id") or not user_id:
        return
    if not await first_delivery(deps, body):
        return
    if not await allowed(deps, user_id, Deed.IMPORT):
        await _dm(deps, user_id, _not_allowed())
        return
    file = files[0]
    name = str(file.get("name") or "import.csv")
    if not name.lower().endswith(SUFFIXES) or int(file.get("size") or 0) > MAX_BYTES:
        await _dm(
            deps, user_id, f"I import CSV or XLSX files up to {MAX_BYTES // 2**20} MB; “{escape(name)}” is not one."
        )
        return
    try:
        content = await _download(deps, str(file.get("url_private_download") or file.get("url_private") or ""))
        table = read_table(content, name)
    except (aiohttp.ClientError, SpreadsheetError, TimeoutError) as error:
        await _dm(deps, user_id, f"Nothing was imported; “{escape(name)}” could not be read: {escape(str(error))}")
        return
    outcome = await import_table(
        table, transaction=deps.transaction, client=deps.client, now=deps.clock(), dry_run=True
    )
    pending = (
        await deps.transaction(lambda s: hold_import(session=s, user_id=user_id, filename=name, content=content))
        if outcome.ok
        else None
    )
    text, blocks = _checked(name, outcome, pending)
    await deps.client.chat_postMessage(channel=user_id, text=text, blocks=blocks_json(blocks))


@on_click(ImportRef)
async def confirm(click: Click[ImportRef]) -> None:
    await _decide(click, "imported")


@on_click(ImportRef)
async def cancel(click: Click[ImportRef]) -> None:
    await _decide(click, "cancelled")


async def _decide(click: Click[ImportRef], state: str) -> None:
    deps, user_id = click.deps, click.user_id
    if not await allowed(deps, user_id, Deed.IMPORT):
        await click.tell(_not_allowed())
        return
    pending = await deps.transaction(
        lambda s: take_import(session=s, pending_id=click.value.pending_id, user_id=user_id, state=state)
    )
    if pending is None:
        await click.tell("That import was imported or cancelled already.")
        return
    if state == "cancelled":
        await _replace(click, f"Cancelled: “{escape(pending.filename)}” was not imported.")
        return
    outcome = await import_table(read_table(pending.content, pending.filename), transaction=deps.transaction,
                                 client=deps.client, now=deps.clock(), dry_run=False)  # fmt: skip
    await _replace(click, _summary(pending.filename, outcome))


async def _replace(click: Click[ImportRef], text: str) -> None:
    """The checked file's message, replaced by what became of it (its buttons gone)."""
    channel, ts = (click.body.get("channel") or {}).get("id"), (click.body.get("message") or {}).get("ts")
    if channel and ts:
        await click.deps.client.chat_update(channel=channel, ts=ts, text=text, blocks=[])
    else:
        await click.tell(text)


async def _download(deps: Deps, url: str) -> bytes:
    """The file's bytes, with the bot token (Slack serves private files only so)."""
    headers = {"Authorization": f"Bearer {deps.settings.bot_token}"}
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url, headers=headers) as response:
        response.raise_for_status()
        content = await response.content.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise SpreadsheetError(f"the file is larger than {MAX_BYTES // 2**20} MB")
    return content


def _checked(name: str, outcome: ImportOutcome, pending: int | None) -> tuple[str, list[Block]]:
    text = _summary(name, outcome)
    blocks: list[Block] = [SectionBlock(text=f"*{escape(truncate(name, 100))}*"), *_lines(outcome)]
    if pending is not None:
        ref = ImportRef(pending_id=pending).dump()
        blocks.append(ActionsBlock(elements=[
            ButtonElement(text="Import", action_id=Action.IMPORT_CONFIRM, value=ref, style="primary"),
            ButtonElement(text="Cancel", action_id=Action.IMPORT_CANCEL, value=ref),
        ]))  # fmt: skip
    return text, blocks


def _lines(outcome: ImportOutcome) -> list[Block]:
    """The summary, or the first 60 problems with how many more (one message, inside Slack's limits)."""
    if outcome.ok:
        return [SectionBlock(text=escape(outcome.text))]
    shown = [f"• {escape(truncate(e, 300))}" for e in outcome.errors[:60]]
    more = len(outcome.errors) - len(shown)
    heading = SectionBlock(text="Nothing was imported; fix these rows and send the file again:")
    tail = [SectionBlock(text=f"… and {more} more.")] if more else []
    return [heading, *pack_lines(shown, max_sections=4), *tail]


def _summary(name: str, outcome: ImportOutcome) -> str:
    if outcome.ok and not outcome.written:
        return f"Checked “{escape(truncate(name, 100))}”. {escape(outcome.text)} Import it?"
    return truncate(f"“{escape(truncate(name, 100))}”: {escape(outcome.text)}")


async def _dm(deps: Deps, user_id: str, text: str) -> None:
    await tell(deps, body={}, user_id=user_id, text=text)


def _not_allowed() -> str:
    return "Only admins (the programme office) can import measures."


SUBCOMMANDS: dict[str, Subcommand] = {"import": ask_for_file}


def register(app: AsyncApp) -> None:
    app.event(EventType.MESSAGE)(file_in_dm)
    app.action(Action.IMPORT_CONFIRM)(confirm)
    app.action(Action.IMPORT_CANCEL)(cancel)
