"""One set of money definitions on every surface: random measures and histories, stored, then read
back by the card, the approval request, the lists (App Home, `/measure list`), the digest (summary,
breakdown and chart) and compared with an oracle written here from docs/money.md, independently of
domain/figures.py."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import select

from commands.measure_data import measure_card
from domain.enums import Stage
from domain.figures import Figures
from messages.cards import card_blocks, measure_line
from messages.digest import render_digest
from messages.text import money
from storage.db import session_scope
from storage.digest_data import COMMITTED, load_digest
from storage.digest_rollup import by_child, months_of, unit_rollup
from storage.gate_views import gate_view
from storage.models import GateRequest, MeasureMonth, Unit
from storage.types import utcnow
from storage.year_figures import year_figures_of
from tests.conftest import SPONSOR
from tests.factories import make_measure, make_tree

MONTHS = [date(2026 + i // 12, i % 12 + 1, 1) for i in range(36)]  # 2026-01 … 2028-12
_organizations = itertools.count(1)

amounts = st.one_of(st.none(), st.integers(-5_000, 50_000))
month_figures = st.tuples(st.sampled_from(MONTHS), amounts, amounts, amounts)
measures = st.lists(
    st.tuples(st.sampled_from([Stage.DI1, Stage.DI2, Stage.DI3, Stage.DI4, Stage.DI5]), st.sampled_from([0, 1]),
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


def weighted_oracle(parts: list[tuple[int, int]]) -> int:
    """Σ forecast × weight / 100, exactly, rounded half up (away from zero) once."""
    total = sum((Fraction(forecast * weight, 100) for forecast, weight in parts), Fraction(0))
    rounded = abs(total).numerator * 2 + abs(total).denominator
    return (1 if total >= 0 else -1) * (rounded // (2 * abs(total).denominator))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fiscal_start=st.integers(1, 12),
    today=st.dates(date(2026, 6, 1), date(2028, 6, 30)),
    measures=measures,
    di3_weight=st.integers(25, 90),
)
def test_every_surface_shows_the_same_figures(
    engine: Engine, fiscal_start: int, today: date, measures: list, di3_weight: int
) -> None:
    weights = {Stage.DI1: 10, Stage.DI2: 25, Stage.DI3: di3_weight, Stage.DI4: 90, Stage.DI5: 100}
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
        portfolio = session.exec(select(Unit).where(Unit.parent_id == organization.id)).one()
        assert portfolio and portfolio.level == "portfolio"
        portfolio.rules = json.dumps({"weights": {"DI3": di3_weight}})
        session.add(portfolio)
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
            assert card.year == expected and card.weight == weights[_stage]
            shown = json.dumps([b.to_dict() for b in card_blocks(card)], ensure_ascii=False)
            assert f"forecast {money(expected.forecast, card.style)} ·" in shown
            view = gate_view(session=session, request_id=request_id)
            assert view is not None and view.year == expected
        listed = year_figures_of(session=session, measures=[m for m, _r, _f, _s in stored], now=now)
        for measure, _request_id, expected, _stage in stored:  # App Home and `/measure list`
            assert listed[measure.id or 0].figures == expected
            if expected.plan or expected.forecast:
                assert f"forecast {money(expected.forecast, card.style)} of" in measure_line(
                    measure, listed[measure.id or 0]
                )
        data = load_digest(session=session, unit_id=top, now=now, since=now)

    committed = [figures for _m, _r, figures, stage in stored if stage in COMMITTED]
    total = sum(committed, Figures())
    digest_total = unit_rollup(data)
    assert digest_total.money == total
    assert sum((r.money for _name, r in by_child(data)), Figures()) == total
    chart = months_of(data.money, closed_through=data.closed_through)
    assert (sum(m.plan for m in chart), sum(m.forecast for m in chart)) == (total.plan, total.forecast)
    assert sum(m.actual or 0 for m in chart) == total.actual
    weighted = weighted_oracle([(f.forecast, weights[stage]) for _m, _r, f, stage in stored if stage in COMMITTED])
    assert digest_total.weighted == weighted
    assert digest_total.staged_weighted == weighted_oracle(
        [(f.forecast, weights[stage]) for _m, _r, f, stage in stored]
    )
    assert digest_total.staged_forecast == sum(f.forecast for _m, _r, f, _s in stored)
    summary = render_digest(data).summary.text
    assert f"forecast {money(total.forecast, data.style)}" in summary
