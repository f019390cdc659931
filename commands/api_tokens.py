"""`/measure api-token new NAME [read|write]` | `list` | `revoke NAME`: admins make the bearer tokens
that ERP and BI tools call `/api/v1/` with (commands/api). A new token is shown once, to its maker
only (an ephemeral reply); the database keeps its hash. Revoking stops its writes at once
and its reads within a second (they remember a lookup that long: commands/api/access.KnownTokens)."""

from __future__ import annotations

import re

from commands.invocation import Invocation, Subcommand
from domain.policy import Deed, TokenScope, who_may
from messages.text import escape, truncate
from slackkit.people import allowed
from storage.api_tokens import create_token, revoke_token, tokens

USAGE = "`/measure api-token new NAME [read|write]`, `/measure api-token list` or `/measure api-token revoke NAME`"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,27}$")  # the audit trail's actor is `api:NAME` (32 characters)


async def api_token(call: Invocation) -> None:
    if not await allowed(call.deps, call.user_id, Deed.MANAGE_API_TOKENS):
        await call.reply(f"Only {who_may(Deed.MANAGE_API_TOKENS)} can manage API tokens.")
        return
    action, words = (call.args[0].lower(), call.args[1:]) if call.args else ("", [])
    if action == "list":
        await _list(call)
    elif action == "new" and 1 <= len(words) <= 2:
        await _new(call, words[0], words[1].lower() if len(words) == 2 else TokenScope.READ)
    elif action == "revoke" and len(words) == 1:
        await _revoke(call, words[0])
    else:
        await call.reply(f"Use {USAGE}.")


async def _new(call: Invocation, name: str, scope: str) -> None:
    if not NAME.match(name):
        await call.reply(f"“{escape(truncate(name, 40))}” cannot name a token: up to 28 letters, digits, `.`, `_` or "
                         "`-`, starting with a letter or digit (for example `sap-actuals`).")  # fmt: skip
        return
    if scope not in set(TokenScope):
        await call.reply(f"A token is `read` (the default) or `write`, not “{escape(truncate(scope, 20))}”.")
        return
    deps = call.deps
    secret = await deps.transaction(
        lambda s: create_token(session=s, name=name, scope=TokenScope(scope), actor=call.user_id, now=deps.clock())
    )
    if secret is None:
        await call.reply(f"There is a token called `{name}` already (revoked tokens keep their names).")
        return
    await call.reply(
        f"API token `{name}` ({scope}): `{secret}`\nCopy it now: it is not shown again. Send it as "
        "`Authorization: Bearer …` to `/api/v1/` (docs/api.md)."
    )


async def _list(call: Invocation) -> None:
    found = await call.deps.read(lambda s: tokens(session=s))
    if not found:
        await call.reply(f"There are no API tokens yet. {USAGE}.")
        return
    lines = [
        f"• `{t.name}` ({t.scope}), made by <@{t.created_by}> on {t.created_at:%Y-%m-%d}"
        + (f", revoked on {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "")
        for t in found[:100]
    ]
    more = f"\n…and {len(found) - 100} more" if len(found) > 100 else ""
    await call.reply("API tokens:\n" + "\n".join(lines) + more)


async def _revoke(call: Invocation, name: str) -> None:
    deps = call.deps
    done = await deps.transaction(lambda s: revoke_token(session=s, name=name, actor=call.user_id, now=deps.clock()))
    shown = escape(truncate(name, 40))
    await call.reply(
        f"Revoked `{shown}`: it writes nothing more, and reads nothing after a second."
        if done
        else f"There is no active token `{shown}`."
    )


SUBCOMMANDS: dict[str, Subcommand] = {"api-token": api_token}
