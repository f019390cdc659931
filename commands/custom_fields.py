"""`/measure field KEY [name=value …]`: a measure's values of its portfolio's custom fields (declared
in the governance file, docs/governance.md). Anyone may read them; its owner, sponsor, controller or an admin
sets them, all or nothing, with one audit record."""

from __future__ import annotations

import re

from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from domain.custom_fields import read_values, show_value
from domain.governance import FieldType
from domain.parsing import parse_user_mention
from domain.policy import Deed, Party, may
from messages.text import escape, truncate
from slackkit.people import NOT_A_PERSON, is_admin, people_errors
from storage.custom_values import fields_of, set_values, values_of
from storage.organization import style_of
from storage.queries import get_measure

SETTING = re.compile(r"([a-z][a-z0-9_]*)=(.*?)(?=\s+[a-z][a-z0-9_]*=|$)", re.DOTALL)
USAGE = "Use `/measure field M-12 customer_segment=SMB contract_ref=C-2027/114` (an empty value clears one)."


async def field(call: Invocation) -> None:
    key = await call.key("field")
    if key is None:
        return
    text = " ".join(call.args[1:])
    typed = {name: value for name, value in SETTING.findall(text)}
    if text and not typed:
        await call.reply(f"Nothing was changed. {USAGE}")
        return
    admin = await is_admin(call.deps, call.user_id) if typed else False
    now = call.deps.clock()
    if typed and (refused := await _not_people(call, key, typed)):
        await call.reply(f"Nothing was changed. {refused}: {NOT_A_PERSON}")
        return

    def work(session: Session) -> str:
        measure = get_measure(session=session, key=key)
        if measure is None:
            return f"There is no measure {key}."
        fields = fields_of(session=session, package_id=measure.package_id)
        style = style_of(session=session, unit_id=measure.package_id)
        if typed:
            if not may(Deed.EDIT, call.user_id, admin=admin, party=Party.of(measure)):
                return f"Only the owner, sponsor or controller of {key}, or an admin, can set its fields."
            values, errors = read_values(fields, typed, style)
            if errors:
                return "Nothing was changed. " + " ".join(escape(f"{name}: {why}") for name, why in errors.items())
            set_values(session=session, measure=measure, values=values, actor=call.user_id, now=now)
        if not fields:
            return f"{key}'s portfolio has no custom fields: its governance file declares them."
        held = values_of(session=session, measure_id=measure.id or 0)
        lines = [
            f"• *{escape(f.label)}* (`{f.name}`, {f.type}): "
            + (_shown(f.type, show_value(f, held[f.name], style)) if held.get(f.name) else "_not set_")
            for f in fields
        ]
        return ("Saved. " if typed else "") + f"*{key}* — custom fields:\n" + "\n".join(lines)

    run = call.deps.transaction if typed else call.deps.read  # a listing takes no write lock
    await call.reply(truncate(await run(work), 3000))


async def _not_people(call: Invocation, key: str, typed: dict[str, str]) -> str:
    """The person fields among `typed` whose value is not a person of this workspace, comma-separated."""

    def person_fields(session: Session) -> set[str]:
        measure = get_measure(session=session, key=key)
        fields = fields_of(session=session, package_id=measure.package_id) if measure else ()
        return {f.name for f in fields if f.type == FieldType.USER}

    people = {name: parse_user_mention(typed[name]) for name in await call.deps.read(person_fields) if typed.get(name)}
    picked = {name: person for name, person in people.items() if person}  # not a mention: read_values says so
    return ", ".join(sorted(await people_errors(call.deps, picked))) if picked else ""


def _shown(kind: FieldType, shown: str) -> str:
    return shown if kind == FieldType.USER else escape(truncate(shown, 200))


SUBCOMMANDS: dict[str, Subcommand] = {
    "field": field,
}
