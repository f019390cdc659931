"""One import of a spreadsheet's rows, whoever asked for it: `python -m bot import` (bot/cli.py) and
a file sent to the bot in a DM (commands/import_slack.py) run this same code. Read and checked, the
people resolved (the stored directory first, then Slack in bulk), then applied in one transaction;
a dry run applies it and rolls it back, to say what would change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from commands.import_writer import ImportReport, RowsRefused, apply_rows
from commands.importer import organization_styles, people_errors, read_rows, resolve_people
from domain.parsing import InputError
from storage.directory import directory_users

T = TypeVar("T")
Transaction = Callable[[Callable[[Session], Any]], Awaitable[Any]]
REFUSED = "Nothing was imported; fix these rows and run it again:"


@dataclass(frozen=True)
class ImportOutcome:
    ok: bool  # the file is good (written, or a dry run that would write it)
    written: bool
    text: str  # the summary, or the refusal with every bad line
    errors: tuple[str, ...] = ()


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction, so that nothing of it is kept."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("dry run")
        self.report = report


async def import_table(
    table: list[list[str]], *, transaction: Transaction, client: AsyncWebClient, now: datetime, dry_run: bool,
    allow_unmet: bool = False,
) -> ImportOutcome:  # fmt: skip
    styles = await transaction(lambda s: organization_styles(session=s))
    rows, errors = read_rows(table, styles=styles)
    if errors:
        return _refused(errors)
    refs = [ref for row in rows for ref in row.people.values()]
    known = await transaction(lambda s: directory_users(session=s, refs=refs))
    users, unknown = await resolve_people(client, refs, known=known)
    problems = people_errors(rows, unknown)
    if problems:
        return _refused(problems)

    def apply(session: Session) -> ImportReport:
        report = apply_rows(session=session, rows=rows, users=users, now=now, allow_unmet=allow_unmet)
        if dry_run:
            raise _DryRun(report)
        return report

    try:
        report = await transaction(apply)
    except _DryRun as dry:
        return ImportOutcome(True, False, f"Dry run, nothing was written. {dry.report.summary()}")
    except RowsRefused as refused:
        return _refused(refused.errors)
    except InputError as error:
        return ImportOutcome(False, False, f"Nothing was imported: {error}", (str(error),))
    return ImportOutcome(True, True, report.summary())


def _refused(errors: list[str]) -> ImportOutcome:
    return ImportOutcome(False, False, REFUSED + "\n" + "\n".join(errors), tuple(errors))
