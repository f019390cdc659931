"""`/measure digest`: subscribe a channel to a unit's digest, list and remove subscriptions, and preview
a digest (ephemeral, the same content the channel would get)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.models.blocks import SectionBlock
from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from domain.enums import WEEKDAYS, Cadence
from domain.parsing import InputError, parse_cadence_word, parse_channel, parse_time, parse_weekday
from domain.policy import Deed
from messages.digest import render_digest
from messages.text import escape, slack_time, truncate
from slackkit.context import Deps
from slackkit.people import allowed
from storage.digest_data import load_digest
from storage.digests import FIRST_SINCE, DigestRefused, subscribe, subscriptions, unsubscribe
from storage.tree import UnitTree

USAGE = (
    "Use `/measure digest #channel <unit> [weekly|biweekly|monthly] [mon…sun] [HH:MM]` (default: weekly, "
    "Friday 16:00 in the organization's timezone), `/measure digest list`, `/measure digest remove <number>` "
    "or `/measure digest preview <unit>`."
)
PREVIEW_PARTS = 4  # a response URL takes five messages: the summary and four more (parts, or a "more")


async def digest(call: Invocation) -> None:
    deps = call.deps
    action = call.args[0].lower() if call.args else "list"
    if action == "preview":
        await _preview(deps, call, " ".join(call.args[1:]))
    elif action == "list":
        await call.reply(await deps.read(_listing))
    elif not await allowed(deps, call.user_id, Deed.CONFIGURE_DIGEST):
        await call.reply("Only admins (the programme office) can set up digests. `/measure digest preview <unit>` "
                         "shows you one.")  # fmt: skip
    elif action == "remove":
        await _remove(deps, call)
    else:
        await _subscribe(deps, call)


@dataclass(frozen=True)
class Subscription:
    channel: str
    unit: str
    cadence: Cadence = Cadence.WEEKLY
    weekday: int = 4  # Friday
    at: time = time(16, 0)
    timezone: str | None = None  # None: the organization's


def parse_subscription(args: list[str]) -> Subscription:
    """`#channel unit words… [cadence] [day] [HH:MM] [Area/City]`, defaults weekly, Friday 16:00."""
    channel = parse_channel(args[0]) if args else None
    if channel is None:
        raise InputError("Start with the channel, picked with # so Slack sends its id.")
    words, cadence, weekday, at, tz = list(args[1:]), Cadence.WEEKLY, 4, time(16, 0), None
    while words:
        last = words[-1].lower()
        if "/" in last or last == "utc":
            tz = parse_timezone(words.pop())
        elif ":" in last:
            at = parse_time(words.pop())
        elif last.replace("-", "") in ("weekly", "biweekly", "monthly", "fortnightly"):
            cadence = parse_cadence_word(words.pop())
        elif last[:3] in WEEKDAYS and len(last) <= 9:
            weekday = parse_weekday(words.pop())
        else:
            break
    if not words:
        raise InputError("Which unit? Give its name after the channel.")
    return Subscription(channel, " ".join(words), cadence, weekday, at, tz)


def parse_timezone(text: str) -> str:
    try:
        return ZoneInfo(text.strip()).key
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"“{text.strip()}” is not a timezone: use a name like Europe/Berlin.") from None


async def _subscribe(deps: Deps, call: Invocation) -> None:
    try:
        wanted = parse_subscription(call.args)
    except InputError as error:
        await call.reply(f"Nothing was set up. {escape(str(error))} {USAGE}")
        return
    now = deps.clock()

    def work(session: Session) -> str:
        tree = UnitTree.load(session=session)
        found = tree.named(wanted.unit)
        if len(found) != 1:
            return "Nothing was set up. " + escape(tree.describe_matches(wanted.unit, found))
        sub = subscribe(
            session=session, channel=wanted.channel, unit_id=found[0].id or 0, cadence=wanted.cadence,
            weekday=wanted.weekday, at=wanted.at, timezone=wanted.timezone, actor=call.user_id, now=now,
        )  # fmt: skip
        return (
            f"Digest {sub.id}: <#{sub.channel}> gets the {sub.cadence} digest of "
            f"*{escape(tree.path_text(sub.unit_id))}* on {WEEKDAYS[sub.weekday].capitalize()} at {sub.at:%H:%M} "
            f"({sub.timezone}); the first on {slack_time(sub.next_at)}. Invite me to the channel so I can post there."
        )

    await call.reply(await deps.transaction(work))


async def _remove(deps: Deps, call: Invocation) -> None:
    number = call.args[1] if len(call.args) > 1 else ""
    if not number.isdigit():
        await call.reply("Which one? `/measure digest remove <number>`; `/measure digest list` shows the numbers.")
        return
    try:
        sub = await deps.transaction(lambda s: unsubscribe(session=s, subscription_id=int(number), actor=call.user_id))
    except DigestRefused as refused:
        await call.reply(str(refused))
        return
    await call.reply(f"Removed digest {number}: <#{sub.channel}> gets it no more.")


def _listing(session: Session) -> str:
    tree = UnitTree.load(session=session)
    subs = subscriptions(session=session)
    if not subs:
        return f"No channel gets a digest yet. {USAGE}"
    lines = [
        f"{s.id}. <#{s.channel}> — *{escape(tree.path_text(s.unit_id))}*, {s.cadence} on "
        f"{WEEKDAYS[s.weekday].capitalize()} {s.at:%H:%M} {s.timezone}; next {slack_time(s.next_at)}"
        for s in subs[:50]
    ]
    return truncate("*Digests*\n" + "\n".join(lines))


async def _preview(deps: Deps, call: Invocation, name: str) -> None:
    if not name:
        await call.reply("Which unit? `/measure digest preview <unit>`.")
        return
    now = deps.clock()

    def load(session: Session):  # type: ignore[no-untyped-def]
        tree = UnitTree.load(session=session)
        found = tree.named(name)
        if len(found) != 1:
            return escape(tree.describe_matches(name, found))
        return load_digest(session=session, unit_id=found[0].id or 0, now=now, since=now - FIRST_SINCE[Cadence.WEEKLY])

    data = await deps.read(load)
    if isinstance(data, str):
        await call.reply(data)
        return
    digest = render_digest(data)
    await call.reply(digest.summary.text, digest.summary.blocks)
    fits = len(digest.thread) <= PREVIEW_PARTS
    shown = digest.thread if fits else digest.thread[: PREVIEW_PARTS - 1]  # the last use says what is left
    for part in shown:
        await call.reply(part.text, part.blocks)
    if not fits:
        more = len(digest.thread) - len(shown)
        text = f"… {more} more detail messages in the real digest's thread."
        await call.reply(text, [SectionBlock(text=text)])


SUBCOMMANDS: dict[str, Subcommand] = {
    "digest": digest,
}
