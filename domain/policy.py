"""Who may do what: the one permission policy. Every listener and the sweep ask `may`; nothing
else decides. `POLICY` is the table; the role × action tests read it.

A person's roles are worked out from the thing acted on (a measure's owner, sponsor and
controller; for a decision, the current step's approver and their delegates) and whether they are
an admin (the programme office, or a Slack workspace admin or owner).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Deed(StrEnum):
    """Everything a person can do that changes something, or reads more than their own."""

    PROPOSE = "propose a measure"
    EDIT = "edit a measure"
    REQUEST_GATE = "request a gate or a cancellation"
    HOLD = "put on hold or resume"
    DECIDE = "approve, reject or request changes"
    ANSWER_CHECKIN = "answer a check-in"
    ENTER_ACTUALS = "enter actuals"
    VALIDATE_ACTUALS = "validate actuals"
    ACKNOWLEDGE = "acknowledge an escalation"
    NOTE = "add a note to an escalation"
    RESOLVE = "resolve an escalation"
    CONFIGURE_DIGEST = "configure digests"
    CONFIGURE_RULES = "configure portfolio rules"
    CONFIGURE_STRUCTURE = "change the structure"
    CONFIGURE_ORGANIZATION = "change an organization's settings"
    IMPORT = "import measures"
    EXPORT = "export measures"
    MANAGE_API_TOKENS = "create and revoke API tokens"


class Role(StrEnum):
    ANYONE = "anyone"
    OWNER = "owner"
    SPONSOR = "sponsor"
    CONTROLLER = "controller"
    APPROVER = "approver"  # of the current step of a gate request, or their delegate
    ADMIN = "admin"


_PEOPLE = frozenset({Role.OWNER, Role.SPONSOR, Role.CONTROLLER})
_ADMINS = frozenset({Role.ADMIN})

POLICY: Mapping[Deed, frozenset[Role]] = {
    Deed.PROPOSE: frozenset({Role.ANYONE}),
    Deed.EDIT: _PEOPLE | _ADMINS,
    Deed.REQUEST_GATE: frozenset({Role.OWNER, Role.ADMIN}),
    Deed.HOLD: frozenset({Role.OWNER, Role.SPONSOR, Role.ADMIN}),
    Deed.DECIDE: frozenset({Role.APPROVER}),  # never the requester, admin or not (see `may`)
    Deed.ANSWER_CHECKIN: frozenset({Role.OWNER}),
    Deed.ENTER_ACTUALS: frozenset({Role.OWNER, Role.CONTROLLER}),
    Deed.VALIDATE_ACTUALS: frozenset({Role.CONTROLLER}),  # and only they change a validated month
    Deed.ACKNOWLEDGE: _PEOPLE | _ADMINS,
    Deed.NOTE: _PEOPLE | _ADMINS,
    Deed.RESOLVE: frozenset({Role.SPONSOR, Role.ADMIN}),
    Deed.CONFIGURE_DIGEST: _ADMINS,
    Deed.CONFIGURE_RULES: _ADMINS,
    Deed.CONFIGURE_STRUCTURE: _ADMINS,
    Deed.CONFIGURE_ORGANIZATION: _ADMINS,
    Deed.IMPORT: _ADMINS,
    Deed.EXPORT: _ADMINS,
    Deed.MANAGE_API_TOKENS: _ADMINS,
}


class TokenScope(StrEnum):
    """What an API token (made by an admin for an ERP or BI tool) may do: read everything, or also
    write plans, forecasts and actuals."""

    READ = "read"
    WRITE = "write"


_READING = frozenset({Deed.EXPORT})  # every measure, with its months
TOKEN_POLICY: Mapping[TokenScope, frozenset[Deed]] = {
    TokenScope.READ: _READING,
    TokenScope.WRITE: _READING | {Deed.EDIT, Deed.ENTER_ACTUALS},
}


def token_may(deed: Deed, scope: TokenScope) -> bool:
    """Whether an API token of `scope` may do `deed` (to any measure: an admin made it)."""
    return deed in TOKEN_POLICY[scope]


class HasPeople(Protocol):
    """A measure, as far as the policy cares (a table row or a view will do)."""

    @property
    def owner_id(self) -> str | None: ...
    @property
    def sponsor_id(self) -> str | None: ...
    @property
    def controller_id(self) -> str | None: ...


@dataclass(frozen=True)
class Party:
    """The people of what is acted on."""

    owner_id: str | None = None
    sponsor_id: str | None = None
    controller_id: str | None = None
    approver_ids: frozenset[str] = frozenset()  # the current step's approver and their delegates
    requester_id: str | None = None  # of a gate request: they never decide it

    @classmethod
    def of(
        cls, measure: HasPeople, *, approver_ids: frozenset[str] = frozenset(), requester_id: str | None = None
    ) -> Party:
        return cls(measure.owner_id, measure.sponsor_id, measure.controller_id, approver_ids, requester_id)


NOBODY = Party()


def roles_of(user_id: str, *, admin: bool, party: Party = NOBODY) -> frozenset[Role]:
    roles = {Role.ANYONE}
    if admin:
        roles.add(Role.ADMIN)
    for role, holder in ((Role.OWNER, party.owner_id), (Role.SPONSOR, party.sponsor_id),
                         (Role.CONTROLLER, party.controller_id)):  # fmt: skip
        if holder is not None and user_id == holder:
            roles.add(role)
    if user_id in party.approver_ids:
        roles.add(Role.APPROVER)
    return frozenset(roles)


def may(deed: Deed, user_id: str, *, admin: bool, party: Party = NOBODY) -> bool:
    """Whether `user_id` may do `deed` to what `party` describes."""
    if deed is Deed.DECIDE and user_id == party.requester_id:
        return False
    return bool(POLICY[deed] & roles_of(user_id, admin=admin, party=party))


def who_may(deed: Deed, *, of: str = "") -> str:
    """'the owner, sponsor or controller of M-1, or an admin': the table, in words, for refusals."""
    roles = POLICY[deed]
    people = [r.value for r in (Role.OWNER, Role.SPONSOR, Role.CONTROLLER, Role.APPROVER) if r in roles]
    words = ", ".join(people[:-1]) + (" or " if len(people) > 1 else "") + (people[-1] if people else "")
    words = f"the {words}" + (f" of {of}" if of else "") if words else ""
    if Role.ADMIN in roles:
        return f"{words}, or an admin" if words else "admins"
    return words or "anyone"


def can_edit(measure: HasPeople, user_id: str, *, admin: bool) -> bool:
    return may(Deed.EDIT, user_id, admin=admin, party=Party.of(measure))
