"""Custom fields as spreadsheet columns (`field NAME`): the import reads each by the type its
portfolio's governance file gives it, all or nothing; the export writes them so that importing it
back changes nothing. The command line, both databases."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from commands.governance import apply_governance
from slackkit.settings import Settings
from storage.models import Measure, MeasureFieldValue
from tests.cli import run_bot
from tests.commands.test_gates import NOW
from tests.commands.test_importer import GOOD, run_import
from tests.conftest import ADMIN, Bot

FIELDS = """\
organization: Acme
portfolios:
  Ops:
    fields:
      - {name: customer_segment, label: Customer segment, type: select, options: [SMB, Enterprise]}
      - {name: headcount, label: Headcount, type: number}
"""


def with_fields(first: str, others: str = ",") -> str:
    """GOOD with `field customer_segment` and `field headcount` columns: `first` on its first row."""
    header, *rows = GOOD.strip().splitlines()
    cells = [first, *[others] * (len(rows) - 1)]
    return "\n".join([f"{header},Field customer_segment,field_headcount",
                      *(f"{row},{cell}" for row, cell in zip(rows, cells, strict=True))]) + "\n"  # fmt: skip


def stored(bot: Bot) -> dict[str, dict[str, str]]:
    with bot.session() as session:
        keys = {m.id: m.key for m in session.exec(select(Measure))}
        found: dict[str, dict[str, str]] = {}
        for value in session.exec(select(MeasureFieldValue)):
            found.setdefault(keys[value.measure_id], {})[value.name] = value.value
        return found


async def test_custom_fields_are_imported_by_type_and_exported_to_import_back_unchanged(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    assert (await run_import(settings, GOOD, tmp_path))[0] == 0  # Acme and its portfolios exist
    with bot.session() as session:
        assert apply_governance(session, FIELDS, actor=ADMIN, now=NOW).ok
    code, _out, err = await run_import(settings, with_fields("Mid-market,twelve"), tmp_path)
    assert code == 1 and "line 2: field customer_segment: Customer segment is one of SMB, Enterprise" in err, err
    assert "line 2: field headcount: Headcount is a number" in err and stored(bot) == {}  # nothing kept
    code, _out, err = await run_import(settings, with_fields(",", others="SMB,"), tmp_path)
    assert code == 1 and "“customer_segment” is not a field of this portfolio" in err  # Growth declares none
    code, out, err = await run_import(settings, with_fields('enterprise,"1,234.5"'), tmp_path)
    assert code == 0 and "1 updated" in out, (out, err)
    assert stored(bot) == {"M-7": {"customer_segment": "Enterprise", "headcount": "1234.5"}}
    for name in ("all.csv", "all.xlsx"):
        code, out, err = await run_bot(settings, "export", str(tmp_path / name))
        assert code == 0, err
        code, out, err = await run_bot(settings, "import", str(tmp_path / name))
        assert code == 0 and "0 updated, 3 unchanged" in out, (out, err)
    exported = (tmp_path / "all.csv").read_text()
    assert "field customer_segment,field headcount" in exported and 'Enterprise,"1,234.5"' in exported
