"""SQLModel tables for the whole spec: the unit tree, people, measures and everything they carry.

Money is stored as whole currency units (BigInteger): exact sums in rollups on every backend.
Timestamps are timezone-aware UTC (`UTCDateTime`); calendar dates are plain `date`s.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.enums import Cadence, CheckinState, ImplStatus, PotentialStatus, Stage
from storage.api_tables import ApiReplay as ApiReplay
from storage.api_tables import ApiToken as ApiToken
from storage.escalation_tables import Escalation as Escalation
from storage.escalation_tables import EscalationCopy as EscalationCopy
from storage.escalation_tables import EscalationNote as EscalationNote
from storage.governance_tables import GovernanceVersion as GovernanceVersion
from storage.governance_tables import MeasureFieldValue as MeasureFieldValue
from storage.types import STAMPED, SendState, UTCDateTime


def _created() -> Any:
    # Stamped when first flushed with the transaction's clock (storage.types.stamp_new_rows).
    return Field(default=None, sa_type=UTCDateTime, nullable=False, sa_column_kwargs={"info": {STAMPED: True}})


class Unit(SQLModel, table=True):
    """A node of Organization > Portfolio > Program > Project > Measure Package."""

    __table_args__ = (sa.UniqueConstraint("parent_id", "name", name="uq_unit_parent_name"),)

    id: int | None = Field(default=None, primary_key=True)
    level: str = Field(max_length=16, index=True)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    # Organization: timezone for digests, and how it writes money (domain.organization, docs/money.md).
    # Portfolio: potential tolerance and steering channel.
    timezone: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, max_length=3)
    locale: str | None = Field(default=None, max_length=8)
    fiscal_year_start: int | None = None
    # Organization: its working calendar (domain/calendar.py): `mon-fri`, a holiday region (`DE-BY`).
    working_days: str | None = Field(default=None, max_length=40)
    key_prefix: str | None = Field(default=None, max_length=10)  # an organization's: keys of new measures (OPS-13)
    holidays: str | None = Field(default=None, max_length=16)
    tolerance_pct: int | None = None
    steering_channel: str | None = Field(default=None, max_length=32)
    # Portfolio: threshold rules and the escalation ladder's timing (a `PortfolioRules` as JSON).
    rules: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _created()


class Person(SQLModel, table=True):
    """A Slack user the bot knows, refreshed from users.info."""

    slack_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254, index=True)
    tz: str = Field(default="UTC", max_length=64)
    is_workspace_admin: bool = False
    away_until: date | None = None
    refreshed_at: datetime = _created()
    # False for a deactivated account or a bot (users.list or users.info): never picked again.
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # The person's own working calendar (`/measure settings`); None: their organization's.
    working_days: str | None = Field(default=None, max_length=40)
    holidays: str | None = Field(default=None, max_length=16)
    quiet_start: time | None = None
    quiet_end: time | None = None
    language: str | None = Field(default=None, max_length=8)  # the messages' language ("en", "de"); None: the org's


class DirectorySync(SQLModel, table=True):
    """When the workspace's people were last listed (users.list) into `person`: the sweep lists them
    again when this is older than a day's half, and a replica claims the listing by moving it."""

    __tablename__ = "directory_sync"

    workspace: str = Field(default="", primary_key=True, max_length=32)
    synced_at: datetime = Field(sa_type=UTCDateTime)


class Flagged:
    """What the threshold rules look for among measures, as SQL conditions written once: each has a
    partial index of the few rows that meet it (small, and used whatever the planner's statistics say
    about the column as a whole), and the rules query with the very same text so the index applies."""

    OVERDUE = "overdue_checkin_id IS NOT NULL"
    OFF_TRACK_STREAK = "off_track_streak >= 2"
    SHORTFALL = "potential_status IN ('at_risk', 'off_track')"
    OFF_TRACK = "impl_status = 'off_track'"


