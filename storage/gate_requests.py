"""Gate requests and decisions in the database: each call is one transaction's worth of work, with
its audit record and the messages it owes (outbox rows). The rules themselves are in domain.stage_gates."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.enums import Stage
from domain.gate_policy import GateFacts, governed_chain, readiness, usergroups_named
from domain.governance import PortfolioGovernance
from domain.policy import Deed, Party, may
from domain.stage_gates import GateRefused, MeasureFacts, RequestKind, Role, freezes, hold, plan_request, resume
from storage.calendars import calendars_of
from storage.custom_values import values_of
from storage.governance import policy_in_force
from storage.measures import freeze_plan, portfolio_rules_of, replace_plan, reschedule
from storage.models import Delegation, GateDecision, GateRequest, Measure
from storage.outbox import ApprovalPayload, GatePayload, Kind, owe
from storage.queries import months_of, record_audit


class Decision:
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES = "changes_requested"


def chain_of(request: GateRequest) -> list[tuple[Role, str]]:
    """Each step's role and approver: a person's id, or a user group's (S…, see `deciders_of`)."""
    return [(Role(step[0]), step[1]) for step in json.loads(request.chain)]


def deciders_of(request: GateRequest, step: int) -> frozenset[str]:
    """Who may decide the step: its person, or the members of its group as the request was made."""
    entry = json.loads(request.chain)[step]
    return frozenset(entry[2]) if len(entry) > 2 else frozenset({entry[1]})


def _chain_json(chain: list[tuple[Role, str]], members: Mapping[str, frozenset[str]], requester: str) -> str:
    """A group's step keeps the members who may decide it (never the requester) as a third element."""
    return json.dumps([[role, who, *([sorted(members[who] - {requester})] if who in members else [])]
                       for role, who in chain])  # fmt: skip


def open_request_of(*, session: Session, measure_id: int) -> GateRequest | None:
    return session.exec(select(GateRequest).where(GateRequest.open_for == measure_id)).first()


def request_gate(
    *, session: Session, measure: Measure, facts: MeasureFacts, kind: RequestKind, requester: str, admin: bool,
    now: datetime, reason: str = "", proposed_plan: dict[date, int] | None = None,
    members: Mapping[str, frozenset[str]] | None = None,
) -> GateRequest:  # fmt: skip
    """Open a request (GateRefused says why not: who may ask, what is missing, what is pending); a
    re-baseline carries its new plan, applied once the last approver approves. `members`: the user
    groups the governance in force names, read from Slack before this transaction."""
    if not may(Deed.REQUEST_GATE, requester, admin=admin, party=Party.of(measure)):
        raise GateRefused(f"Only the owner of {measure.key}, or an admin, can request its gates.")
    if open_request_of(session=session, measure_id=measure.id or 0) is not None:
        raise GateRefused(f"{measure.key} already has a request waiting for approval.")
    in_force = policy_in_force(session=session, package_id=measure.package_id)
    custom = values_of(session=session, measure_id=measure.id or 0)
    target, chain = plan_request(
        kind, Stage(measure.stage), facts, requester=requester, sponsor_id=measure.sponsor_id,
        controller_id=measure.controller_id,
        gaps=lambda stage: readiness(in_force.policy, stage, GateFacts(facts, custom)),
        chain_for=lambda stage: governed_chain(in_force.policy, stage, sponsor_id=measure.sponsor_id,
                                               controller_id=measure.controller_id, requester=requester,
                                               members=_groups_read(in_force.policy, members or {})),
        frozen_from=portfolio_rules_of(session=session, package_id=measure.package_id).plan_frozen_from,
    )  # fmt: skip
    request = GateRequest(
        measure_id=measure.id or 0, open_for=measure.id, kind=kind, from_stage=measure.stage, to_stage=target,
        requested_by=requester, requested_at=now, step_started_at=now, reason=reason,
        chain=_chain_json(chain, members or {}, requester), governance_version=in_force.version,
        proposed_plan=json.dumps(_plan_json(proposed_plan)) if proposed_plan is not None else None,
    )  # fmt: skip
    try:
        with session.begin_nested():  # a savepoint: the session stays usable if the insert loses
            session.add(request)
            session.flush()
    except IntegrityError:  # another request was opened at the same moment
        raise GateRefused(f"{measure.key} already has a request waiting for approval.") from None
    record_audit(
        session=session, actor=requester, entity="measure", entity_key=measure.key, action="gate_requested",
        detail={"request_id": request.id, "kind": kind, "from": measure.stage, "to": target, "reason": reason,
                "governance_version": in_force.version,
                **({"plan": _plan_json(proposed_plan)} if proposed_plan is not None else {})},
    )  # fmt: skip
    _owe_approval(session=session, request=request)
    return request


