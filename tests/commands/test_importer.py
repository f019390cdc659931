"""`python -m bot import FILE.csv`, run as a process against the stand-in and the test database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from commands.importer import read_rows
from domain.enums import Cadence, Level, Stage
from slackkit.settings import Settings
from storage.models import AuditLog, Measure, Person, Unit
from storage.queries import get_measure
from tests.cli import run_bot
from tests.conftest import CONTROLLER, OWNER, SPONSOR, Bot

ROOT = Path(__file__).parents[2]
HEADER = (
    "organization,portfolio,program,project,package,key,title,owner,sponsor,controller,business_unit,function,"
    "baseline,target,due,stage,cadence,risks,dependencies,plan 2027-01,plan 2027-02,plan 2027-03"
)
GOOD = f"""{HEADER}
Acme,Ops,Procurement,Suppliers,Packaging,M-7,Consolidate suppliers,{OWNER},sam@example.com,{CONTROLLER},Consumer,Procurement,1.2m,180k,2027-06-30,DI2,biweekly thu 14:30,high: supplier delay | second supplier; low: slow approvals | escalate early,none,60k,60k,60k
Acme,Ops,Procurement,Suppliers,Packaging,,Renegotiate film,olivia@example.com,{SPONSOR},,Consumer,Procurement,800000,60000,,,,,,,,
Acme,Growth,Pricing,Realisation,Lists,M-2,List price update,,,,,,,,,DI0,,,,,,
"""


async def run_import(settings: Settings, csv_text: str, tmp_path: Path) -> tuple[int, str, str]:
    path = tmp_path / "measures.csv"
    path.write_text(csv_text)
    return await run_bot(settings, "import", str(path))


def dump(bot: Bot) -> dict[str, list[tuple[Any, ...]]]:
    with bot.engine.connect() as connection:
        return {
            table.name: [
                tuple(row) for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


async def test_import_creates_units_and_measures_and_twice_gives_the_same_database(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    code, out, err = await run_import(settings, GOOD, tmp_path)
    assert code == 0, err
    assert "9 units created, 3 measures created" in out
    with bot.session() as session:
        m7 = get_measure(session=session, key="M-7")
        assert m7 is not None
        assert (m7.owner_id, m7.sponsor_id, m7.controller_id) == (OWNER, SPONSOR, CONTROLLER)  # e-mail resolved
        assert (m7.stage, m7.cadence, m7.checkin_weekday, m7.checkin_time.hour) == (Stage.DI2, Cadence.BIWEEKLY, 3, 14)
        assert (m7.baseline, m7.target) == (1_200_000, 180_000)
        keyless = session.exec(select(Measure).where(Measure.title == "Renegotiate film")).one()
        assert keyless.key == "M-8" and keyless.owner_id == OWNER and keyless.stage == Stage.DI0
        assert session.get(Person, SPONSOR).tz == "Asia/Tokyo"  # type: ignore[union-attr]
        levels = [u.level for u in session.exec(select(Unit).order_by(Unit.id)).all()]
        assert levels[:5] == list(Level)
    before = dump(bot)

    code, out, err = await run_import(settings, GOOD, tmp_path)
    assert code == 0, err
    assert "0 units created, 0 measures created, 0 updated, 3 unchanged" in out
    assert dump(bot) == before


async def test_reimport_with_a_changed_cell_updates_and_audits(bot: Bot, settings: Settings, tmp_path: Path) -> None:
    assert (await run_import(settings, GOOD, tmp_path))[0] == 0
    changed = GOOD.replace("1.2m,180k", "1.2m,200k")
    code, out, _ = await run_import(settings, changed, tmp_path)
    assert code == 0 and "1 updated, 2 unchanged" in out
    with bot.session() as session:
        assert get_measure(session=session, key="M-7").target == 200_000  # type: ignore[union-attr]
        edits = session.exec(select(AuditLog).where(AuditLog.action == "edited")).all()
        assert [(e.actor, e.entity_key) for e in edits] == [("import", "M-7")]


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        (
            GOOD + "Acme,Ops,Procurement,Suppliers,Packaging,12M,Bad key,,,,,,lots,,2027-13-01,DI9,daily\n",
            ["line 5: key:", "line 5: baseline:", "line 5: due:", "line 5: stage:", "line 5: cadence:"],
        ),
        (
            GOOD + ",,,,,,,,,,,,,,,,\nAcme,,,,,,No units,,,,,,,,,,\n",
            ["line 6: portfolio is empty", "line 6: package is empty"],
        ),
        (
            GOOD + "Acme,Ops,Procurement,Suppliers,Packaging,M-7,Twice,,,,,,,,,,\n",
            ["line 5: the same measure as line 2"],
        ),
        (GOOD + "Acme,Ops,P,S,K,,Who,not-a-person,,,,,,,,,\n", ["line 5: owner: “not-a-person”"]),
        (GOOD.replace("cadence", "cadence,colour"), ["line 1: unknown columns: colour"]),
        (GOOD.replace("title,", "name,"), ["unknown columns: name", "missing columns: title"]),
    ],
)
async def test_bad_rows_are_all_reported_and_nothing_is_written(
    bot: Bot, settings: Settings, tmp_path: Path, csv_text: str, expected: list[str]
) -> None:
    code, _out, err = await run_import(settings, csv_text, tmp_path)
    assert code == 1
    assert "Nothing was imported" in err
    for fragment in expected:
        assert fragment in err
    assert all(table == [] for name, table in dump(bot).items() if name != "alembic_version")


async def test_people_slack_does_not_know_are_reported_with_their_line(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    text = GOOD + "Acme,Ops,P,S,K,,Ghost-owned,ghost@example.com,U0NOBODY,,,,,,,,\n"
    code, _out, err = await run_import(settings, text, tmp_path)
    assert code == 1
    assert "line 5: owner: Slack has no user ghost@example.com (users_not_found)" in err
    assert "line 5: sponsor: Slack has no user U0NOBODY (user_not_found)" in err
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == []


def test_read_rows_accepts_a_byte_order_mark_and_any_column_order() -> None:
    text = "\ufefftitle,package,project,program,portfolio,organization\nX,Pk,Pr,Pg,Pf,Org\n"
    rows, errors = read_rows(text)
    assert errors == []
    assert rows[0].units == ("Org", "Pf", "Pg", "Pr", "Pk") and rows[0].title == "X"
