"""One set of money definitions on every surface: random measures and histories, stored, then read
back by the card, the approval request, the digest (summary, breakdown and chart) and compared with
an oracle written here from docs/money.md, independently of domain/figures.py."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from commands.measure_data import measure_card
from domain.enums import Stage
from domain.figures import Figures
from messages.cards import card_blocks
from messages.digest import render_digest
from messages.text import money
from storage.db import session_scope
from storage.digest_data import COMMITTED, by_child, load_digest, months_of, rollup
from storage.gate_views import gate_view
from storage.models import GateRequest, MeasureMonth, Unit
from storage.types import utcnow
from tests.conftest import SPONSOR
from tests.factories import make_measure, make_tree

MONTHS = [date(2026 + i // 12, i % 12 + 1, 1) for i in range(36)]  # 2026-01 … 2028-12
_organizations = itertools.count(1)

amounts = st.one_of(st.none(), st.integers(-5_000, 50_000))
month_figures = st.tuples(st.sampled_from(MONTHS), amounts, amounts, amounts)
measures = st.lists(
    st.tuples(st.sampled_from([Stage.DI2, Stage.DI3, Stage.DI4, Stage.DI5]), st.sampled_from([0, 1]),
              st.lists(month_figures, max_size=14, unique_by=lambda m: m[0])),
    min_size=1, max_size=4,
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    fiscal_start: int
    today: date
    measures: list[tuple[Stage, int, list[tuple[date, int | None, int | None, int | None]]]]


def oracle(months: list[tuple[date, int | None, int | None, int | None]], today: date, start: int) -> Figures:
    """The fiscal year's figures as docs/money.md states them, computed the plain way."""
    year = today.year if today.month >= start else today.year - 1
    first = date(year, start, 1)
    last = date(year + (start + 10) // 12, (start + 10) % 12 + 1, 1)
    closed = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    plan = actual = forecast = 0
    for month, p, f, a in months:
        if not first <= month <= last:
            continue
        plan += p or 0
        if month <= closed and a is not None:
            actual += a
            forecast += a
        else:
            forecast += f if f is not None else p or 0
    return Figures(plan, actual, forecast)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fiscal_start=st.integers(1, 12),
    today=st.dates(date(2026, 6, 1), date(2028, 6, 30)),
    measures=measures,
)
def test_every_surface_shows_the_same_figures(engine: Engine, fiscal_start: int, today: date, measures: list) -> None:
    now = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    name = f"Org {next(_organizations)}"
    with session_scope(engine, clock=utcnow) as session:
        packages = [make_tree(session, names=(name, "Ops", "Procurement", "Suppliers", f"Pack {n}")) for n in (0, 1)]
        organization = packages[0].parent_id and session.get(Unit, packages[0].parent_id)
        while organization and organization.parent_id is not None:
            organization = session.get(Unit, organization.parent_id)
        assert organization
        organization.fiscal_year_start = fiscal_start
        session.add(organization)
        stored = []
        for stage, package, months in measures:
            measure = make_measure(session, package=packages[package], stage=stage, monthly_plan={}, now=now)
            session.add_all(MeasureMonth(measure_id=measure.id or 0, month=m, plan=p, forecast=f, actual=a)
                            for m, p, f, a in months)  # fmt: skip
            request = GateRequest(measure_id=measure.id or 0, kind="advance", from_stage=stage, to_stage=stage,
                                  requested_by=SPONSOR, requested_at=now, step_started_at=now)  # fmt: skip
            session.add(request)
            session.flush()
            stored.append((measure, request.id or 0, oracle(months, today, fiscal_start), stage))
        top = organization.id or 0

    with session_scope(engine, clock=lambda: now) as session:
        for measure, request_id, expected, _stage in stored:
            card = measure_card(session=session, measure=measure, now=now, can_edit=False)
            assert card.year == expected
            shown = json.dumps([b.to_dict() for b in card_blocks(card)], ensure_ascii=False)
            assert f"forecast {money(expected.forecast, card.style)} ·" in shown
            view = gate_view(session=session, request_id=request_id)
            assert view is not None and view.year == expected
        data = load_digest(session=session, unit_id=top, now=now, since=now)

    committed = [figures for _m, _r, figures, stage in stored if stage in COMMITTED]
    total = sum(committed, Figures())
    digest_total = rollup(data.groups, data.money, closed_through=data.closed_through)
    assert digest_total.money == total
    assert sum((r.money for _name, r in by_child(data)), Figures()) == total
    chart = months_of(data.money, closed_through=data.closed_through)
    assert (sum(m.plan for m in chart), sum(m.forecast for m in chart)) == (total.plan, total.forecast)
    assert sum(m.actual or 0 for m in chart) == total.actual
    summary = render_digest(data).summary.text
    assert f"forecast {money(total.forecast, data.style)}" in summary
