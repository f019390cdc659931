"""Export: `/measure export [unit]` sends a spreadsheet to the requester's DM (Measures, Risks,
Check-ins, and Audit for admins; anyone else the measures they hold a role in); `python -m bot
export [unit] FILE` writes the same; importing an exported file changes nothing. Signed requests
and the command line, both databases."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from slackkit.settings import Settings
from tests.cli import run_bot
from tests.commands.test_importer import GOOD, run_import
from tests.conftest import ADMIN, OWNER, STRANGER, Bot


async def test_an_exported_file_imported_back_changes_nothing(bot: Bot, settings: Settings, tmp_path: Path) -> None:
    assert (await run_import(settings, GOOD, tmp_path))[0] == 0
    for name in ("all.xlsx", "all.csv"):
        code, out, err = await run_bot(settings, "export", str(tmp_path / name))
        assert code == 0 and "Exported 3 measures" in out, err
        code, out, err = await run_bot(settings, "import", str(tmp_path / name))
        assert code == 0, err
        assert "0 units created, 0 measures created, 0 updated, 3 unchanged" in out and "0 forecast" in out, out
    code, out, err = await run_bot(settings, "export", "Growth", str(tmp_path / "growth.xlsx"))
    assert code == 0 and "Exported 1 measures" in out
    rows = list(load_workbook(tmp_path / "growth.xlsx", read_only=True)["Measures"].iter_rows(values_only=True))
    assert [r[6] for r in rows[1:]] == ["List price update"]
    code, _out, err = await run_bot(settings, "export", "Nowhere", str(tmp_path / "x.xlsx"))
    assert code == 1 and "There is no unit “Nowhere”" in err


async def test_export_in_slack_goes_to_the_requesters_dm_with_audit_for_admins_only(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    assert (await run_import(settings, GOOD, tmp_path))[0] == 0
    for user, sheets in ((ADMIN, ["Measures", "Risks", "Check-ins", "Audit"]), (OWNER, ["Measures", "Risks",
                                                                                        "Check-ins"])):  # fmt: skip
        await bot.client.command(user, "export Ops")
        await bot.settle()
        assert "Sent you the export of 2 measures" in bot.slack.responses(user)[-1]["text"]
        [shared] = [m for m in bot.slack.dms(user) if m.files]
        content = bot.slack.state.uploads[shared.files[0]["id"]]["content"]
        book = load_workbook(BytesIO(content), read_only=True)
        assert book.sheetnames == sheets
        keys = sorted(str(r[5]) for r in list(book["Measures"].iter_rows(values_only=True))[1:])
        assert keys == ["M-7", "M-8"]
    await bot.client.command(STRANGER, "export")  # not an admin, and no role in any measure
    await bot.settle()
    assert "that you own, sponsor or control" in bot.slack.responses(STRANGER)[-1]["text"]
    assert not [m for m in bot.slack.dms(STRANGER) if m.files]
    await bot.client.command(OWNER, "export Nowhere")
    await bot.settle()
    assert "There is no unit “Nowhere”" in bot.slack.responses(OWNER)[-1]["text"]