def _flagged(name: str, column: str, condition: str) -> sa.Index:
    where = sa.text(condition)
    return sa.Index(name, column, sqlite_where=where, postgresql_where=where)


class Measure(SQLModel, table=True):
    __table_args__ = (
        _flagged("ix_measure_overdue", "overdue_checkin_id", Flagged.OVERDUE),
        _flagged("ix_measure_off_track_streak", "off_track_streak", Flagged.OFF_TRACK_STREAK),
        _flagged("ix_measure_short", "potential_status", Flagged.SHORTFALL),
        _flagged("ix_measure_off_track", "impl_status", Flagged.OFF_TRACK),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    key: str = Field(max_length=24, unique=True)  # the organization's own (OPS-12), in capitals
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=3000)
    package_id: int = Field(foreign_key="unit.id", index=True)
    owner_id: str | None = Field(default=None, foreign_key="person.slack_id", index=True)
    sponsor_id: str | None = Field(default=None, foreign_key="person.slack_id", index=True)
    controller_id: str | None = Field(default=None, foreign_key="person.slack_id", index=True)
    business_unit: str = Field(default="", max_length=100)
    function: str = Field(default="", max_length=100)
    stage: str = Field(default=Stage.DI0, max_length=16, index=True)
    held_from_stage: str | None = Field(default=None, max_length=16)
    # Set when an import placed it at a stage without its entry criteria (--allow-unmet-criteria):
    # JSON {"stage": "DI3", "missing": [...]}, shown on its card.
    unmet_at_import: str | None = Field(default=None, sa_type=sa.Text)
    impl_status: str = Field(default=ImplStatus.NOT_STARTED, max_length=16)
    potential_status: str = Field(default=PotentialStatus.UNKNOWN, max_length=16)
    # Threshold-rule state kept up to date as answers come in, so the rules read few, indexed rows.
    off_track_streak: int = 0  # check-ins answered "off track" in a row
    overdue_checkin_id: int | None = None  # set when overdue, cleared by an answer
    blockers: str = Field(default="", max_length=2000)  # as the latest check-in answer said
    baseline: int | None = Field(default=None, sa_type=sa.BigInteger)
    target: int | None = Field(default=None, sa_type=sa.BigInteger)
    one_time_cost: int | None = Field(default=None, sa_type=sa.BigInteger)
    due: date | None = None
    no_known_risks: bool = False
    dependencies_stated: bool = False
    cadence: str = Field(default=Cadence.WEEKLY, max_length=16)
    checkin_weekday: int = 0  # Monday
    checkin_time: time = Field(default=time(9, 0))
    # When the next check-in cycle starts (UTC); None while the measure takes no check-ins.
    next_checkin_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    forecast_year: int | None = Field(default=None, sa_type=sa.BigInteger)
    version: int = 1
    created_at: datetime = _created()
    updated_at: datetime = _created()


class MeasureMonth(SQLModel, table=True):
    """The financial plan of one measure for one calendar month (month = its first day)."""

    __tablename__ = "measure_month"

    measure_id: int = Field(foreign_key="measure.id", primary_key=True)
    month: date = Field(primary_key=True)
    plan: int | None = Field(default=None, sa_type=sa.BigInteger)
    forecast: int | None = Field(default=None, sa_type=sa.BigInteger)
    actual: int | None = Field(default=None, sa_type=sa.BigInteger)
    # The plan as it was when the measure was decided (DI3): frozen; a re-baseline changes `plan`.
    decided_plan: int | None = Field(default=None, sa_type=sa.BigInteger)
    # Set when the controller validates the actual (domain/actuals.py): the month is then locked.
    actual_validated_by: str | None = Field(default=None, max_length=32)
    actual_validated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MoneyRollup(SQLModel, table=True):
    """Measure months summed per package, month and stage: what a digest's money reads (a few rows
    a package, not twelve a measure). The columns are domain/figures.MonthTotal's, summed. Kept by
    storage/money.py in the transaction of every change to a measure or its months."""

    __tablename__ = "money_rollup"

    package_id: int = Field(primary_key=True)
    month: date = Field(primary_key=True)
    stage: str = Field(primary_key=True, max_length=16)
    plan: int = Field(default=0, sa_type=sa.BigInteger)
    expected: int = Field(default=0, sa_type=sa.BigInteger)  # Σ forecast, else plan
    settled: int = Field(default=0, sa_type=sa.BigInteger)  # Σ actual, else forecast, else plan
    actual: int | None = Field(default=None, sa_type=sa.BigInteger)
    decided_plan: int = Field(default=0, sa_type=sa.BigInteger)  # Σ the plan frozen at the decision
    months: int = 0  # how many measure months the cell sums (the row goes when none is left)
    actuals: int = 0  # how many of them have an actual (`actual` is NULL when none has)


