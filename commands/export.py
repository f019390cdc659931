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
from storage.db import create_db_engine, session_scope
from storage.export_data import ExportScope, export_chunks, export_scope
from storage.models import Unit
from storage.types import utcnow


@dataclass(frozen=True)
class Export:
    name: str  # the file's name, from the unit's
    scope: ExportScope


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
    scope = export_scope(session=session, unit=unit, with_audit=with_audit, only_for=only_for)
    return Export(f"pacekeeper-{slug}", scope)


def export_bytes(session: Session, export: Export, *, file_format: str) -> bytes:
    """The file, its measures read a chunk at a time while it is written (memory stays flat)."""
    chunks = export_chunks(session=session, scope=export.scope)
    if file_format == "csv":
        return measures_csv(export.scope, chunks)
    return measures_workbook_full(export.scope, chunks)


@dataclass(frozen=True)
class ExportFile:
    name: str
    count: int
    content: bytes


def export_file(database_url: str, name: str, *, with_audit: bool, only_for: str | None) -> ExportFile | str:
    """The whole export as one call, for the worker process (`Deps.offload`): it reads the database
    with its own engine and writes the workbook there, off the bot's event loop and its GIL."""
    engine = create_db_engine(database_url)
    try:
        with session_scope(engine, clock=utcnow) as session:
            loaded = load_export(session, name, with_audit=with_audit, only_for=only_for)
            if isinstance(loaded, str) or not loaded.scope.ids:
                return loaded if isinstance(loaded, str) else ExportFile(loaded.name, 0, b"")
            return ExportFile(loaded.name, len(loaded.scope.ids), export_bytes(session, loaded, file_format="xlsx"))
    finally:
        engine.dispose()


async def export(call: Invocation) -> None:
    deps = call.deps
    admin = await allowed(deps, call.user_id, Deed.EXPORT)  # everything, with the audit trail
    only_for = None if admin else call.user_id  # else the measures they hold a role in
    made = await deps.offload(
        partial(export_file, deps.settings.database_url, " ".join(call.args), with_audit=admin, only_for=only_for)
    )
    if isinstance(made, str):
        await call.reply(made)
        return
    if not made.count:
        yours = "." if admin else " that you own, sponsor or control."
        await call.reply(f"There are no measures to export there{yours}")
        return
    channel = (await deps.client.conversations_open(users=call.user_id))["channel"]["id"]
    sheets = "Measures, Risks, Check-ins" + (" and Audit" if admin else "")
    back = "Import it back with `python -m bot import`."
    async with deps.pacer.slot():
        await deps.client.files_upload_v2(
            channel=channel, file=made.content, filename=f"{made.name}.xlsx", title=f"{made.count} measures",
            initial_comment=f"Your export: {made.count} measures ({sheets}). {back}",
        )  # fmt: skip
    await call.reply(f"Sent you the export of {made.count} measures in a DM.")


SUBCOMMANDS: dict[str, Subcommand] = {"export": export}
