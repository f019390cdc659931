"""`/measure history KEY` (the audit trail and check-in answers, newest first) and `/measure search
TEXT` (key, title, description, owner's name; best matches first), a page at a time with "More"."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from messages.blockkit import Rendered
from messages.history import PAGE, history_page, search_page
from messages.ids import Action
from messages.payloads import PageRef
from messages.text import escape, truncate
from slackkit.clicks import Click, on_click
from slackkit.context import Deps
from slackkit.surfaces import tell
from storage.history import HistoryEntry, history_of, search_measures
from storage.queries import get_measure

SEARCH_LIMIT = 200  # characters of a search


async def history(call: Invocation) -> None:
    key = await call.key("history")
    if key is None:
        return
    page = await _history(call.deps, key, 0)
    await call.reply(page.text, page.blocks or None)


async def search(call: Invocation) -> None:
    text = " ".join(call.args).strip()
    if not text:
        await call.reply("Search for what? For example `/measure search supplier`.")
        return
    if len(text) > SEARCH_LIMIT:
        await call.reply(f"A search can be at most {SEARCH_LIMIT} characters.")
        return
    page = await _search(call.deps, text, 0)
    await call.reply(page.text, page.blocks or None)


@on_click(PageRef)
async def more(click: Click[PageRef]) -> None:
    ref = click.value
    page = await (_history if ref.what == "history" else _search)(click.deps, ref.subject, ref.offset)
    await tell(click.deps, body=click.body, user_id=click.user_id, text=page.text, blocks=page.blocks or None)


async def _history(deps: Deps, key: str, offset: int) -> Rendered:
    def load(session: Session) -> tuple[str, list[HistoryEntry], int] | None:
        measure = get_measure(session=session, key=key)
        if measure is None:
            return None
        entries, total = history_of(session=session, key=key, offset=offset, limit=PAGE)
        return measure.title, entries, total

    loaded = await deps.read(load)
    if loaded is None:
        return Rendered(f"There is no measure {escape(truncate(key, 40))}.", [])
    title, entries, total = loaded
    return history_page(key, title, entries, offset=offset, total=total)


async def _search(deps: Deps, text: str, offset: int) -> Rendered:
    found, total = await deps.read(lambda s: search_measures(session=s, text=text, offset=offset, limit=PAGE))
    return search_page(text, found, offset=offset, total=total)


SUBCOMMANDS: dict[str, Subcommand] = {"history": history, "search": search}


def register(app: AsyncApp) -> None:
    app.action(Action.PAGE_MORE)(more)