class Risk(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    text: str = Field(max_length=500)
    severity: str = Field(max_length=8)
    mitigation: str = Field(default="", max_length=500)


class Dependency(SQLModel, table=True):
    """`measure_id` depends on `depends_on_id`."""

    measure_id: int = Field(foreign_key="measure.id", primary_key=True)
    depends_on_id: int = Field(foreign_key="measure.id", primary_key=True, index=True)


class Evidence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    url: str = Field(max_length=1000)
    added_by: str = Field(max_length=32)
    added_at: datetime = _created()


class AuditLog(SQLModel, table=True):
    """Who changed what, when: one row per state change, written in the same transaction."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_at_action", "at", "action"),)  # digests: what changed since

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _created()
    actor: str = Field(max_length=32)  # a Slack user id, or "import" / "system"
    entity: str = Field(max_length=16)  # "measure" | "unit" | "person"
    entity_key: str = Field(max_length=64, index=True)
    action: str = Field(max_length=32)
    detail: str = Field(default="{}", sa_type=sa.Text)


class CheckIn(SQLModel, table=True):
    """One measure's check-in for one cycle: prompted, reminded, answered (or skipped, missed)."""

    __tablename__ = "checkin"
    __table_args__ = (sa.UniqueConstraint("measure_id", "cycle_start", name="uq_checkin_cycle"),)

    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    owner_id: str = Field(max_length=32, index=True)
    cycle_start: datetime = Field(sa_type=UTCDateTime)
    cycle_end: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=CheckinState.PENDING, max_length=16, index=True)  # a CheckinState
    skip_reason: str | None = Field(default=None, max_length=32)
    prompt_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    prompted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by: str | None = Field(default=None, max_length=32)
    impl_status: str | None = Field(default=None, max_length=16)
    potential_status: str | None = Field(default=None, max_length=16)
    forecast_month: int | None = Field(default=None, sa_type=sa.BigInteger)
    forecast_year: int | None = Field(default=None, sa_type=sa.BigInteger)
    actual_last_month: int | None = Field(default=None, sa_type=sa.BigInteger)
    blockers: str = Field(default="", max_length=2000)
    evidence_url: str | None = Field(default=None, max_length=1000)
    comment: str = Field(default="", max_length=2000)
    created_at: datetime = _created()


