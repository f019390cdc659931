"""An organization's settings (`/measure org`, `python -m bot org`) and amounts written its way,
through signed requests to the running bot: a German organization types `2,5k` and reads `250.000 €`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from commands.measure_data import measure_card
from domain.measure_schema import Key
from slackkit.settings import Settings
from storage.models import AuditLog, Measure, MeasureMonth, Unit
from storage.queries import get_measure
from tests.commands.test_importer import run_import
from tests.commands.test_measure import FULL_FORM, last_reply, open_modal
from tests.conftest import ADMIN, OWNER, SPONSOR, Bot
from tests.factories import make_measure, make_tree
from tests.playbook import WED

ROOT = Path(__file__).resolve().parents[2]


def text_of(reply: dict[str, Any]) -> str:
    return (reply.get("text", "") + json.dumps(reply.get("blocks", []), ensure_ascii=False)).replace("\xa0", " ")


def acme(bot: Bot) -> Unit:
    with bot.session() as session:
        return session.exec(select(Unit).where(Unit.name == "Acme")).one()


def audit_count(bot: Bot) -> int:
    with bot.session() as session:
        return session.exec(select(sa.func.count()).select_from(AuditLog)).one()


async def test_an_admin_sets_currency_and_locale_and_every_amount_follows(bot: Bot) -> None:
    bot.clock.set(WED)
    with bot.session() as session:
        make_measure(session, package=make_tree(session), now=WED, baseline=1_250_000, target=250_000)

    await bot.client.command(SPONSOR, "org")  # anyone may look
    await bot.settle()
    assert "currency=EUR · locale=en · fiscal-year-start=1" in text_of(last_reply(bot, SPONSOR))

    await bot.client.command(ADMIN, "org Acme currency=chf locale=de fiscal-year-start=4 timezone=Europe/Zurich")
    await bot.settle()
    assert "Changed Acme: currency=CHF · locale=de · fiscal-year-start=4" in text_of(last_reply(bot, ADMIN))
    unit = acme(bot)
    assert (unit.currency, unit.locale, unit.fiscal_year_start, unit.timezone) == ("CHF", "de", 4, "Europe/Zurich")
    with bot.session() as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "settings_changed")).one()
    assert entry.actor == ADMIN and json.loads(entry.detail)["before"]["currency"] == "EUR"

    await bot.client.command(SPONSOR, "show M-1")
    await bot.settle()
    card = text_of(last_reply(bot, SPONSOR))
    assert "target 250.000 CHF" in card and "Baseline 1.250.000 CHF" in card


async def test_bad_settings_name_every_problem_and_store_nothing(bot: Bot) -> None:
    with bot.session() as session:
        make_tree(session)
    before = audit_count(bot)
    await bot.client.command(ADMIN, "org Acme currency=XYZ locale=fr fiscal-year-start=13 colour=blue")
    await bot.settle()
    said = text_of(last_reply(bot, ADMIN))
    assert said.startswith("Nothing changed.")
    for named in ("“XYZ” is not a currency", "“fr” is not a language", "“13” is not a month", "“colour=blue”"):
        assert named in said
    unit = acme(bot)
    assert (unit.currency, unit.locale, unit.fiscal_year_start) == (None, None, None)
    assert audit_count(bot) == before

    await bot.client.command(ADMIN, "org Nowhere locale=de")
    await bot.settle()
    assert "no organization called “Nowhere”" in text_of(last_reply(bot, ADMIN))
    assert acme(bot).locale is None


async def test_a_german_organization_types_amounts_the_german_way(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
        unit = session.exec(select(Unit).where(Unit.name == "Acme")).one()
        unit.locale = "de"
        session.add(unit)
    form = {**FULL_FORM, Key.PACKAGE: str(package.id), Key.BASELINE: "1,2 Mio", Key.TARGET: "2.5k"}
    view = await open_modal(bot, OWNER, "new")
    refused = (await bot.client.submit(OWNER, view, form)).json()
    assert refused["response_action"] == "errors" and set(refused["errors"]) == {Key.TARGET}
    assert "“2.5k” could be read as" in refused["errors"][Key.TARGET]
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == []  # nothing stored

    plan = "2027-01: 1.250\n2027-02: 1,25k"
    form |= {Key.TARGET: "2,5k", Key.MONTHLY_PLAN: plan}
    assert (await bot.client.submit(OWNER, view, form)).json()["response_action"] == "update"
    await bot.settle()
    with bot.session() as session:
        measure = get_measure(session=session, key="M-1")
        assert measure is not None and (measure.baseline, measure.target) == (1_200_000, 2_500)


async def run_org(settings: Settings, *words: str) -> tuple[int, str, str]:
    env = {**os.environ, "SLACK_BOT_TOKEN": settings.bot_token, "SLACK_SIGNING_SECRET": settings.signing_secret,
           "SLACK_API_URL": settings.api_url, "DATABASE_URL": settings.database_url}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "org", *words, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_command_line_shows_and_changes_the_same_settings(bot: Bot, settings: Settings) -> None:
    with bot.session() as session:
        make_tree(session)
    code, out, _err = await run_org(settings, "Acme", "currency=USD")
    assert code == 0 and "Changed Acme: currency=USD" in out
    assert acme(bot).currency == "USD"
    code, _out, err = await run_org(settings, "Acme", "currency=dollars", "locale=de")
    assert code != 0 and "“dollars” is not a currency" in err
    assert (acme(bot).currency, acme(bot).locale) == ("USD", None)  # the good word was not applied either
    code, out, _err = await run_org(settings)
    assert code == 0 and "Settings of Acme: currency=USD" in out


async def test_the_import_reads_amounts_the_way_the_rows_organization_writes_them(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    with bot.session() as session:
        make_tree(session)
    await run_org(settings, "Acme", "locale=de")
    header = "organization,portfolio,program,project,package,title,baseline,target"
    rows = '\nAcme,Ops,Procurement,Suppliers,Packaging,Reuse pallets,"1,2 Mio","2,5k"\n'
    code, _out, err = await run_import(settings, header + rows, tmp_path)
    assert code == 0, err
    with bot.session() as session:
        measure = session.exec(select(Measure)).one()
    assert (measure.baseline, measure.target) == (1_200_000, 2_500)

    doubtful = '\nAcme,Ops,Procurement,Suppliers,Packaging,Reuse film,"250,000",1k\n'
    code, _out, err = await run_import(settings, header + doubtful, tmp_path)
    assert code == 1 and "line 2: baseline: “250,000” could be read as 250 € or as 250.000 €" in err.replace(
        "\xa0", " "
    )
    with bot.session() as session:
        assert len(session.exec(select(Measure)).all()) == 1  # nothing more stored


def test_the_organizations_own_date_decides_which_months_are_closed(bot: Bot) -> None:
    """At 23:30 UTC on 31 March it is already April in Berlin: March is closed and its actual counts."""
    late = datetime(2027, 3, 31, 23, 30, tzinfo=UTC)
    with bot.session() as session:
        measure = make_measure(session, package=make_tree(session), now=late)
        march = session.get(MeasureMonth, (measure.id, date(2027, 3, 1)))
        assert march is not None  # the factory plans 10k a month in 2027
        march.actual = 4_000
        session.add(march)
        session.flush()
        seen = {}
        for timezone in ("UTC", "Europe/Berlin"):
            unit = session.exec(select(Unit).where(Unit.name == "Acme")).one()
            unit.timezone = timezone
            session.add(unit)
            session.flush()
            seen[timezone] = measure_card(session=session, measure=measure, now=late, can_edit=False).year.actual
    assert seen == {"UTC": 0, "Europe/Berlin": 4_000}
