"""What an escalation message and App Home show of an escalation, loaded in one go (sync; inside a
transaction). A shortfall carries the measure's fiscal-year figures as they are now, by the money
definitions (domain/figures.py), not a number stored when it was raised."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.escalation_rules import Cause, Rung
from domain.figures import Figures, figures, fiscal_year, last_closed_month
from domain.money import DEFAULT_STYLE, MoneyStyle
from domain.organization import OrganizationSettings
from domain.schedule import zone
from storage.models import Escalation, EscalationNote, Measure
from storage.organization import organization_in, settings_of
from storage.queries import all_units, month_series
from storage.types import now_of

NOTES_SHOWN = 3


@dataclass(frozen=True)
class EscalationView:
    id: int
    key: str
    title: str
    cause: Cause
    detail: dict[str, Any]
    state: str
    rung: Rung
    raised_at: datetime
    rung_started_at: datetime
    owner_id: str | None
    sponsor_id: str | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    notes: tuple[tuple[str, str, datetime], ...] = ()
    style: MoneyStyle = DEFAULT_STYLE  # how the measure's organization writes amounts
    year: Figures | None = None  # a shortfall's fiscal-year figures now, by domain/figures.py
    period: str = ""  # that fiscal year's name


def escalation_views(*, session: Session, escalation_ids: list[int]) -> dict[int, EscalationView]:
    if not escalation_ids:
        return {}
    rows = session.exec(
        select(Escalation, Measure)
        .join(Measure, col(Measure.id) == col(Escalation.measure_id))
        .where(col(Escalation.id).in_(escalation_ids))
    ).all()
    notes: dict[int, list[tuple[str, str, datetime]]] = {}
    for note in session.exec(
        select(EscalationNote).where(col(EscalationNote.escalation_id).in_(escalation_ids)).order_by(
            col(EscalationNote.id))).all():  # fmt: skip
        notes.setdefault(note.escalation_id, []).append((note.author, note.text, note.at))
    units = {u.id: u for u in all_units(session=session)}
    settings = {m.package_id: settings_of(organization_in(units, m.package_id)) for _e, m in rows}
    views = {}
    for e, m in rows:
        view = _view(e, m, notes.get(e.id or 0, []), settings[m.package_id].style)
        if view.cause == Cause.SHORTFALL:  # the figures as every surface shows them, not a stored number
            view = replace(view, **_year_figures(session, m, settings[m.package_id]))
        views[e.id or 0] = view
    return views


def _year_figures(session: Session, measure: Measure, settings: OrganizationSettings) -> dict[str, Any]:
    today = now_of(session).astimezone(zone(settings.timezone)).date()
    period = fiscal_year(today, settings.fiscal_year_start)
    months = month_series(session=session, measure_id=measure.id or 0)
    return {"year": figures(months, closed_through=last_closed_month(today), period=period), "period": period.name}


def _view(e: Escalation, m: Measure, notes: list[tuple[str, str, datetime]], style: MoneyStyle) -> EscalationView:
    return EscalationView(
        e.id or 0, m.key, m.title, Cause(e.cause), json.loads(e.detail), e.state, Rung(e.rung), e.raised_at,
        e.rung_started_at, m.owner_id, m.sponsor_id, e.acknowledged_by, e.acknowledged_at, e.resolved_by,
        e.resolved_at, tuple(notes[-NOTES_SHOWN:]), style,
    )  # fmt: skip


def open_escalations_for(*, session: Session, user_id: str, limit: int = 20) -> tuple[list[EscalationView], int]:
    """The first `limit` open escalations on measures the person owns, sponsors or controls, oldest
    first, and how many there are in all."""
    mine = (
        select(col(Escalation.id))
        .join(Measure, col(Measure.id) == col(Escalation.measure_id))
        .where(Escalation.state == "open")
        .where(
            sa.or_(
                col(Measure.owner_id) == user_id,
                col(Measure.sponsor_id) == user_id,
                col(Measure.controller_id) == user_id,
            )
        )
    )
    ids = session.exec(mine.order_by(col(Escalation.raised_at), col(Escalation.id)).limit(limit)).all()
    total = session.execute(sa.select(sa.func.count()).select_from(mine.subquery())).scalar_one()
    views = escalation_views(session=session, escalation_ids=[i for i in ids if i])
    return [views[i] for i in ids if i in views], int(total)
