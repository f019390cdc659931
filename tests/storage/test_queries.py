"""storage.queries: units and their paths, measure numbering and lookups, people, the audit log."""

from __future__ import annotations

import json

from sqlmodel import select

from domain.enums import Level
from storage.models import AuditLog, Person
from storage.queries import (
    count_measures_for_person,
    descendant_package_ids,
    ensure_person_rows,
    find_units_by_name,
    get_measures_by_keys,
    measures_for_person,
    next_measure_number,
    record_audit,
    unit_path,
    upsert_person,
)
from tests.conftest import CONTROLLER, OWNER, SPONSOR, Clock
from tests.factories import make_measure, make_tree
from tests.storage.conftest import Transaction


def test_units_paths_and_the_packages_below_a_unit(db: Transaction) -> None:
    with db() as session:
        packaging = make_tree(session)
        trucks = make_tree(session, names=("Acme", "Ops", "Logistics", "Fleet", "Trucks"))
        (ops,) = find_units_by_name(session=session, name="ops")  # case does not matter
        assert [u.name for u in unit_path(session=session, unit=packaging)] == [
            "Acme", "Ops", "Procurement", "Suppliers", "Packaging",
        ]  # fmt: skip
        assert ops.level == Level.PORTFOLIO
        assert sorted(descendant_package_ids(session=session, unit=ops)) == sorted([packaging.id, trucks.id])
        assert descendant_package_ids(session=session, unit=trucks) == [trucks.id]


def test_measure_numbers_follow_the_highest_and_keys_are_found_in_any_case(db: Transaction) -> None:
    with db() as session:
        assert next_measure_number(session=session) == 1
        package = make_tree(session)
        make_measure(session, package=package, title="First")
        second = make_measure(session, package=package, title="Second", owner_id=SPONSOR)
        assert second.key == "M-2" and next_measure_number(session=session) == 3
        assert set(get_measures_by_keys(session=session, keys=["m-2", "M-1", "M-7"])) == {"M-1", "M-2"}
        assert [m.key for m in measures_for_person(session=session, slack_id=OWNER)] == ["M-1"]
        assert count_measures_for_person(session=session, slack_id=CONTROLLER) == 2  # controller of both


def test_people_rows_are_created_once_and_updated(db: Transaction, clock: Clock) -> None:
    with db() as session:
        ensure_person_rows(session=session, slack_ids=["U0NEW", None, OWNER, "U0NEW"])
    with db() as session:
        assert session.get(Person, "U0NEW") is not None
        person = upsert_person(session=session, slack_id="U0NEW", name="New", email=None, tz="Asia/Tokyo",
                               is_workspace_admin=False)  # fmt: skip
        assert person.refreshed_at == clock()
    with db() as session:
        stored = session.get(Person, "U0NEW")
        assert stored is not None and (stored.name, stored.tz) == ("New", "Asia/Tokyo")


def test_audit_details_are_stored_as_sorted_json(db: Transaction) -> None:
    from datetime import date

    with db() as session:
        record_audit(session=session, actor=OWNER, entity="measure", entity_key="M-1", action="edited",
                     detail={"due": [None, date(2027, 6, 30)], "b": 1, "a": {3, 1}})  # fmt: skip
    with db() as session:
        entry = session.exec(select(AuditLog)).one()
    assert json.loads(entry.detail) == {"a": [1, 3], "b": 1, "due": [None, "2027-06-30"]}
    assert entry.detail.index('"a"') < entry.detail.index('"b"')
