"""An organization's settings, kept on its unit row: read for any unit under it, changed with audit."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from domain.calendar import DEFAULT_WORKING_DAYS
from domain.enums import Level
from domain.money import MoneyStyle, valid_style
from domain.organization import OrganizationSettings
from storage.models import CheckIn, Measure, Unit
from storage.queries import path_in, record_audit, unit_path


def settings_of(organization: Unit | None) -> OrganizationSettings:
    """The settings an organization's row holds, the defaults for what it leaves unset."""
    if organization is None:
        return OrganizationSettings()
    style = valid_style(organization.currency, organization.locale)
    return OrganizationSettings(
        currency=style.currency,
        locale=style.locale,
        fiscal_year_start=organization.fiscal_year_start or 1,
        timezone=organization.timezone or "UTC",
        working_days=organization.working_days or DEFAULT_WORKING_DAYS,
        holidays=organization.holidays or "",
        key_prefix=organization.key_prefix or "M",
    )


def organizations(*, session: Session) -> list[Unit]:
    query = select(Unit).where(col(Unit.level) == Level.ORGANIZATION).order_by(col(Unit.id))
    return list(session.exec(query))


def organization_of(*, session: Session, unit_id: int | None) -> Unit | None:
    """The organization a unit belongs to; with no unit, the first organization (most have one)."""
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit is not None:
        organization = next((u for u in unit_path(session=session, unit=unit) if u.level == Level.ORGANIZATION), None)
        if organization is not None:
            return organization
    found = organizations(session=session)
    return found[0] if found else None


def organization_in(units: dict[int | None, Unit], unit_id: int | None) -> Unit | None:
    """The same from units already loaded (no queries)."""
    if unit_id is None or unit_id not in units:
        return next((u for u in sorted(units.values(), key=_unit_id) if u.level == Level.ORGANIZATION), None)
    return next((u for u in path_in(units, units[unit_id]) if u.level == Level.ORGANIZATION), None)


def _unit_id(unit: Unit) -> int:
    return unit.id or 0


def style_of(*, session: Session, unit_id: int | None) -> MoneyStyle:
    """How amounts of (and typed for) a unit are written: its organization's currency and locale."""
    return settings_of(organization_of(session=session, unit_id=unit_id)).style


def style_of_checkin(*, session: Session, checkin_id: int) -> MoneyStyle:
    """The style amounts answered at a check-in are read in: its measure's organization's."""
    checkin = session.get(CheckIn, checkin_id)
    measure = session.get(Measure, checkin.measure_id) if checkin else None
    return style_of(session=session, unit_id=measure.package_id if measure else None)


def change_settings(
    *, session: Session, organization: Unit, changes: dict[str, Any], actor: str
) -> OrganizationSettings:
    """Apply checked changes to the organization's row, audited with the values before and after."""
    before = settings_of(organization)
    for field, value in changes.items():
        setattr(organization, field, value)
    session.add(organization)
    after = settings_of(organization)
    record_audit(
        session=session, actor=actor, entity="unit", entity_key=str(organization.id), action="settings_changed",
        detail={"before": before.shown(), "after": after.shown()},
    )  # fmt: skip
    return after
