"""Who may do what: the one permission policy every listener and the sweep ask."""

from __future__ import annotations

from storage.models import Measure


def can_edit(measure: Measure, slack_id: str, *, admin: bool) -> bool:
    return admin or slack_id in (measure.owner_id, measure.sponsor_id, measure.controller_id)