def _groups_read(
    policy: PortfolioGovernance | None, members: Mapping[str, frozenset[str]]
) -> Mapping[str, frozenset[str]]:
    """The members of the groups the file names; GateRefused if one was not read (the file changed
    between the read and this transaction)."""
    unread = usergroups_named(policy) - members.keys()
    if unread:
        raise GateRefused("The governance file changed while this was asked: please ask again.")
    return members


def _owe_approval(*, session: Session, request: GateRequest) -> None:
    """The approval message to whoever may decide the step: each member of a group step gets one."""
    _role, approver = chain_of(request)[request.step]
    for decider in sorted(deciders_of(request, request.step)):
        key = f"{request.id}:{request.step}" + (f":{decider}" if decider != approver else "")
        owe(
            session=session, kind=Kind.GATE_APPROVAL, key=key, recipient=decider,
            payload=ApprovalPayload(request_id=request.id or 0, step=request.step),
        )  # fmt: skip


def delegate_of(*, session: Session, delegator: str, user_id: str, today: date) -> bool:
    query = select(col(Delegation.id)).where(
        Delegation.delegator_id == delegator, Delegation.delegate_id == user_id, col(Delegation.until) >= today
    )
    return session.exec(query).first() is not None


def may_decide(
    *, session: Session, request_id: int, step: int, user_id: str, now: datetime
) -> tuple[GateRequest, Measure]:
    """The open request and its measure when `user_id` may decide this step now (locked for the
    decision on PostgreSQL); else GateRefused says why the click does nothing."""
    request = session.exec(select(GateRequest).where(GateRequest.id == request_id).with_for_update()).first()
    if request is None:
        raise GateRefused("This request no longer exists.")
    measure = session.get(Measure, request.measure_id)
    assert measure is not None
    if request.state != "open" or request.step != step:
        raise GateRefused(f"This request for {measure.key} has already been decided; nothing was changed.")
    role, approver = chain_of(request)[step]
    deciders = deciders_of(request, step)
    deputies = {user_id} if any(delegate_of(session=session, delegator=one, user_id=user_id, today=now.date())
                                for one in deciders) else set()  # fmt: skip
    party = Party.of(measure, approver_ids=frozenset({*deciders, *deputies}), requester_id=request.requested_by)
    if user_id == request.requested_by:
        raise GateRefused("You asked for this gate, so you cannot approve or reject it yourself.")
    if not may(Deed.DECIDE, user_id, admin=False, party=party):
        who = f"a member of <!subteam^{approver}>" if approver not in deciders else f"<@{approver}>"
        raise GateRefused(f"Only the {role} of {measure.key}, {who}, or their delegate can decide this.")
    return request, measure


