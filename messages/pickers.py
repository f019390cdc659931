"""Choosing one of many (measure packages, parent units): a static select while every choice fits
Slack's limits (100 options), else an `external_select` whose options the bot answers as the person
types (`options_for`), which always shows the current value as its initial option. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import ExternalDataSelectElement, InputBlock, Option, OptionGroup, StaticSelectElement

from messages.ids import INPUT

STATIC_LIMIT = 100  # options (and groups, and options a group) Slack takes in a static select
ANSWERED = 100  # options an options request is answered with


@dataclass(frozen=True)
class Choice:
    value: str
    label: str  # "Program › Project › Package"
    group: str = ""  # "Organization › Portfolio": options are grouped by it in a static select

    @property
    def searchable(self) -> str:
        return f"{self.group} {self.label}".lower()

    def option(self, *, with_group: bool = False) -> Option:
        text = f"{self.group} › {self.label}" if with_group and self.group else self.label
        return Option(value=self.value, label=_fits(text))


def choice_select(
    block_id: str,
    label: str,
    choices: Sequence[Choice],
    *,
    initial: str | None,
    placeholder: str,
    hint: str | None = None,
) -> InputBlock:
    groups: dict[str, list[Choice]] = {}
    for choice in choices:
        groups.setdefault(choice.group, []).append(choice)
    current = next((c for c in choices if c.value == initial), None)
    fits = len(choices) <= STATIC_LIMIT and len(groups) <= STATIC_LIMIT
    if not fits:
        element: StaticSelectElement | ExternalDataSelectElement = ExternalDataSelectElement(
            action_id=INPUT, placeholder=placeholder, min_query_length=0,
            initial_option=current.option(with_group=True) if current else None,
        )  # fmt: skip
    elif len(groups) > 1 or any(groups):
        element = StaticSelectElement(
            action_id=INPUT, placeholder=placeholder,
            option_groups=[OptionGroup(label=_fits(g or "Other"), options=[c.option() for c in cs])
                           for g, cs in groups.items()],
            initial_option=current.option() if current else None,
        )  # fmt: skip
    else:
        element = StaticSelectElement(
            action_id=INPUT, placeholder=placeholder, options=[c.option() for c in choices],
            initial_option=current.option() if current else None,
        )  # fmt: skip
    return InputBlock(block_id=block_id, label=label, element=element, hint=hint)


def options_for(choices: Sequence[Choice], typed: str) -> list[dict[str, object]]:
    """An options request's answer: the choices whose group or label holds every word typed, the
    first ANSWERED of them (in order), with "group › label" as their text."""
    words = typed.lower().split()
    found = [c for c in choices if all(word in c.searchable for word in words)]
    return [c.option(with_group=True).to_dict() for c in found[:ANSWERED]]


def _fits(text: str) -> str:
    """An option's text: at most 75 characters, the end kept (the package's own name is there)."""
    return text if len(text) <= 75 else "…" + text[-74:]
