"""`/measure export [unit]`: the measures of the unit (or of all) as a spreadsheet in the requester's
DM — sheets Measures (the import's columns: importing it back changes nothing), Risks, Check-ins,
and Audit. Who may export everything (with the audit trail) is the policy's `Deed.EXPORT` (admins);
anyone else gets the measures they own, sponsor or control, without it. `python -m bot export`
(bot/cli.py) writes the same file with everything."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from commands.measure_data import unit_named
from domain.policy import Deed
from messages.export_workbook import measures_csv, measures_workbook_full
from messages.text import escape, truncate
from slackkit.people import allowed
from storage.export_data import ExportData, export_data
from storage.models import Unit


@dataclass(frozen=True)
class Export:
    name: str  # the file's name, from the unit's
    data: ExportData


def load_export(session: Session, name: str, *, with_audit: bool, only_for: str | None = None) -> Export | str:
    """The unit named (every measure without a name), or a sentence saying why not. `only_for`: the
    measures this person holds a role in (someone the policy does not let export everything)."""
    unit: Unit | None = None
    if name.strip():
        none = f"There is no unit “{escape(truncate(name, 80))}”. `/measure export` alone exports everything."
        found = unit_named(session, name, none_found=none)
        if isinstance(found, str):
            return found
        unit = found
    slug = "-".join(re.sub(r"[^a-z0-9]+", " ", (unit.name if unit else "all").lower()).split()) or "unit"
    data = export_data(session=session, unit=unit, with_audit=with_audit, only_for=only_for)
    return Export(f"pacekeeper-{slug}", data)


def export_bytes(export: Export, *, file_format: str, with_audit: bool) -> bytes:
    if file_format == "csv":
        return measures_csv(export.data)
    return measures_workbook_full(export.data, with_audit=with_audit)


async def export(call: Invocation) -> None:
    deps = call.deps
    admin = await allowed(deps, call.user_id, Deed.EXPORT)  # everything, with the audit trail
    only_for = None if admin else call.user_id  # else the measures they hold a role in
    loaded = await deps.read(lambda s: load_export(s, " ".join(call.args), with_audit=admin, only_for=only_for))
    if isinstance(loaded, str):
        await call.reply(loaded)
        return
    if not loaded.data.measures:
        yours = "." if admin else " that you own, sponsor or control."
        await call.reply(f"There are no measures to export there{yours}")
        return
    book = await deps.offload(partial(export_bytes, loaded, file_format="xlsx", with_audit=admin))
    channel = (await deps.client.conversations_open(users=call.user_id))["channel"]["id"]
    sheets = "Measures, Risks, Check-ins" + (" and Audit" if admin else "")
    count = len(loaded.data.measures)
    async with deps.pacer.slot():
        await deps.client.files_upload_v2(
            channel=channel, file=book, filename=f"{loaded.name}.xlsx", title=f"{count} measures",
            initial_comment=f"Your export: {count} measures ({sheets}). Import it back with `python -m bot import`.",
        )  # fmt: skip
    await call.reply(f"Sent you the export of {count} measures in a DM.")


SUBCOMMANDS: dict[str, Subcommand] = {"export": export}
