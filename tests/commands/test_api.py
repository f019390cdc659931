"""The API for ERP and BI tools (`/api/v1/`), over HTTP against the running app, on both databases:
tokens made and revoked in Slack by admins, reads, writes under the money rules, idempotent retries,
the per-token rate limit, JSON errors and the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import date
from typing import Any

import aiohttp
from sqlalchemy import event
from sqlmodel import select

from bot.app import create_app
from bot.web import create_web_app
from commands.api.access import KnownTokens
from commands.api.app import ROUTES
from commands.api.together import MeasureReads
from commands.governance import apply_governance
from domain.enums import Stage
from slackkit.settings import Settings
from storage.api_tables import ApiReplay, ApiToken
from storage.models import AuditLog, Measure, MeasureMonth
from tests.commands.test_gates import NOW
from tests.conftest import ADMIN, OWNER, STRANGER, Bot, start_site
from tests.factories import add_people, make_measure, make_tree


async def new_token(bot: Bot, name: str, scope: str = "") -> str:
    await bot.client.command(ADMIN, f"api-token new {name} {scope}".strip())
    await bot.settle()
    text = bot.slack.responses(ADMIN)[-1]["text"]
    found = re.search(r"`(pk_[A-Za-z0-9_-]{43})`", text)
    assert found, text
    return found[1]


async def call(bot: Bot, method: str, path: str, token: str | None = None, body: Any = None,
               headers: dict[str, str] | None = None, url: str | None = None) -> tuple[int, Any, Any]:  # fmt: skip
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    target = f"{url or bot.url}/api/v1{path}"
    async with aiohttp.ClientSession() as http, http.request(method, target, data=data, headers=sent) as response:
        return response.status, await response.json(), response.headers


def two_measures(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        make_measure(session, package=make_tree(session), title="Consolidate suppliers")
        make_measure(session, package=make_tree(session, names=("Acme", "Growth", "Pricing", "Lists", "Retail")),
                     title="List price update")  # fmt: skip


async def test_admins_make_list_and_revoke_tokens_others_cannot_and_only_a_hash_is_kept(bot: Bot) -> None:
    secret = await new_token(bot, "sap-actuals", "write")
    assert "not shown again" in bot.slack.responses(ADMIN)[-1]["text"]
    await bot.client.command(ADMIN, "api-token new sap-actuals")
    await bot.settle()
    assert "already" in bot.slack.responses(ADMIN)[-1]["text"]
    for bad in ("api-token new <!channel>", "api-token new x maybe", "api-token frobnicate"):
        await bot.client.command(ADMIN, bad)
        await bot.settle()
        assert "pk_" not in bot.slack.responses(ADMIN)[-1]["text"]
    await bot.client.command(STRANGER, "api-token new mine write")
    await bot.settle()
    assert "Only admins" in bot.slack.responses(STRANGER)[-1]["text"]
    with bot.session() as session:
        [token] = session.exec(select(ApiToken)).all()
        assert (token.name, token.scope, token.created_by) == ("sap-actuals", "write", ADMIN)
        assert secret not in json.dumps(token.model_dump(), default=str)  # the hash, never the secret
    assert (await call(bot, "GET", "/measures", secret))[0] == 200
    await bot.client.command(ADMIN, "api-token list")
    await bot.settle()
    assert "`sap-actuals` (write)" in bot.slack.responses(ADMIN)[-1]["text"]
    await bot.client.command(ADMIN, "api-token revoke sap-actuals")
    await bot.settle()
    assert "writes nothing more" in bot.slack.responses(ADMIN)[-1]["text"]
    status, answer, _ = await call(bot, "POST", "/actuals", secret, {"actuals": []})  # a write: refused at once
    assert status == 401 and answer["error"]["code"] == "unauthorized"
    await asyncio.sleep(KnownTokens(clock=time.monotonic).keep)  # reads remember a token's lookup for a second
    status, answer, headers = await call(bot, "GET", "/measures", secret)
    assert status == 401 and answer["error"]["code"] == "unauthorized" and "Bearer" in headers["WWW-Authenticate"]
    with bot.session() as session:
        actions = [a.action for a in session.exec(select(AuditLog).where(AuditLog.entity == "api_token")).all()]
    assert actions == ["api_token_created", "api_token_revoked"]


async def test_without_a_token_or_with_a_wrong_one_nothing_is_read(bot: Bot) -> None:
    two_measures(bot)
    for token in (None, "pk_" + "x" * 43, "xoxb-not-ours"):
        status, answer, _ = await call(bot, "GET", "/measures/M-1", token)
        assert status == 401 and answer["error"]["code"] == "unauthorized" and "Consolidate" not in json.dumps(answer)
    status, answer, _ = await call(bot, "GET", "/measures", headers={"Authorization": "Basic YTpi"})
    assert status == 401


async def test_measures_are_read_by_page_by_unit_and_one_with_its_months(bot: Bot) -> None:
    two_measures(bot)
    token = await new_token(bot, "bi")
    status, page, _ = await call(bot, "GET", "/measures?limit=1", token)
    assert status == 200 and [m["key"] for m in page["measures"]] == ["M-1"] and page["next_after"] is not None
    status, rest, _ = await call(bot, "GET", page["next"].removeprefix("/api/v1"), token)
    assert [m["key"] for m in rest["measures"]] == ["M-2"] and rest["next"] is None
    status, growth, _ = await call(bot, "GET", "/measures?unit=growth", token)
    assert [m["title"] for m in growth["measures"]] == ["List price update"]
    assert growth["measures"][0]["unit"]["portfolio"] == "Growth" and growth["measures"][0]["currency"] == "EUR"
    status, answer, _ = await call(bot, "GET", "/measures?unit=Nowhere", token)
    assert status == 404 and answer["error"]["code"] == "unit_not_found"
    status, answer, _ = await call(bot, "GET", "/measures?limit=0", token)
    assert status == 422 and "limit" in answer["error"]["message"]
    status, one, _ = await call(bot, "GET", "/measures/m-1", token)
    assert status == 200 and one["key"] == "M-1" and one["owner"] == OWNER and one["target"] == 120_000
    assert one["months"][0] == {"month": "2027-01", "plan": 10_000, "forecast": None, "actual": None,
                                "actual_validated": False}  # fmt: skip
    assert one["fields"] == {}
    status, answer, _ = await call(bot, "GET", "/measures/M-99", token)
    assert status == 404 and answer["error"] == {"code": "not_found", "message": "There is no measure M-99."}


async def test_a_measure_shows_its_custom_fields_as_stored(bot: Bot) -> None:
    two_measures(bot)
    token = await new_token(bot, "bi")
    with bot.session() as session:
        document = ("organization: Acme\nportfolios:\n  Ops:\n    fields:\n"
                    "      - {name: capex, label: Capex, type: money}\n"
                    "      - {name: contract_ref, label: Contract reference, type: text}\n")  # fmt: skip
        assert apply_governance(session, document, actor=ADMIN, now=NOW).ok
    await bot.client.command(OWNER, "field M-1 capex=€1.2m contract_ref=C-114")
    await bot.settle()
    status, one, _ = await call(bot, "GET", "/measures/M-1", token)
    assert status == 200 and one["fields"] == {"capex": "1200000", "contract_ref": "C-114"}
    status, page, _ = await call(bot, "GET", "/measures", token)
    assert "fields" not in page["measures"][0]  # only with one measure, as its months
    writer = await new_token(bot, "crm", "write")
    status, answer, _ = await call(bot, "PUT", "/measures/M-1/fields", token, {"fields": {"capex": 1}})
    assert status == 403  # a read token
    bad = {"fields": {"capex": "lots", "colour": "red", "contract_ref": None}}
    status, answer, _ = await call(bot, "PUT", "/measures/M-1/fields", writer, bad)
    assert status == 422 and {d["field"] for d in answer["error"]["details"]} == {"capex", "colour"}
    status, answer, _ = await call(bot, "PUT", "/measures/M-1/fields", writer, {"fields": {"capex": 2.5}})
    assert status == 422 and "fraction goes in quotes" in answer["error"]["message"]
    assert (await call(bot, "GET", "/measures/M-1", token))[1]["fields"]["capex"] == "1200000"  # unchanged
    body = {"fields": {"capex": 900_000, "contract_ref": None}}
    status, answer, _ = await call(bot, "PUT", "/measures/M-1/fields", writer, body)
    assert status == 200 and answer["changed"] == ["capex", "contract_ref"]
    assert answer["measure"]["fields"] == {"capex": "900000"}
    with bot.session() as session:
        audit = session.exec(select(AuditLog).where(AuditLog.action == "fields_changed")).all()[-1]
        assert audit.actor == "api:crm" and json.loads(audit.detail)["capex"] == ["1200000", "900000"]


async def test_months_are_written_under_the_money_rules_all_or_nothing_and_audited(bot: Bot) -> None:
    two_measures(bot)
    reader, writer = await new_token(bot, "bi"), await new_token(bot, "erp", "write")
    body = {"months": {"2027-04": {"plan": 12_000, "forecast": 11_000}, "2027-02": {"actual": 9_500}}}
    status, answer, _ = await call(bot, "PUT", "/measures/M-1/months", reader, body)
    assert status == 403 and answer["error"]["code"] == "forbidden"
    status, answer, _ = await call(bot, "PUT", "/measures/M-1/months", writer, body)
    assert status == 200 and answer["changed"] == 3, answer
    months = {m["month"]: m for m in answer["measure"]["months"]}
    assert (months["2027-04"]["plan"], months["2027-04"]["forecast"], months["2027-02"]["actual"]) == (
        12_000, 11_000, 9_500)  # fmt: skip
    with bot.session() as session:
        audit = session.exec(select(AuditLog).where(AuditLog.actor == "api:erp")).all()
        assert {a.action for a in audit} == {"edited", "forecasts_entered", "actuals_entered"}
    before = month_rows(bot)
    refused = {"months": {"2027-05": {"plan": 1}, "2027-06": {"actual": 5}, "2028-06": {"forecast": 3}}}
    status, answer, _ = await call(bot, "PUT", "/measures/M-1/months", writer, refused)
    assert status == 422 and {(d["month"], d["field"]) for d in answer["error"]["details"]} == {
        ("2027-06", "actual"), ("2028-06", "forecast")}  # fmt: skip
    assert month_rows(bot) == before  # the good plan month was not kept either
    with bot.session() as session:
        decided = session.exec(select(Measure).where(Measure.key == "M-1")).one()
        decided.stage = Stage.DI3
        session.add(decided)
    status, answer, _ = await call(bot, "PUT", "/measures/M-1/months", writer, {"months": {"2027-05": {"plan": 1}}})
    assert status == 422 and "re-baseline" in answer["error"]["details"][0]["message"]


def month_rows(bot: Bot) -> list[tuple[int, date, int | None, int | None, int | None]]:
    with bot.session() as session:
        rows = session.exec(select(MeasureMonth).order_by(MeasureMonth.measure_id, MeasureMonth.month)).all()
        return [(m.measure_id, m.month, m.plan, m.forecast, m.actual) for m in rows]


async def test_bad_bodies_are_refused_with_the_place_and_nothing_is_written(bot: Bot) -> None:
    two_measures(bot)
    writer = await new_token(bot, "erp", "write")
    before = month_rows(bot)
    for body, status, words in (
        (b"{not json", 400, "not JSON"),
        ({"months": {"2027-13": {"plan": 1}}}, 422, "YYYY-MM"),
        ({"months": {"2027-04": {"plan": 1.5}}}, 422, "whole number"),
        ({"months": {"2027-04": {"plan": "1.000"}}}, 422, "whole number"),
        ({"months": {"2027-04": {"budget": 1}}}, 422, "nothing else"),
        ({"actuals": [{"key": "M-1", "month": "2027-02"}]}, 422, "actuals[1]"),
    ):  # fmt: skip
        path = "/actuals" if isinstance(body, dict) and "actuals" in body else "/measures/M-1/months"
        got, answer, _ = await call(bot, "POST" if path == "/actuals" else "PUT", path, writer, body)
        assert got == status and words in answer["error"]["message"], answer
    assert month_rows(bot) == before


async def test_bulk_actuals_with_an_idempotency_key_are_applied_once(bot: Bot) -> None:
    two_measures(bot)
    writer = await new_token(bot, "erp", "write")
    body = {"actuals": [{"key": "M-1", "month": "2027-01", "actual": 9_000},
                        {"key": "m-2", "month": "2027-02", "actual": 8_000}]}  # fmt: skip
    key = {"Idempotency-Key": "sap-run-2027-03-01"}
    first = await call(bot, "POST", "/actuals", writer, body, key)
    assert first[0] == 200 and first[1] == {"changed": 2, "measures": 2, "unchanged": 0}
    with bot.session() as session:  # someone changes a month between the two tries
        row = session.exec(select(MeasureMonth).where(MeasureMonth.actual == 9_000)).one()
        row.actual = 1
        session.add(row)
    again = await call(bot, "POST", "/actuals", writer, body, key)
    assert again[:2] == first[:2] and again[2]["Idempotent-Replayed"] == "true"
    assert sorted(m[4] for m in month_rows(bot) if m[4] is not None) == [1, 8_000]  # the retry changed nothing
    status, answer, _ = await call(bot, "POST", "/actuals", writer, {"actuals": body["actuals"][:1]}, key)
    assert status == 422 and answer["error"]["code"] == "idempotency_key_reused"
    status, answer, _ = await call(bot, "POST", "/actuals", writer,
                                   {"actuals": [{"key": "M-9", "month": "2027-01", "actual": 1}]})  # fmt: skip
    assert status == 422 and "item 1: there is no measure M-9" in answer["error"]["details"][0]["message"]
    with bot.session() as session:
        assert len(session.exec(select(ApiReplay)).all()) == 1
        assert len(session.exec(select(AuditLog).where(AuditLog.action == "actuals_entered")).all()) == 2


async def test_each_token_has_its_rate_and_is_told_when_to_retry(bot: Bot, settings: Settings) -> None:
    app = create_app(settings.with_overrides(api_rate=0.5, api_burst=3), engine=bot.engine, clock=bot.clock)
    runner, url = await start_site(create_web_app(app))
    try:
        first, second = await new_token(bot, "one"), await new_token(bot, "two")
        statuses = [(await call(bot, "GET", "/measures", first, url=url))[0] for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        status, answer, headers = await call(bot, "GET", "/measures", first, url=url)
        assert status == 429 and answer["error"]["code"] == "rate_limited" and int(headers["Retry-After"]) >= 1
        assert (await call(bot, "GET", "/measures", second, url=url))[0] == 200  # its own bucket
    finally:
        await runner.cleanup()
        await app.deps.aclose()


async def test_the_openapi_document_names_every_route_and_errors_are_json(bot: Bot) -> None:
    status, document, _ = await call(bot, "GET", "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert documented == {(method, path) for method, path, _ in ROUTES}
    status, answer, _ = await call(bot, "GET", "/nothing-here")
    assert status == 404 and answer["error"]["code"] == "not_found"
    status, answer, headers = await call(bot, "DELETE", "/actuals")
    assert status == 405 and answer["error"]["code"] == "method_not_allowed" and "POST" in headers["Allow"]


async def test_two_retries_at_once_with_one_key_write_once_and_answer_alike(bot: Bot) -> None:
    two_measures(bot)
    writer = await new_token(bot, "erp", "write")
    body = {"actuals": [{"key": "M-1", "month": "2027-01", "actual": 9_000}]}
    key = {"Idempotency-Key": "sap-run-twice"}
    answers = await asyncio.gather(*(call(bot, "POST", "/actuals", writer, body, key) for _ in range(4)))
    assert {(status, json.dumps(answer)) for status, answer, _ in answers} == {
        (200, json.dumps({"changed": 1, "measures": 1, "unchanged": 0}))}  # fmt: skip
    assert sum(headers.get("Idempotent-Replayed") == "true" for _, _, headers in answers) == 3
    with bot.session() as session:
        assert len(session.exec(select(ApiReplay)).all()) == 1
        assert len(session.exec(select(AuditLog).where(AuditLog.action == "actuals_entered")).all()) == 1


async def test_reads_sent_together_each_get_their_own_measure_or_refusal(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
        for number in range(1, 13):
            make_measure(session, package=package, title=f"Measure number {number}")
    token = await new_token(bot, "bi")
    keys = [f"m-{number}" for number in range(1, 13)] + ["M-99"]
    answers = await asyncio.gather(*(call(bot, "GET", f"/measures/{key}", token) for key in keys),
                                   call(bot, "GET", "/measures/M-1", "pk_not_a_token"))  # fmt: skip
    for key, (status, answer, _) in zip(keys[:12], answers, strict=False):
        assert status == 200 and answer["key"] == key.upper() and answer["title"] == f"Measure number {key[2:]}"
        assert answer["months"][0]["plan"] == 10_000
    assert answers[12][0] == 404 and answers[13][0] == 401


async def test_reads_waiting_together_cost_one_read_of_the_database(bot: Bot) -> None:
    two_measures(bot)
    token = await new_token(bot, "bi")
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    reader = bot.app.deps.reader or bot.engine
    event.listen(reader, "before_cursor_execute", seen)
    reads = MeasureReads(deps=bot.app.deps, tokens=KnownTokens(clock=time.monotonic))
    found = await asyncio.gather(*(reads.one(secret=token, key=key) for key in ("M-1", "m-2", "M-1", "M-3")))
    event.remove(reader, "before_cursor_execute", seen)
    assert [record.measure.key if record else None for _, record in found] == ["M-1", "M-2", "M-1", None]
    assert {holder.name for holder, _ in found if holder} == {"bi"}
    measured = [s for s in statements if "measure" in s.lower()]
    assert len(measured) == 2, statements  # measures, then their months with their custom field values
