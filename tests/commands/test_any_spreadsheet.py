"""`python -m bot import` takes any spreadsheet Excel saves: `;`-separated CSV in Windows-1252 with
headers as a person types them, an .xlsx workbook, a dry run that writes nothing, and every error
with its line, including what the database would refuse. Run as a process, both databases."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from sqlmodel import select

from slackkit.settings import Settings
from storage.models import Measure, MeasureMonth, Unit
from tests.cli import run_bot
from tests.conftest import OWNER, Bot

EUROPEAN = (
    "Organization;Portfolio;Program;Project;Package;Key;Title;Owner;Business Unit;Plan 2027-01;PLAN 2027-02\n"
    f"Acme;Ops;Procurement;Suppliers;Packaging;M-7;Lieferanten bündeln;{OWNER};Verbraucher;60000;60000\n"
    "Acme;Ops;Procurement;Suppliers;Packaging;;Folienpreise verhandeln;;;1000;\n"
)


async def run_file(settings: Settings, tmp_path: Path, name: str, data: bytes, *extra: str) -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_bytes(data)
    return await run_bot(settings, "import", str(path), *extra)


async def test_a_semicolon_separated_windows_1252_file_with_typed_headers_imports(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    code, out, err = await run_file(settings, tmp_path, "massnahmen.csv", EUROPEAN.encode("cp1252"))
    assert code == 0, err
    assert "2 measures created" in out
    with bot.session() as session:
        m7 = session.exec(select(Measure).where(Measure.key == "M-7")).one()
        assert (m7.title, m7.business_unit, m7.owner_id) == ("Lieferanten bündeln", "Verbraucher", OWNER)
        plan = session.exec(select(MeasureMonth).where(MeasureMonth.measure_id == m7.id)).all()
        assert sorted(m.plan for m in plan) == [60_000, 60_000]


async def test_an_xlsx_workbook_is_read_directly_with_exact_amounts(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["organization", "portfolio", "program", "project", "package", "key", "title", "target",
                  "plan 2027-01"])  # fmt: skip
    sheet.append(["Acme", "Ops", "P", "S", "K", "M-3", "Cut freight", 180000, 12500.0])
    path = tmp_path / "measures.xlsx"
    book.save(path)
    code, _out, err = await run_bot(settings, "import", str(path))
    assert code == 0, err
    with bot.session() as session:
        m3 = session.exec(select(Measure).where(Measure.key == "M-3")).one()
        [month] = session.exec(select(MeasureMonth).where(MeasureMonth.measure_id == m3.id)).all()
        assert (m3.target, month.plan) == (180_000, 12_500)


async def test_a_dry_run_says_what_would_change_and_writes_nothing(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    code, out, err = await run_file(settings, tmp_path, "m.csv", EUROPEAN.encode("utf-8"), "--dry-run")
    assert code == 0, err
    assert out.startswith("Dry run, nothing was written.") and "2 measures created" in out
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == [] and session.exec(select(Unit)).all() == []


async def test_the_organizations_own_keys_are_kept_and_one_key_in_two_cases_is_one_measure(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    text = (
        "organization,portfolio,program,project,package,key,title\n"
        "Acme,Ops,P,S,K,OPS-12,First\n"
        "Acme,Ops,P,S,K,FIN-2024-003,Second\n"
        "Acme,Ops,P,S,K,M-09997,Third\n"
        "Acme,Ops,P,S,K,M-9997,Fourth\n"
    )
    code, _out, err = await run_file(settings, tmp_path, "m.csv", text.encode())
    assert code == 0, err
    with bot.session() as session:
        keys = sorted(m.key for m in session.exec(select(Measure)).all())
    assert keys == ["FIN-2024-003", "M-09997", "M-9997", "OPS-12"]  # as the organization has them
    again = text.replace("OPS-12,First", "ops-12,First") + "Acme,Ops,P,S,K,Ops-12,Fifth\n"
    code, _out, err = await run_file(settings, tmp_path, "m.csv", again.encode())
    assert code == 1 and "line 6: the same measure as line 2" in err and "Traceback" not in err


async def test_a_file_in_no_known_encoding_says_how_to_save_it(bot: Bot, settings: Settings, tmp_path: Path) -> None:
    data = b"organization,title\nAcme," + b"\x81\x8d\n"  # bytes Windows-1252 leaves undefined
    code, _out, err = await run_file(settings, tmp_path, "m.csv", data)
    assert code == 1 and "CSV UTF-8" in err and "codec" not in err


async def test_many_people_are_resolved_with_one_paged_listing_and_known_ones_with_none(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    for n in range(250):  # more than one users.list page
        bot.slack.add_user(f"U1{n:05d}", name=f"Person {n}", email=f"p{n}@example.com")
    rows = "".join(f"Acme,Ops,P,S,K,M-{n + 1},Measure {n},p{n}@example.com\n" for n in range(250))
    text = "organization,portfolio,program,project,package,key,title,owner\n" + rows
    code, out, err = await run_file(settings, tmp_path, "m.csv", text.encode())
    assert code == 0 and "250 measures created" in out, err
    assert len(bot.slack.calls("users.list")) == 2  # two pages, not 250 look-ups
    assert bot.slack.calls("users.lookupByEmail") == [] and bot.slack.calls("users.info") == []
    with bot.session() as session:
        owners = {m.owner_id for m in session.exec(select(Measure)).all()}
        assert owners == {f"U1{n:05d}" for n in range(250)}
    # Imported again: the people are in the directory now, and nobody is looked up at all.
    code, out, err = await run_file(settings, tmp_path, "m.csv", text.encode())
    assert code == 0 and "250 unchanged" in out, err
    assert len(bot.slack.calls("users.list")) == 2
