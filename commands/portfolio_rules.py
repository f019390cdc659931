"""`/measure rules <portfolio> [setting=value …]`: a portfolio's threshold rules, steering channel,
tolerance and escalation timing. Anyone may read them; admins change them."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from domain.enums import Level, Stage
from domain.escalation_rules import RULE_SWITCHES, Cause, PortfolioRules
from domain.gate_policy import effective_gate
from domain.governance import Approver, Criterion
from domain.parsing import InputError, parse_channel
from domain.policy import Deed
from domain.stage_gates import FORWARD
from domain.weights import WEIGHTED_STAGES
from messages.text import escape
from slackkit.people import allowed
from storage.governance import PolicyInForce, policy_in_force
from storage.governance_rules import set_by_file
from storage.models import Unit
from storage.queries import record_audit
from storage.tree import UnitTree

SWITCH_WORDS = {
    "overdue": Cause.CHECKIN_OVERDUE,
    "offtrack": Cause.OFF_TRACK_TWICE,
    "shortfall": Cause.SHORTFALL,
    "approval": Cause.APPROVAL_OVERDUE,
    "dependency": Cause.DEPENDENCY,
}
USAGE = (
    "Use `/measure rules <portfolio> [steering=#channel] [tolerance=10] [approval-days=3] [step-hours=24] "
    "[overdue|offtrack|shortfall|approval|dependency=on|off] [weight-DI3=50 …] [di5-months=all|3] "
    "[urgent=shortfall,approval|none]`."
)


async def rules(call: Invocation) -> None:
    deps = call.deps
    settings = [a for a in call.args if "=" in a]
    name = " ".join(a for a in call.args if "=" not in a)
    if not name:
        await call.reply(USAGE)
        return
    if settings and not await allowed(deps, call.user_id, Deed.CONFIGURE_RULES):
        await call.reply("Only admins (the programme office) can change a portfolio's rules.")
        return
    try:
        changes = parse_settings(settings)
    except InputError as error:
        await call.reply(f"Nothing was changed. {escape(str(error))} {USAGE}")
        return
    await call.reply(await deps.transaction(lambda s: apply_rules(s, name, changes, call.user_id)))


def parse_settings(words: list[str]) -> dict[str, Any]:
    """`key=value` words into the fields they set; an unknown key or a bad value is an InputError."""
    changes: dict[str, Any] = {}
    for word in words:
        key, _, value = word.partition("=")
        key, value = key.strip().lower(), value.strip()
        if key == "steering":
            channel = parse_channel(value) if value.lower() not in ("", "none") else ""
            if channel is None:
                raise InputError(f"“{value}” is not a channel: pick it with # so Slack sends its id.")
            changes["steering_channel"] = channel or None
        elif key in ("tolerance", "approval-days", "step-hours"):
            if not value.isdigit():
                raise InputError(f"{key} takes a whole number, not “{value}”.")
            changes[{"tolerance": "tolerance_pct"}.get(key, key.replace("-", "_"))] = int(value)
        elif key == "di5-months":  # how many of the latest closed months DI5 wants validated actuals for
            if value.lower() != "all" and not (value.isdigit() and 1 <= int(value) <= 120):
                raise InputError(f"di5-months is all or a number of months from 1 to 120, not “{value}”.")
            changes["di5_months"] = None if value.lower() == "all" else int(value)
        elif key.startswith("weight-"):
            changes.setdefault("weights", {})[_weighted_stage(key)] = _percent(key, value)
        elif key == "urgent":  # these causes' messages go out outside working time too
            words = [w for w in value.lower().replace(" ", "").split(",") if w and w != "none"]
            unknown = [w for w in words if w not in SWITCH_WORDS]
            if unknown:
                raise InputError(f"urgent takes causes among {', '.join(SWITCH_WORDS)} (or none), not “{unknown[0]}”.")
            changes["urgent"] = [SWITCH_WORDS[w] for w in words]
        elif key in SWITCH_WORDS:
            if value.lower() not in ("on", "off"):
                raise InputError(f"{key} is on or off, not “{value}”.")
            changes[RULE_SWITCHES[SWITCH_WORDS[key]]] = value.lower() == "on"
        else:
            raise InputError(f"I don't know the setting “{key}”.")
    if not 0 < changes.get("tolerance_pct", 10) <= 100:
        raise InputError("tolerance is a percentage between 1 and 100.")
    return changes


def _weighted_stage(key: str) -> str:
    stage = key.removeprefix("weight-").upper()
    if stage not in WEIGHTED_STAGES:
        raise InputError(f"{key}: stages with a weight are {', '.join(WEIGHTED_STAGES)}.")
    return stage


def _percent(key: str, value: str) -> int:
    number = value.removesuffix("%").strip()
    if not number.isdigit() or int(number) > 100:
        raise InputError(f"{key} takes a whole percentage from 0 to 100, not “{value}”.")
    return int(number)


def apply_rules(session: Session, name: str, changes: dict[str, Any], actor: str) -> str:
    tree = UnitTree.load(session=session)
    found = [u for u in tree.named(name) if u.level == Level.PORTFOLIO]
    if len(found) != 1:
        return "Nothing was changed. " + escape(tree.describe_matches(name, found, what="portfolio"))
    portfolio = found[0]
    in_force = policy_in_force(session=session, package_id=portfolio.id or 0)
    by_file = [word for field, word in set_by_file(in_force.policy).items() if field in changes]
    if by_file:
        return (
            f"Nothing was changed: {escape(portfolio.name)}'s {', '.join(by_file)} is set by its governance file "
            f"(version {in_force.version}). Change it there and apply it with `python -m bot governance apply`."
        )
    if changes:
        rules = PortfolioRules.parse(portfolio.rules).model_dump()
        rules.update({k: v for k, v in changes.items() if k in PortfolioRules.model_fields and k != "weights"})
        rules["weights"] = {**rules["weights"], **changes.get("weights", {})}
        try:
            portfolio.rules = PortfolioRules.model_validate(rules).model_dump_json()
        except ValidationError as error:
            return f"Nothing was changed: {escape(_first_reason(error))}. {USAGE}"
        portfolio.tolerance_pct = changes.get("tolerance_pct", portfolio.tolerance_pct)
        portfolio.steering_channel = changes.get("steering_channel", portfolio.steering_channel)
        session.add(portfolio)
        record_audit(session=session, actor=actor, entity="unit", entity_key=str(portfolio.id),
                     action="rules_changed", detail=changes)  # fmt: skip
    return describe(portfolio, changed=bool(changes)) + "\n" + describe_gates(in_force)


def _first_reason(error: ValidationError) -> str:
    problem = error.errors()[0]
    if problem["type"] == "value_error":  # the weights fall from one stage to the next
        return str(problem["ctx"]["error"])
    return "approval-days is 1–90 and step-hours 1–720"


def describe(portfolio: Unit, *, changed: bool) -> str:
    rules = PortfolioRules.parse(portfolio.rules)
    switches = ", ".join(f"{word} {'on' if rules.enabled(c) else 'off'}" for word, c in SWITCH_WORDS.items())
    steering = (
        f"<#{portfolio.steering_channel}>" if portfolio.steering_channel else "none (escalations stop at sponsors)"
    )
    approval = f"{rules.approval_days} days" if rules.approval_days else "the default (APPROVAL_REPORT_HOURS)"
    head = "Saved. " if changed else ""
    di5 = f"the last {rules.di5_months} closed months" if rules.di5_months else "every closed month of the plan"
    weights = ", ".join(f"{stage} {rules.weights.of(stage)}%" for stage in WEIGHTED_STAGES)
    urgent = ", ".join(w for w, c in SWITCH_WORDS.items() if rules.is_urgent(c)) or "none"
    return (
        f"{head}*{escape(portfolio.name)}* — steering channel {steering}; tolerance {portfolio.tolerance_pct or 10}%; "
        f"approvals escalate after {approval}; an unacknowledged escalation climbs after {rules.step_hours} h; "
        f"rules: {switches}; urgent at any hour: {urgent}; stage weights {weights}; "
        f"DI5 wants validated actuals for {di5}; the plan changes only by a re-baseline from {rules.plan_frozen_from}."
    )


def describe_gates(in_force: PolicyInForce) -> str:
    """What each gate requires under the governance in force, and who approves it, in order."""
    source = (f"governance file version {in_force.version}" if in_force.policy else
              "today's method: no governance file names this portfolio")  # fmt: skip
    needs, approvals = [], []
    for stage in FORWARD:
        gate = effective_gate(in_force.policy, stage)
        needs.append(f"into {stage}: " + (", ".join(_criterion(c) for c in gate.requires or ()) or "nothing more"))
        if stage is not Stage.DI0:  # a new measure is at DI0 without a request
            approvals.append(f"{stage}: " + " then ".join(_approver(a) for a in gate.approvers or ()))
    return (f"*Gates* ({source}) — {'; '.join(needs)}. *Approved by*, in order — {'; '.join(approvals)}. "
            "A cancellation is the sponsor's; a re-baseline the sponsor's (the controller's first once it has "
            "actuals).")  # fmt: skip


def _criterion(criterion: Criterion) -> str:
    return f"`{criterion.name}: {criterion.count}`" if criterion.count != 1 else f"`{criterion.name}`"


def _approver(approver: Approver) -> str:
    if approver.all_of:
        return "all of " + " and ".join(_approver(one) for one in approver.all_of)
    return {
        "person": f"<@{approver.id}>",
        "usergroup": f"any one of <!subteam^{approver.id}>",
    }.get(approver.kind, approver.kind)


SUBCOMMANDS: dict[str, Subcommand] = {
    "rules": rules,
}
