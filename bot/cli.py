"""The one-shot commands behind `python -m bot import …`, `import-actuals`, `org` and `tick`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.sandbox import sandbox_directory
from commands.actuals_import import ImportRefused, apply_actual_rows, read_actuals_file
from commands.export import export_bytes, load_export
from commands.governance import apply_governance, show_governance
from commands.import_run import import_table
from commands.organization import change_organization, split_org_words
from commands.spreadsheet import SpreadsheetError, read_table
from reminders.sweep import sweep
from slackkit.context import freeze_startup_heap, make_deps
from slackkit.settings import Settings
from slackkit.web_client import make_web_client
from storage.db import create_db_engine, session_scope, upgrade
from storage.types import utcnow


async def run_import(settings: Settings, path: Path, *, allow_unmet: bool = False, dry_run: bool = False) -> int:
    """Units and measures from a CSV (`,` or `;`, UTF-8 or Windows-1252) or XLSX file, all or nothing;
    with `dry_run`, what would change, and nothing written (commands/import_run.py)."""
    try:
        table = read_table(path.read_bytes(), path.name)
    except OSError as error:
        return _fail(f"cannot read {path}: {error}")
    except SpreadsheetError as error:
        return _fail(f"Nothing was imported; {path.name} could not be read:\n{error}")
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)

    async def transaction(work: Callable[[Session], Any]) -> Any:
        def run() -> Any:
            with session_scope(engine, clock=utcnow) as session:
                return work(session)

        return await asyncio.to_thread(run)

    try:
        if settings.sandbox:  # no Slack: people are looked up in the sandbox's demo directory
            async with sandbox_directory(settings) as client:
                outcome = await import_table(table, transaction=transaction, client=client, now=utcnow(),
                                             dry_run=dry_run, allow_unmet=allow_unmet)  # fmt: skip
        else:
            outcome = await import_table(table, transaction=transaction, client=make_web_client(settings),
                                         now=utcnow(), dry_run=dry_run, allow_unmet=allow_unmet)  # fmt: skip
    finally:
        engine.dispose()
    return _finish(outcome.ok, outcome.text)


def run_export(settings: Settings, unit: str, file_format: str, path: Path) -> int:
    """Every measure of the unit (or of all) to `path`: XLSX with every sheet, or CSV of Measures."""
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)
    try:
        with session_scope(engine, clock=utcnow) as session:
            loaded = load_export(session, unit, with_audit=True)  # the command line has the database
            if isinstance(loaded, str):
                return _fail(loaded.replace("`/measure export` alone", "Without a unit it"))
            content = export_bytes(session, loaded, file_format=file_format)
    finally:
        engine.dispose()
    try:
        path.write_bytes(content)
    except OSError as error:
        return _fail(f"cannot write {path}: {error}")
    print(f"Exported {len(loaded.scope.ids)} measures to {path}.")
    return 0


def run_import_actuals(settings: Settings, path: Path) -> int:
    """Actuals from a CSV or XLSX file, all or nothing (commands/actuals_import.py)."""
    rows, errors = read_actuals_file(path)
    if errors and not rows:
        return _fail("Nothing was imported; fix these lines and run it again:\n" + "\n".join(errors))
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)
    try:
        with session_scope(engine, clock=utcnow) as session:
            report = apply_actual_rows(session=session, rows=rows, now=utcnow(), read_errors=errors)
    except ImportRefused as refused:
        return _fail("Nothing was imported; fix these lines and run it again:\n" + "\n".join(refused.errors))
    finally:
        engine.dispose()
    print(report.summary())
    return 0


def run_org(settings: Settings, words: list[str]) -> int:
    """Show an organization's settings, or change them (all or nothing), audited as the command line."""
    name, changes = split_org_words(words)
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)
    try:
        with session_scope(engine, clock=utcnow) as session:
            outcome = change_organization(session, name=name, words=changes, actor="cli")
    finally:
        engine.dispose()
    if outcome.error:
        return _fail(outcome.error)
    print(outcome.text())
    return 0


def run_governance(settings: Settings, action: str, argument: str) -> int:
    """`governance apply FILE` (a new version, all or nothing, audited as the command line) or
    `governance show ORG` (the version in force, as applied)."""
    document = ""
    if action == "apply":
        try:
            document = Path(argument).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            return _fail(f"cannot read {argument}: {error}")
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)
    try:
        with session_scope(engine, clock=utcnow) as session:
            outcome = (
                show_governance(session, argument)
                if action == "show"
                else apply_governance(session, document, actor="cli", now=utcnow())  # a refusal writes nothing
            )
    finally:
        engine.dispose()
    return _finish(outcome.ok, outcome.text)


async def run_tick(settings: Settings, now: datetime) -> int:
    """Do, once, all the scheduled work due at `now`, and return when every Slack call is done."""
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_db_engine(settings.database_url)
    deps = make_deps(settings, engine=engine, clock=lambda: now)
    deps.start_workers()
    freeze_startup_heap()
    try:
        report = await sweep(deps, now=now)
    finally:
        await deps.aclose()
        engine.dispose()
    print(f"tick {now.isoformat()}: {report.summary()}")
    for failure in report.delivery.failed:
        print(f"  not delivered: {failure}")
    return 0


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant; one without an offset is taken as UTC."""
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _finish(ok: bool, text: str) -> int:
    """A command's outcome: printed with exit status 0, or to stderr with 1."""
    if not ok:
        return _fail(text)
    print(text)
    return 0


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1
