"""Small typed models carried in button values and `private_metadata` (never split strings)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.enums import ImplStatus


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def load(cls, raw: str | None) -> Self | None:
        """The model, or None when `raw` is missing or not one of ours (a forged or stale value)."""
        if not raw or "\x00" in raw:  # no value of ours holds a NUL byte
            return None
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return None


class MeasureRef(Payload):
    key: str


class MeasureFormMeta(Payload):
    """Carried by the new/edit measure modal: which measure (edit), at which version."""

    key: str | None = None
    version: int | None = None


class CheckinRef(Payload):
    checkin_id: int


class CheckinAnswer(Payload):
    """A one-click status button on a check-in prompt."""

    checkin_id: int
    status: ImplStatus


class GateRef(Payload):
    """An approval button: which request, at which step (a click on an older step is stale)."""

    request_id: int
    step: int


class GateReasonMeta(Payload):
    """The reason modal of Request changes / Reject."""

    request_id: int
    step: int
    decision: str


class EscalationRef(Payload):
    """An escalation's buttons, and the Add note modal's private_metadata."""

    escalation_id: int


class EscalationChoice(Payload):
    """An option of an escalation's menu in a message that lists several (an overflow option's value
    holds at most 75 characters: this is about 50)."""

    escalation_id: int
    act: Literal["acknowledge", "note", "resolve"]


class EscalationGroupRef(Payload):
    """ "Acknowledge all" of one cause in one message: the message's outbox row and the cause."""

    outbox_id: int
    cause: str


class ActualsMeta(Payload):
    """The actuals modal: which measure."""

    key: str


class PageRef(Payload):
    """ "More" under a page of `/measure history KEY` or `/measure search TEXT`: what, and where the
    next page starts (a button's value holds 2,000 characters; a search is at most 200)."""

    what: Literal["history", "search"]
    subject: str = Field(max_length=200)
    offset: int = Field(ge=0, le=100_000)


class ImportRef(Payload):
    """Import / Cancel under a checked spreadsheet: which one."""

    pending_id: int
