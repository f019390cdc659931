"""The API's routes, mounted by bot/web.py under `/api/v1/`:

    GET  /measures?unit=&limit=&after=   a page of measures (by id; `next` is the following page)
    GET  /measures/{key}                 one measure with its months and custom fields
    PUT  /measures/{key}/months          plan, forecast and actual by month (the money rules)
    PUT  /measures/{key}/fields          its custom fields, each read by its type (docs/governance.md)
    POST /actuals                        actuals in bulk, as `python -m bot import-actuals`
    GET  /openapi.json                   this, as OpenAPI 3.1

Errors are JSON `{"error": {"code", "message", "details"?}}` with their HTTP status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlmodel import Session

from commands.actuals_import import ImportRefused, apply_actual_rows
from commands.api import access
from commands.api.errors import ApiError, invalid
from commands.api.inputs import actual_rows, field_entries, month_entries, whole_number
from commands.api.limits import RateLimiter
from commands.api.openapi import OPENAPI
from commands.api.together import MeasureReads
from commands.api.views import measure_json, page_json
from domain.custom_fields import read_values
from domain.policy import Deed
from slackkit.context import Deps
from storage.api_measures import MAX_PAGE, UnitNotFound, measure_detail, measure_page
from storage.api_tokens import TokenHolder
from storage.custom_values import fields_of, set_values
from storage.models import Measure
from storage.month_writes import MonthsRefused, put_months
from storage.organization import style_of
from storage.queries import get_measure

log = logging.getLogger("pacekeeper.api")
READS: web.AppKey[MeasureReads] = web.AppKey("reads", MeasureReads)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal as JSON with its status; an unexpected failure is logged and answered 500."""
    try:
        return await handler(request)
    except ApiError as error:
        return web.json_response(error.body(), status=error.status, headers=error.headers)
    except web.HTTPException as http:  # aiohttp's own: unknown path, wrong method, body too large
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(http.status, "bad_request")
        allow = {"Allow": http.headers["Allow"]} if "Allow" in http.headers else {}
        refusal = ApiError(http.status, code, http.reason, headers=allow)
        return web.json_response(refusal.body(), status=http.status, headers=refusal.headers)
    except Exception:
        log.exception("the API failed on %s %s", request.method, request.path)
        return web.json_response(ApiError(500, "internal", "Something went wrong; it is logged.").body(), status=500)


async def list_measures(request: web.Request) -> web.Response:
    limit = whole_number(request.query.get("limit"), "limit", default=100, low=1, high=MAX_PAGE)
    after = whole_number(request.query.get("after"), "after", default=0, low=0, high=2**62)
    unit = request.query.get("unit")
    try:
        page = await access.read(request, lambda c: measure_page(connection=c, unit=unit, after=after, limit=limit))
    except UnitNotFound as error:
        raise ApiError(404, "unit_not_found", str(error)) from None
    next_url = None
    if page.next_after is not None:
        next_url = str(request.rel_url.update_query({"after": page.next_after, "limit": limit}))
    return web.json_response(page_json(page, next_url=next_url))


async def get_measure_json(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    caller = access.caller_of(request)
    holder, record = await request.app[READS].one(secret=caller.secret, key=key)
    access.allowed(holder, (Deed.EXPORT,))
    if record is None:
        raise ApiError(404, "not_found", f"There is no measure {key[:24]}.")
    return web.json_response(measure_json(record))


def _months_deeds(body: Any) -> tuple[Deed, ...]:
    months = body.get("months") if isinstance(body, dict) else None
    kinds = {kind for figures in (months or {}).values() if isinstance(figures, dict) for kind in figures}
    return (Deed.EDIT,) * bool(kinds & {"plan", "forecast"}) + (Deed.ENTER_ACTUALS,) * ("actual" in kinds)


async def put_measure_months(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    deps = request.app[access.DEPS]

    def work(session: Session, holder: TokenHolder, body: Any) -> tuple[int, dict[str, Any]]:
        entries = month_entries(body)
        measure = _measure_named(session, key)
        try:
            changed = put_months(session=session, measure=measure, entries=entries, actor=holder.actor,
                                 now=deps.clock())  # fmt: skip
        except MonthsRefused as refused:
            details = [{"month": f"{r.month:%Y-%m}", "field": r.kind, "message": r.reason} for r in refused.refusals]
            raise invalid(f"{measure.key}: nothing was changed.", details) from None
        return 200, {"changed": changed, "measure": _as_written(session, measure)}

    return await access.write(request, _months_deeds, work)


async def put_measure_fields(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    deps = request.app[access.DEPS]

    def work(session: Session, holder: TokenHolder, body: Any) -> tuple[int, dict[str, Any]]:
        typed = field_entries(body)
        measure = _measure_named(session, key)
        fields = fields_of(session=session, package_id=measure.package_id)
        values, errors = read_values(fields, typed, style_of(session=session, unit_id=measure.package_id))
        if errors:
            details = [{"field": name, "message": why} for name, why in errors.items()]
            raise invalid(f"{measure.key}: nothing was changed.", details)
        changed = set_values(session=session, measure=measure, values=values, actor=holder.actor, now=deps.clock())
        return 200, {"changed": sorted(changed), "measure": _as_written(session, measure)}

    return await access.write(request, lambda _body: (Deed.EDIT,), work)


def _measure_named(session: Session, key: str) -> Measure:
    measure = get_measure(session=session, key=key.upper())
    if measure is None:
        raise ApiError(404, "not_found", f"There is no measure {key[:24]}.")
    return measure


def _as_written(session: Session, measure: Measure) -> dict[str, Any]:
    """The measure's JSON read back on the session's connection, as this write left it."""
    session.flush()
    record = measure_detail(connection=session.connection(), key=measure.key)
    assert record is not None
    return measure_json(record)


async def post_actuals(request: web.Request) -> web.Response:
    deps = request.app[access.DEPS]

    def work(session: Session, holder: TokenHolder, body: Any) -> tuple[int, dict[str, Any]]:
        rows = actual_rows(body)
        try:
            report = apply_actual_rows(session=session, rows=rows, now=deps.clock(), actor=holder.actor)
        except ImportRefused as refused:
            details = [{"message": error.replace("line ", "item ", 1)} for error in refused.errors]
            raise invalid("Nothing was changed: every item must be right.", details) from None
        return 200, {"changed": report.changed, "measures": report.measures, "unchanged": report.unchanged}

    return await access.write(request, lambda _body: (Deed.ENTER_ACTUALS,), work)


async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/measures", list_measures),
    ("GET", "/measures/{key}", get_measure_json),
    ("PUT", "/measures/{key}/months", put_measure_months),
    ("PUT", "/measures/{key}/fields", put_measure_fields),
    ("POST", "/actuals", post_actuals),
    ("GET", "/openapi.json", openapi),
]


def create_api_app(deps: Deps) -> web.Application:
    api = web.Application(middlewares=[json_errors], client_max_size=4 * 1024 * 1024)
    api[access.DEPS] = deps
    api[access.LIMITER] = RateLimiter(rate=deps.settings.api_rate, burst=deps.settings.api_burst, clock=time.monotonic)
    api[access.TOKENS] = access.KnownTokens(clock=time.monotonic)
    api[READS] = MeasureReads(deps=deps, tokens=api[access.TOKENS])
    for method, path, handler in ROUTES:
        api.router.add_route(method, path, handler)
    return api
