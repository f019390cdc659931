"""One `/measure …` call, as the subcommand handlers see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from domain.parsing import InputError, parse_key
from messages.text import escape
from slackkit.context import Deps
from slackkit.surfaces import tell


@dataclass(frozen=True)
class Invocation:
    deps: Deps
    body: dict[str, Any]
    user_id: str
    args: list[str]
    trigger_id: str

    async def reply(self, text: str, blocks: list[Any] | None = None) -> None:
        await tell(self.deps, body=self.body, user_id=self.user_id, text=text, blocks=blocks)

    async def key(self, example: str) -> str | None:
        """The measure key in the first argument, or None after saying what is wrong with it."""
        if not self.args:
            await self.reply(f"Which measure? For example `/measure {example} M-12`.")
            return None
        try:
            return parse_key(self.args[0])
        except InputError as error:
            await self.reply(escape(str(error)))
            return None


Subcommand = Callable[[Invocation], Awaitable[None]]
