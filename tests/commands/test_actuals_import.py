"""`python -m bot import-actuals FILE`, run as a process against the test database: CSV or XLSX,
the whole file or nothing, errors by line, the same file twice changes nothing.

The process reads the real clock, so the plans here are laid around today's month: the six months
before it are closed, this month is not."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import select

from domain.figures import add_months, first_of_month
from slackkit.settings import Settings
from storage.models import AuditLog, MeasureMonth, Unit
from tests.cli import run_bot
from tests.commands.test_importer import dump
from tests.conftest import CONTROLLER, Bot
from tests.factories import add_people, make_measure, make_tree

ROOT = Path(__file__).parents[2]
THIS_MONTH = first_of_month(datetime.now(UTC).date())


def month(offset: int) -> date:
    return add_months(THIS_MONTH, offset)


def ym(offset: int) -> str:
    return f"{month(offset):%Y-%m}"


def two_measures(bot: Bot) -> None:
    """M-1 and M-2, each planning 10k a month from six months ago to five months ahead."""
    now = datetime.now(UTC)
    bot.clock.set(now)
    plan = {month(k): 10_000 for k in range(-6, 6)}
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
        for title in ("Consolidate", "Renegotiate"):
            make_measure(session, package=package, title=title, monthly_plan=plan, target=120_000, now=now)


async def import_actuals(settings: Settings, path: Path) -> tuple[int, str, str]:
    return await run_bot(settings, "import-actuals", str(path))


def actuals(bot: Bot) -> dict[tuple[int, str], int]:
    with bot.session() as session:
        rows = session.exec(select(MeasureMonth).where(MeasureMonth.actual.is_not(None))).all()  # type: ignore[union-attr]
        return {(m.measure_id, f"{m.month:%Y-%m}"): m.actual or 0 for m in rows}


async def test_a_csv_of_actuals_is_imported_once_and_twice_changes_nothing(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    two_measures(bot)
    path = tmp_path / "actuals.csv"
    path.write_text(f'key,month,actual\nM-1,{ym(-3)},"9,000"\nm-1,{ym(-2)},8500\nM-2,{ym(-1)},1.5k\n\n')
    code, out, err = await import_actuals(settings, path)
    assert code == 0, err
    assert "3 months changed on 2 measures; 0 lines already as stored" in out
    assert actuals(bot) == {(1, ym(-3)): 9_000, (1, ym(-2)): 8_500, (2, ym(-1)): 1_500}
    with bot.session() as session:
        entries = session.exec(select(AuditLog).where(AuditLog.action == "actuals_entered")).all()
        assert [(e.actor, e.entity_key, json.loads(e.detail or "{}")["validated"]) for e in entries] == [
            ("import", "M-1", []), ("import", "M-2", [])
        ]  # fmt: skip
    before = dump(bot)
    code, out, err = await import_actuals(settings, path)
    assert code == 0 and "0 months changed on 0 measures; 3 lines already as stored" in out, err
    assert dump(bot) == before


async def test_an_xlsx_with_number_and_date_cells_is_imported(bot: Bot, settings: Settings, tmp_path: Path) -> None:
    two_measures(bot)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Key", "Month", "Actual"], ["M-1", month(-4), 12_000], ["M-2", ym(-5), "€7,250"], [None, None, None]):
        sheet.append(row)
    book.save(tmp_path / "actuals.xlsx")
    code, _out, err = await import_actuals(settings, tmp_path / "actuals.xlsx")
    assert code == 0, err
    assert actuals(bot) == {(1, ym(-4)): 12_000, (2, ym(-5)): 7_250}


async def test_a_semicolon_csv_in_a_german_organization(bot: Bot, settings: Settings, tmp_path: Path) -> None:
    two_measures(bot)
    with bot.session() as session:
        organization = session.exec(select(Unit).where(Unit.level == "organization")).one()
        organization.locale = "de"
        session.add(organization)
    path = tmp_path / "actuals.csv"
    path.write_text(f"key;month;actual\nM-1;{ym(-3)};2,5k\nM-1;{ym(-2)};1.250.000\nM-2;{ym(-1)};250.000 €\n")
    code, _out, err = await import_actuals(settings, path)
    assert code == 0, err
    assert actuals(bot) == {(1, ym(-3)): 2_500, (1, ym(-2)): 1_250_000, (2, ym(-1)): 250_000}


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([f"M-9,{ym(-1)},100"], ["line 3: there is no measure M-9"]),
        ([f"M-1,{ym(0)},100"], [f"line 3: M-1 {ym(0)} is not a closed month of the plan"]),
        ([f"M-1,{ym(-7)},100"], [f"line 3: M-1 {ym(-7)} is not a closed month of the plan"]),
        ([f"M-1,{ym(-2)},100"], [f"line 3: M-1 {ym(-2)} is given twice (first on line 2)"]),
        (["M-1,2027-13,100", f"M-2,{ym(-1)},lots", f"M-2,{ym(-2)},"],
         ["line 3: the month “2027-13” is not YYYY-MM", "line 4: “lots”", "line 5: no actual"]),
        ([f"M-2,{ym(-1)},\"250000,50\""], ["line 3: “250000,50” could be read as “25,000,050” or “250,000.5”"]),
        ([f"M-1,{ym(-4)},9500"], [f"line 3: M-1 {ym(-4)} was validated by the controller: only the controller"]),
    ],
)  # fmt: skip
async def test_any_bad_line_refuses_the_whole_file_naming_each_line(
    bot: Bot, settings: Settings, tmp_path: Path, lines: list[str], expected: list[str]
) -> None:
    two_measures(bot)
    with bot.session() as session:  # the controller validated M-1's actual four months ago
        row = session.get(MeasureMonth, (1, month(-4)))
        assert row is not None
        row.actual, row.actual_validated_by, row.actual_validated_at = 9_000, CONTROLLER, datetime.now(UTC)
        session.add(row)
    before = dump(bot)
    path = tmp_path / "actuals.csv"
    path.write_text("\n".join(["key,month,actual", f"M-1,{ym(-2)},8500", *lines]) + "\n")
    code, out, err = await import_actuals(settings, path)
    assert code == 1 and out == ""
    assert "Nothing was imported; fix these lines and run it again:" in err
    for fragment in expected:
        assert fragment in err, err
    assert dump(bot) == before


async def test_a_file_with_other_columns_is_refused(bot: Bot, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "actuals.csv"
    path.write_text("key,period,value\nM-1,2026-01,5\n")
    code, _out, err = await import_actuals(settings, path)
    assert code == 1 and "line 1: the columns are key, period, value; they must be key, month, actual" in err