class Outbox(SQLModel, table=True):
    """A message the bot owes someone. Written in the transaction that decides it is owed, with a
    unique key, then delivered by the sweep: so it is sent once, and retried when Slack fails."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    dedupe_key: str = Field(max_length=200, unique=True)
    recipient: str = Field(max_length=32)
    payload: str = Field(default="{}", sa_type=sa.Text)
    state: str = Field(default=SendState.PENDING, max_length=16, index=True)  # a SendState
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A DM to someone outside their working time waits until then (domain/calendar.py).
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    urgent: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})  # goes out at any hour
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    # A reply in the thread of that outbox row's message: it goes out once that one has (its ts).
    thread_of: int | None = Field(default=None, index=True)
    created_at: datetime = _created()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GateRequest(SQLModel, table=True):
    """A request to move a measure through a gate (or to cancel it), decided step by step."""

    __tablename__ = "gate_request"

    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    # The measure's id while the request is open, else NULL: unique, so one open request per measure.
    open_for: int | None = Field(default=None, unique=True)
    kind: str = Field(max_length=16)  # advance | cancel | rebaseline
    proposed_plan: str | None = Field(default=None, sa_type=sa.Text)  # a re-baseline's plan: {"2027-01": 10000, …}
    from_stage: str = Field(max_length=16)
    to_stage: str = Field(max_length=16)
    requested_by: str = Field(max_length=32)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=2000)
    state: str = Field(default="open", max_length=20, index=True)  # open|approved|rejected|changes_requested
    chain: str = Field(default="[]", sa_type=sa.Text)  # [[role, approver id], …] in order, fixed at request
    governance_version: int | None = None  # the organization's governance file it was made under; None: none
    step: int = 0
    step_started_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GateDecision(SQLModel, table=True):
    """One decision per request and step (unique): a double click or a race yields exactly one."""

    __tablename__ = "gate_decision"
    __table_args__ = (sa.UniqueConstraint("request_id", "step", name="uq_gate_decision_step"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="gate_request.id", index=True)
    step: int
    role: str = Field(max_length=16)  # controller | sponsor
    approver_id: str = Field(max_length=32)  # the designated approver
    decided_by: str = Field(max_length=32)  # the approver, or their delegate
    decision: str = Field(max_length=20)  # approved | rejected | changes_requested
    reason: str = Field(default="", max_length=2000)
    decided_at: datetime = Field(sa_type=UTCDateTime)


class Delegation(SQLModel, table=True):
    """`delegate_id` may decide approvals for `delegator_id` until the end of `until`."""

    id: int | None = Field(default=None, primary_key=True)
    delegator_id: str = Field(max_length=32, index=True)
    delegate_id: str = Field(max_length=32)
    until: date
    created_at: datetime = _created()


class ProcessedEvent(SQLModel, table=True):
    """Events API deliveries already taken, by Slack's event_id: a retry of one is acked and dropped."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _created()


class DigestSubscription(SQLModel, table=True):
    """A channel's digest of a unit: cadence, weekday and local time in `timezone`."""

    __tablename__ = "digest_subscription"
    __table_args__ = (sa.UniqueConstraint("channel", "unit_id", name="uq_digest_channel_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    cadence: str = Field(default=Cadence.WEEKLY, max_length=16)
    weekday: int = 4  # Friday
    at: time = Field(default=time(16, 0))
    timezone: str = Field(default="UTC", max_length=64)
    next_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_by: str = Field(max_length=32)
    created_at: datetime = _created()


class DigestRun(SQLModel, table=True):
    """One digest of one subscription for one period: unique, so it is posted once. The summary's ts,
    how many thread parts went out and whether the chart did are recorded as each is sent."""

    __tablename__ = "digest_run"
    __table_args__ = (sa.UniqueConstraint("subscription_id", "period_start", name="uq_digest_period"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="digest_subscription.id", index=True)
    period_start: datetime = Field(sa_type=UTCDateTime)
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the previous digest's period start
    state: str = Field(default=SendState.PENDING, max_length=16, index=True)  # a SendState
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    parts_sent: int = 0
    chart_sent: bool = False
    # Every measure as a spreadsheet, attached when the thread could not show all it lists.
    detail_sent: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PendingImport(SQLModel, table=True):
    """A spreadsheet an admin sent the bot in a DM, checked by a dry run and waiting for Import or
    Cancel. Its bytes are kept until then (and pruned with the outbox's retention afterwards)."""

    __tablename__ = "pending_import"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32, index=True)
    filename: str = Field(max_length=200)
    content: bytes = Field(sa_type=sa.LargeBinary)
    state: str = Field(default="pending", max_length=16)  # pending | imported | cancelled
    created_at: datetime = _created()
