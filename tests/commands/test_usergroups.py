"""A group's members through the stand-in's `usergroups.users.list`, as an approval step of a
governance file resolves them; a group Slack does not know is named, not an error."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.standin.server import SlackStandIn
from domain.enums import Stage
from domain.gate_policy import approval_steps, effective_gate
from domain.governance import parse_governance
from slackkit.usergroups import members_of
from tests.conftest import TOKEN


async def test_group_members_decide_a_step_and_unknown_groups_are_named(standin: SlackStandIn) -> None:
    standin.add_usergroup("S0PMO", ["U0ANNA", "U0BEN"])
    client = AsyncWebClient(token=TOKEN, base_url=f"{standin.url}/api/")
    members, unknown = await members_of(client, ["S0PMO", "S0GONE"])
    assert members == {"S0PMO": frozenset({"U0ANNA", "U0BEN"})} and unknown == {"S0GONE"}
    assert [c.method for c in standin.calls("usergroups.users.list")] == ["usergroups.users.list"] * 2
    policy = parse_governance({"organization": "Acme", "portfolios": {"Ops": {"gates": {
        "DI3": {"approvers": ["sponsor", {"usergroup": "S0PMO"}]}}}}}).portfolios["Ops"]  # fmt: skip
    steps = approval_steps(effective_gate(policy, Stage.DI3), sponsor_id="U0S", controller_id=None,
                           requester="U0ANNA", members=members)  # fmt: skip
    assert [s.deciders for s in steps] == [frozenset({"U0S"}), frozenset({"U0BEN"})]
