"""`python -m bot governance apply FILE | show ORG`, as a process against the test database (both
databases): a good file becomes the organization's next version, audited; a bad one is refused with
every error and its path — of its form, and of what it names in the database — and nothing is
stored; `show` prints the version in force."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from slackkit.settings import Settings
from storage.governance_tables import GovernanceVersion
from storage.models import AuditLog
from tests.cli import run_bot
from tests.conftest import CONTROLLER, Bot
from tests.factories import add_people, make_tree

GOOD = f"""\
organization: Acme
portfolios:
  Ops:
    tolerance: 10
    fields:
      - {{name: customer_segment, label: Customer segment, type: select, options: [SMB, Enterprise]}}
    gates:
      DI2: {{requires: [due, monthly_plan_sums_to_target, risks_or_none, dependencies_stated, customer_segment]}}
      DI3: {{approvers: [sponsor, {{person: {CONTROLLER}}}]}}
kpis:
  - {{name: Client response time, unit: hours, direction: lower, baseline: 48, target: 24, target_date: 2027-12-31}}
"""

BAD = """\
organization: Acme
portfolios:
  Sales:
    gates:
      DI9: {requires: [due]}
      DI3: {approvers: [{person: U0NOBODY}]}
kpis:
  - {name: NPS, unit: points, direction: higher, baseline: 10}
"""


def acme_with_people(bot: Bot, path: Path, document: str) -> Path:
    """The tree Acme › Ops …, the workspace's people, and `document` written to `path`."""
    with bot.session() as session:
        add_people(session, bot.slack)
        make_tree(session)
    path.write_text(document)
    return path


def versions(bot: Bot) -> list[int]:
    with bot.session() as session:
        return [v.version for v in session.exec(select(GovernanceVersion)).all()]


async def test_a_governance_file_is_applied_as_a_new_version_and_shown(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    path = acme_with_people(bot, tmp_path / "acme.yaml", GOOD)
    code, out, err = await run_bot(settings, "governance", "apply", str(path))
    assert code == 0 and "Applied version 1 of Acme's governance (portfolios: Ops; 1 KPIs)" in out, err
    code, out, _ = await run_bot(settings, "governance", "apply", str(path))
    assert code == 0 and "version 2" in out and versions(bot) == [1, 2]
    code, out, _ = await run_bot(settings, "governance", "show", "acme")
    assert code == 0 and out.startswith("# version 2, applied by cli") and "customer_segment" in out
    with bot.session() as session:
        audit = session.exec(select(AuditLog).where(AuditLog.action == "governance_applied")).all()
        assert [a.actor for a in audit] == ["cli", "cli"]


async def test_a_bad_file_is_refused_with_every_path_and_nothing_is_stored(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    path = acme_with_people(bot, tmp_path / "bad.yaml", BAD)
    code, _out, err = await run_bot(settings, "governance", "apply", str(path))
    assert code == 1 and "Nothing applied" in err
    assert "portfolios.Sales.gates.DI9" in err and "kpis[0].target:" in err and "kpis[0].target_date" in err
    path.write_text(BAD.replace("DI9: {requires: [due]}\n", "").replace(", baseline: 10", ", baseline: 10, "
                                "target: 20, target_date: 2027-12-31"))  # fmt: skip
    code, _out, err = await run_bot(settings, "governance", "apply", str(path))  # its form is right now
    assert code == 1 and "portfolios.Sales: Acme has no portfolio called “Sales”" in err
    assert "portfolios.Sales.gates.DI3.approvers: <@U0NOBODY> is not a person" in err
    path.write_text("organization: [Acme\n")
    code, _out, err = await run_bot(settings, "governance", "apply", str(path))
    assert code == 1 and "this is not YAML" in err
    assert versions(bot) == []
    code, out, _ = await run_bot(settings, "governance", "show", "Acme")
    assert code == 0 and "no governance file" in out
