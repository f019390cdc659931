"""The values of a measure's custom fields: which fields its portfolio's governance declares, what
the measure holds, and a change written in one go with its audit record."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from domain.governance import CustomField
from storage.governance import policy_in_force
from storage.models import Measure, MeasureFieldValue
from storage.queries import record_audit


def fields_of(*, session: Session, package_id: int) -> tuple[CustomField, ...]:
    """The custom fields the governance in force declares for the package's portfolio."""
    policy = policy_in_force(session=session, package_id=package_id).policy
    return policy.fields if policy else ()


def values_of(*, session: Session, measure_id: int) -> dict[str, str]:
    rows = session.exec(select(MeasureFieldValue).where(MeasureFieldValue.measure_id == measure_id))
    return {row.name: row.value for row in rows}


def set_values(
    *, session: Session, measure: Measure, values: dict[str, str], actor: str, now: datetime
) -> dict[str, list[str]]:
    """Each value set ("" clears it); the audit record holds what changed, old and new. Returns that."""
    assert measure.id is not None
    held = values_of(session=session, measure_id=measure.id)
    changes = {name: [held.get(name, ""), value] for name, value in values.items() if held.get(name, "") != value}
    if not changes:
        return {}
    existing = {
        row.name: row
        for row in session.exec(
            select(MeasureFieldValue).where(
                MeasureFieldValue.measure_id == measure.id, col(MeasureFieldValue.name).in_(changes)
            )
        )
    }
    for name, (_old, new) in changes.items():
        row = existing.get(name)
        if not new:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(MeasureFieldValue(measure_id=measure.id, name=name, value=new))
        else:
            row.value = new
            session.add(row)
    measure.updated_at = now
    session.add(measure)
    record_audit(session=session, actor=actor, entity="measure", entity_key=measure.key, action="fields_changed",
                 detail=changes)  # fmt: skip
    return changes