def decide(
    *, session: Session, request_id: int, step: int, user_id: str, decision: str, reason: str, now: datetime
) -> GateRequest:
    """Record one decision on one step, exactly once; GateRefused says why a click does nothing."""
    request, measure = may_decide(session=session, request_id=request_id, step=step, user_id=user_id, now=now)
    role, approver = chain_of(request)[step]
    session.add(
        GateDecision(
            request_id=request_id, step=step, role=role, approver_id=approver, decided_by=user_id,
            decision=decision, reason=reason, decided_at=now,
        )
    )  # fmt: skip
    try:
        session.flush()  # the unique (request, step) key: a second decision on this step fails here
    except IntegrityError:
        raise GateRefused(f"This request for {measure.key} has already been decided; nothing was changed.") from None
    final = decision != Decision.APPROVED or step + 1 == len(chain_of(request))
    if not final:
        request.step, request.step_started_at, request.reminded_at = step + 1, now, None
        _owe_approval(session=session, request=request)
    else:
        request.state = decision
        request.open_for, request.decided_at = None, now
        if decision == Decision.APPROVED:
            _apply(session=session, request=request, measure=measure, now=now)
        owe(
            session=session, kind=Kind.GATE_OUTCOME, key=str(request.id), recipient=request.requested_by,
            payload=GatePayload(request_id=request.id or 0),
        )  # fmt: skip
    session.add(request)
    record_audit(
        session=session, actor=user_id, entity="measure", entity_key=measure.key, action=f"gate_{decision}",
        detail={"request_id": request.id, "step": step, "role": role, "for": approver, "reason": reason},
    )  # fmt: skip
    return request


def proposed_plan_of(request: GateRequest) -> dict[date, int]:
    return {date.fromisoformat(f"{m}-01"): int(v) for m, v in json.loads(request.proposed_plan or "{}").items()}


def _plan_json(plan: dict[date, int] | None) -> dict[str, int]:
    return {f"{m:%Y-%m}": v for m, v in sorted((plan or {}).items())}


def _apply(*, session: Session, request: GateRequest, measure: Measure, now: datetime) -> None:
    if request.kind == RequestKind.REBASELINE:
        _rebaseline(session=session, request=request, measure=measure)
        return
    old = measure.stage
    measure.stage = request.to_stage
    measure.version += 1
    reschedule(session=session, measure=measure, now=now)
    session.add(measure)
    frozen_from = portfolio_rules_of(session=session, package_id=measure.package_id).plan_frozen_from
    if freezes(Stage(old), Stage(measure.stage), frozen_from=frozen_from):
        freeze_plan(session=session, measure_id=measure.id or 0)  # the plan as it stands is the baseline from now on
    record_audit(
        session=session, actor="system", entity="measure", entity_key=measure.key, action="stage_changed",
        detail={"stage": [old, measure.stage], "request_id": request.id},
    )  # fmt: skip


def _rebaseline(*, session: Session, request: GateRequest, measure: Measure) -> None:
    """The approved new plan replaces the current one (the plan at the decision stays as it was);
    the target becomes the new plan's total."""
    plan = proposed_plan_of(request)
    old = {m.month: m.plan for m in months_of(session=session, measure_id=measure.id or 0) if m.plan is not None}
    replace_plan(session=session, measure_id=measure.id or 0, plan=plan)
    old_target, measure.target = measure.target, sum(plan.values())
    measure.version += 1
    session.add(measure)
    record_audit(
        session=session, actor="system", entity="measure", entity_key=measure.key, action="rebaselined",
        detail={"request_id": request.id, "plan": [_plan_json(old), _plan_json(plan)],
                "target": [old_target, measure.target]},
    )  # fmt: skip


def put_on_hold(*, session: Session, measure: Measure, user_id: str, reason: str, now: datetime) -> None:
    measure.held_from_stage = hold(Stage(measure.stage))
    _move(session=session, measure=measure, stage=Stage.ON_HOLD, user_id=user_id, action="held", reason=reason, now=now)


def resume_from_hold(*, session: Session, measure: Measure, user_id: str, now: datetime) -> None:
    stage = resume(Stage(measure.stage), measure.held_from_stage)
    measure.held_from_stage = None
    _move(session=session, measure=measure, stage=stage, user_id=user_id, action="resumed", reason="", now=now)


