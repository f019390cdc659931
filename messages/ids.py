"""Every command, event, action, callback and block id the bot uses, defined once."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    MEASURE = "/measure"


class EventType(StrEnum):
    APP_HOME_OPENED = "app_home_opened"
    MESSAGE = "message"  # a file sent to the bot in a DM (an import)


class Action(StrEnum):
    EDIT_MEASURE = "measure.edit"
    CHECKIN_ON_TRACK = "checkin.on_track"
    CHECKIN_AT_RISK = "checkin.at_risk"
    CHECKIN_OFF_TRACK = "checkin.off_track"
    CHECKIN_UPDATE = "checkin.update"
    CHECKIN_SKIP = "checkin.skip"
    REQUEST_GATE = "gate.request"
    GATE_APPROVE = "gate.approve"
    GATE_CHANGES = "gate.changes"
    GATE_REJECT = "gate.reject"
    ESCALATION_ACK = "escalation.acknowledge"
    ESCALATION_NOTE = "escalation.note"
    ESCALATION_RESOLVE = "escalation.resolve"
    ESCALATION_MENU = "escalation.menu"  # an escalation's overflow menu in a message listing several
    ESCALATION_ACK_GROUP = "escalation.acknowledge_group"  # "Acknowledge all" of one cause
    IMPORT_CONFIRM = "import.confirm"  # a checked spreadsheet: write it
    IMPORT_CANCEL = "import.cancel"
    PAGE_MORE = "page.more"  # the next page of a history or a search
    OPEN_CARD = "measure.open_card"  # App Home: a measure's card, in a modal


class Callback(StrEnum):
    NEW_MEASURE = "measure.new"
    EDIT_MEASURE = "measure.edit"
    NEW_UNIT = "unit.new"
    CHECKIN = "checkin.answer"
    GATE_REASON = "gate.reason"
    ESCALATION_NOTE = "escalation.note"
    ESCALATION_RESOLVE = "escalation.resolve"
    ACTUALS = "measure.actuals"
    REBASELINE = "measure.rebaseline"
    PERSON_SETTINGS = "person.settings"


class Field(StrEnum):
    """Input block ids of the unit, check-in and reason modals (each input's action id is `INPUT`).
    The measure modal's are its fields' keys, `domain.measure_schema.Key`."""

    PARENT = "parent"
    UNIT_NAME = "unit_name"
    STATUS = "status"
    FORECAST_MONTH = "forecast_month"
    FORECAST_YEAR = "forecast_year"
    ACTUAL_LAST_MONTH = "actual_last_month"
    BLOCKERS = "blockers"
    EVIDENCE_LINK = "evidence_link"
    COMMENT = "comment"
    REASON = "reason"
    NOTE = "note"
    VALIDATE = "validate"
    NEW_PLAN = "new_plan"
    WORKING_DAYS = "working_days"
    HOLIDAYS = "holidays"
    QUIET_START = "quiet_start"
    QUIET_END = "quiet_end"
    LANGUAGE = "language"


ACTUAL_MONTH = "actual."  # the actuals modal's input of a month: `actual.2027-01`


INPUT = "value"
