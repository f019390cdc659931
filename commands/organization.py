"""`/measure org [NAME] [key=value …]`: an organization's settings, shown to anyone, changed by admins.

`python -m bot org NAME key=value …` calls the same `change_organization`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from commands.invocation import Invocation
from domain.organization import OrganizationSettings, parse_changes
from domain.policy import Deed
from messages.text import escape
from slackkit.people import allowed
from storage.organization import change_settings, organizations, settings_of
from storage.tree import UnitTree

USAGE = (
    "`/measure org [NAME] key=value …` with currency=EUR, locale=de|en, fiscal-year-start=1…12, timezone=Europe/Berlin,"
    " working-days=mon-fri, holidays=DE-BY|none"
)


@dataclass(frozen=True)
class OrgOutcome:
    """What a look at or change of an organization's settings came to (`error` set: nothing stored)."""

    name: str = ""
    settings: OrganizationSettings | None = None
    changed: bool = False
    error: str | None = None

    def text(self) -> str:
        if self.error:
            return self.error
        assert self.settings is not None
        shown = " · ".join(f"{key}={value}" for key, value in self.settings.shown().items())
        return f"{'Changed' if self.changed else 'Settings of'} {self.name}: {shown}"


def split_org_words(words: list[str]) -> tuple[str, list[str]]:
    """The organization's name (the words before the first key=value) and the key=value words."""
    first = next((i for i, word in enumerate(words) if "=" in word), len(words))
    return " ".join(words[:first]), words[first:]


def change_organization(session: Session, *, name: str, words: list[str], actor: str) -> OrgOutcome:
    """Look up the organization by name (or the only one), check every word, then change all or nothing."""
    every = organizations(session=session)
    found = UnitTree({u.id: u for u in every}).named(name) if name else every
    if len(found) != 1:
        names = ", ".join(u.name for u in every) or "none yet"
        what = f"no organization called “{name[:80]}”" if name and not found else "more than one organization"
        return OrgOutcome(error=f"There is {what}; name one of: {names}.")
    organization = found[0]
    changes, errors = parse_changes(words)
    if errors:
        return OrgOutcome(error="Nothing changed. " + " · ".join(errors))
    if not changes:
        return OrgOutcome(name=organization.name, settings=settings_of(organization))
    after = change_settings(session=session, organization=organization, changes=changes, actor=actor)
    return OrgOutcome(name=organization.name, settings=after, changed=True)


async def org(call: Invocation) -> None:
    name, words = split_org_words(call.args)
    if words and not await allowed(call.deps, call.user_id, Deed.CONFIGURE_ORGANIZATION):
        await call.reply("Only admins (the programme office) can change an organization's settings.")
        return
    if words:
        outcome = await call.deps.transaction(
            lambda s: change_organization(s, name=name, words=words, actor=call.user_id)
        )
    else:
        outcome = await call.deps.read(lambda s: change_organization(s, name=name, words=[], actor=call.user_id))
    hint = "" if outcome.changed or not outcome.settings else f"\nChange with {USAGE}."
    await call.reply(escape(outcome.text()) + hint)


SUBCOMMANDS = {"org": org}