def _move(
    *, session: Session, measure: Measure, stage: Stage, user_id: str, action: str, reason: str, now: datetime
) -> None:
    if open_request_of(session=session, measure_id=measure.id or 0) is not None:
        raise GateRefused(f"{measure.key} has a request waiting for approval: wait for the decision first.")
    old = measure.stage
    measure.stage = stage
    measure.version += 1
    reschedule(session=session, measure=measure, now=now)
    session.add(measure)
    record_audit(
        session=session, actor=user_id, entity="measure", entity_key=measure.key, action=action,
        detail={"stage": [old, stage], "reason": reason},
    )  # fmt: skip


def delegate(*, session: Session, delegator: str, delegate_id: str, until: date) -> Delegation:
    if delegate_id == delegator:
        raise GateRefused("Choose someone other than yourself.")
    delegation = Delegation(delegator_id=delegator, delegate_id=delegate_id, until=until)
    session.add(delegation)
    session.flush()
    record_audit(
        session=session, actor=delegator, entity="person", entity_key=delegator, action="delegated",
        detail={"delegate": delegate_id, "until": until},
    )  # fmt: skip
    return delegation


def plan_gate_aging(*, session: Session, now: datetime, remind_after: timedelta, report_after: timedelta) -> int:
    """Approvals waiting on a step: one reminder to the approver after `remind_after`; reported
    (audited, for escalation) after `report_after`. Returns how many rows it touched."""
    query = (
        select(GateRequest)
        .where(GateRequest.state == "open", col(GateRequest.step_started_at) <= now - remind_after)
        .where(col(GateRequest.reminded_at).is_(None) | col(GateRequest.reported_at).is_(None))
        .with_for_update(skip_locked=True)
    )
    touched = 0
    waiting = session.exec(query).all()
    approvers = {request.id: chain_of(request)[request.step][1] for request in waiting}
    deciders = {request.id: deciders_of(request, request.step) for request in waiting}
    calendars = calendars_of(session=session, slack_ids=set(approvers.values()))  # a group's step: plain hours
    for request in waiting:
        measure = session.get(Measure, request.measure_id)
        key = measure.key if measure else str(request.measure_id)
        approver = approvers[request.id]
        calendar = calendars.get(approver)
        if calendar is not None and calendar.add_working(request.step_started_at, remind_after) > now:
            continue  # the wait counts the approver's working time (domain/calendar.py)
        if request.reminded_at is None:
            for decider in sorted(deciders[request.id]):
                key = f"{request.id}:{request.step}" + (f":{decider}" if decider != approver else "")
                owe(session=session, kind=Kind.GATE_REMINDER, key=key, recipient=decider,
                    payload=GatePayload(request_id=request.id or 0))  # fmt: skip
            request.reminded_at = now
            touched += 1
        reported_by = calendar.add_working(request.step_started_at, report_after) if calendar else None
        if request.reported_at is None and (reported_by or request.step_started_at + report_after) <= now:
            request.reported_at = now
            record_audit(
                session=session, actor="system", entity="measure", entity_key=key, action="approval_overdue",
                detail={"request_id": request.id, "step": request.step, "waiting_since": request.step_started_at},
            )  # fmt: skip
            touched += 1
        session.add(request)
    return touched


def waiting_for(*, session: Session, user_id: str) -> list[tuple[str, str, str, datetime, int, int]]:
    """(key, title, stage asked for, waiting since, request id, step) of open requests whose current
    step is theirs."""
    rows = session.exec(
        select(GateRequest, col(Measure.key), col(Measure.title))
        .join(Measure, col(Measure.id) == col(GateRequest.measure_id))
        .where(GateRequest.state == "open")
        # only the requests whose chain names them (its JSON holds each approver's id in quotes): not
        # every open request of the organization, loaded on every App Home opening
        .where(col(GateRequest.chain).contains(json.dumps(user_id)))
        .order_by(col(GateRequest.step_started_at))
    ).all()
    return [
        (key, title, request.to_stage, request.step_started_at, request.id or 0, request.step)
        for request, key, title in rows
        if user_id in deciders_of(request, request.step)
    ]
