"""The import carries the money and respects the gates: `plan YYYY-MM` columns, forecasts, actuals,
risks, dependencies, evidence, description and one-time cost; a row placed at a stage must meet its
entry criteria, or an admin's `--allow-unmet-criteria` imports it flagged. Run as a process.

The process reads the real clock: actuals are given for months of last year (always closed)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import select

from slackkit.settings import Settings
from storage.models import AuditLog, Dependency, Evidence, Measure, MeasureMonth, Risk
from storage.queries import get_measure
from tests.cli import run_bot
from tests.commands.test_importer import dump
from tests.conftest import CONTROLLER, OWNER, SPONSOR, Bot

ROOT = Path(__file__).parents[2]
LAST_YEAR = datetime.now(UTC).year - 1
PLACE = "Acme,Ops,Procurement,Suppliers,Packaging"
HEADER = (
    "organization,portfolio,program,project,package,key,title,owner,sponsor,controller,business_unit,function,"
    "baseline,target,due,stage,description,one_time_cost,risks,dependencies,evidence,"
    f"plan {LAST_YEAR}-11,plan {LAST_YEAR}-12,forecast {LAST_YEAR}-12,actual {LAST_YEAR}-11"
)
PEOPLE = f"{OWNER},{SPONSOR},{CONTROLLER},Consumer,Procurement"


def row(key: str, title: str, stage: str, *, due: str = f"{LAST_YEAR}-12-31", risks: str = "none",
        deps: str = "none", evidence: str = "", plan: tuple[str, str] = ("10k", "15k"), forecast: str = "",
        actual: str = "") -> str:  # fmt: skip
    return (
        f"{PLACE},{key},{title},{PEOPLE},1m,25k,{due},{stage},Fewer suppliers,5k,{risks},{deps},{evidence},"
        f"{plan[0]},{plan[1]},{forecast},{actual}"
    )


async def run_import(settings: Settings, lines: list[str], tmp_path: Path, *flags: str) -> tuple[int, str, str]:
    path = tmp_path / "measures.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return await run_bot(settings, "import", str(path), *flags)


async def test_the_money_columns_are_imported_and_twice_change_nothing(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    lines = [
        row(
            "M-1",
            "Consolidate",
            "DI2",
            risks="high: supplier delay | second supplier; low: slow legal | start early",
            deps="M-2",
            forecast="14k",
            actual="9.5k",
        ),
        row("M-2", "Renegotiate", "DI4", evidence="https://wiki.example/a https://wiki.example/b"),
    ]
    code, out, err = await run_import(settings, lines, tmp_path)
    assert code == 0, err
    assert "2 measures created" in out and "2 forecast and actual months changed" in out
    with bot.session() as session:
        first, second = get_measure(session=session, key="M-1"), get_measure(session=session, key="M-2")
        assert first and second and first.id and second.id
        assert (first.description, first.one_time_cost, first.stage) == ("Fewer suppliers", 5_000, "DI2")
        months = {m.month: (m.plan, m.forecast, m.actual) for m in session.exec(
            select(MeasureMonth).where(MeasureMonth.measure_id == first.id))}  # fmt: skip
        assert months == {date(LAST_YEAR, 11, 1): (10_000, None, 9_500), date(LAST_YEAR, 12, 1): (15_000, 14_000, None)}
        risks = session.exec(select(Risk).where(Risk.measure_id == first.id)).all()
        assert [(r.severity, r.text, r.mitigation) for r in risks] == [
            ("high", "supplier delay", "second supplier"), ("low", "slow legal", "start early")]  # fmt: skip
        assert [d.depends_on_id for d in session.exec(select(Dependency))] == [second.id]  # a row further down
        assert second.dependencies_stated and second.no_known_risks
        assert sorted(e.url for e in session.exec(select(Evidence))) == [
            "https://wiki.example/a",
            "https://wiki.example/b",
        ]
    before = dump(bot)
    code, out, err = await run_import(settings, lines, tmp_path)
    assert code == 0 and "0 measures created, 0 updated, 2 unchanged" in out, err
    assert dump(bot) == before


async def test_a_row_below_its_stage_is_refused_whole_naming_the_line_and_the_gap(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    lines = [
        row("M-1", "Consolidate", "DI1"),
        row("M-2", "Renegotiate", "DI3", due="", plan=("10k", "10k")),  # no due date; plans 20k of 25k
        row("M-3", "Evidence", "DI4"),  # no evidence
    ]
    code, out, err = await run_import(settings, lines, tmp_path)
    assert code == 1 and out == ""
    assert (
        "line 3: to be placed at DI3, it still needs: a due date, a monthly value plan that sums to the target:" in err
    )
    assert "sums to €20,000 of the €25,000 target" in err
    assert "line 4: to be placed at DI4, it still needs: evidence that the activities are done (a link)" in err
    assert "line 2" not in err
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == []


async def test_a_migration_may_import_below_the_criteria_flagged_and_audited(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    lines = [row("M-1", "Consolidate", "DI3", due="")]
    code, out, err = await run_import(settings, lines, tmp_path, "--allow-unmet-criteria")
    assert code == 0 and "1 below their stage's criteria (flagged)" in out, err
    with bot.session() as session:
        measure = get_measure(session=session, key="M-1")
        assert measure and measure.stage == "DI3"
        flagged = session.exec(select(AuditLog).where(AuditLog.action == "imported_unmet_criteria")).all()
        assert [json.loads(a.detail or "{}") for a in flagged] == [{"stage": "DI3", "missing": ["a due date"]}]
    await bot.client.command(OWNER, "show M-1")
    await bot.settle()
    card = json.dumps(bot.slack.responses(OWNER)[-1]["blocks"], ensure_ascii=False)
    assert ":warning: Imported at DI3 without a due date." in card
    code, out, _ = await run_import(settings, lines, tmp_path, "--allow-unmet-criteria")  # the same file again
    assert code == 0 and "1 unchanged" in out
    with bot.session() as session:
        assert len(session.exec(select(AuditLog).where(AuditLog.action == "imported_unmet_criteria")).all()) == 1


async def test_money_cells_that_cannot_be_stored_refuse_the_file(bot: Bot, settings: Settings, tmp_path: Path) -> None:
    future = f"{datetime.now(UTC).year + 1}"
    header_with_future = HEADER + f",actual {future}-01,forecast {LAST_YEAR - 1}-01"
    path_lines = [
        row("M-1", "Consolidate", "DI1", plan=("10k", "lots")) + ",,",
        row("M-2", "Renegotiate", "DI1") + f",5k,{''}",
        row("M-3", "Third", "DI1") + ",,3k",
    ]
    path = tmp_path / "measures.csv"
    path.write_text("\n".join([header_with_future, *path_lines]) + "\n")
    code, _out, err = await run_bot(settings, "import", str(path))
    assert code == 1
    assert f"line 2: plan {LAST_YEAR}-12: “lots” is not an amount" in err
    assert f"line 3: actual {future}-01: outside the plan's horizon ({LAST_YEAR}-11 to {LAST_YEAR}-12)" in err
    assert f"line 4: forecast {LAST_YEAR - 1}-01: outside the plan's horizon" in err
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == []
