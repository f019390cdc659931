"""The API's JSON: measures as ERP and BI tools read them. Amounts are integers in whole units of
`currency`; months are `YYYY-MM`; people are Slack user ids. A measure's custom `fields` are its
portfolio's (docs/governance.md), each as stored: an amount in whole units, a number as a decimal
string, a date as YYYY-MM-DD, a person as a user id."""

from __future__ import annotations

from typing import Any

from storage.api_measures import ApiMeasure, ApiMonth, ApiPage


def measure_json(record: ApiMeasure) -> dict[str, Any]:
    m = record.measure
    shown: dict[str, Any] = {
        "key": m.key, "title": m.title, "description": m.description, "unit": record.path,
        "stage": m.stage, "held_from_stage": m.held_from_stage,
        "implementation_status": m.impl_status, "potential_status": m.potential_status,
        "owner": m.owner_id, "sponsor": m.sponsor_id, "controller": m.controller_id,
        "due": m.due.isoformat() if m.due else None, "currency": record.currency,
        "baseline": m.baseline, "target": m.target, "one_time_cost": m.one_time_cost,
        "version": m.version, "updated_at": m.updated_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    if record.months is not None:
        shown["months"] = [month_json(month) for month in record.months]
    if record.fields is not None:
        shown["fields"] = dict(sorted(record.fields.items()))
    return shown


def month_json(month: ApiMonth) -> dict[str, Any]:
    return {
        "month": month.month.isoformat()[:7], "plan": month.plan, "forecast": month.forecast,
        "actual": month.actual, "actual_validated": month.actual_validated,
    }  # fmt: skip


def page_json(page: ApiPage, *, next_url: str | None) -> dict[str, Any]:
    return {
        "measures": [measure_json(record) for record in page.measures],
        "next": next_url,
        "next_after": page.next_after,
    }
