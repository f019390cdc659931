"""Block Kit models to the JSON Slack is sent: slack-sdk's `to_dict()`, at a fan-out's pace.

`JsonObject.to_dict()` finds an object's validators by calling `dir()` on it, for every object
of every message: about 40 µs an object, 3 ms for a five-measure check-in prompt, the largest
cost of a fan-out of thousands. `blocks_json` runs the same validators (slack-sdk's own, so an
over-long text still raises `SlackObjectFormationError`) found once per class, and builds the
same dictionaries by the same rules as `get_non_null_attributes`. A class that serialises itself
(it overrides `to_dict` or its helpers) is left to its own `to_dict()`. The tests hold it equal to
`to_dict()` for every kind of message the bot renders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject
from slack_sdk.models.blocks import (
    Block,
)


@dataclass(frozen=True)
class Rendered:
    text: str
    blocks: list[Block]


_EMPTY_ALLOWED = frozenset((e["type"], e["property"]) for e in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST)


_SERIALISATION = ("to_dict", "get_non_null_attributes", "get_object_attribute", "validate_json")


def blocks_json(blocks: Sequence[JsonObject]) -> list[dict[str, Any]]:
    """The blocks as Slack's JSON, validated: equal to `[b.to_dict() for b in blocks]`."""
    return [_object_json(block) for block in blocks]


@cache
def _validators(cls: type) -> tuple[Callable[[Any], None], ...]:
    """The class's `@JsonValidator` methods, as `validate_json` finds them (it asks `dir()`)."""
    found = (getattr(cls, name, None) for name in dir(cls) if not name.startswith("__"))
    return tuple(f for f in found if callable(f) and hasattr(f, "validator"))


@cache
def _serialises_itself(cls: type) -> bool:
    return any(getattr(cls, name) is not getattr(JsonObject, name) for name in _SERIALISATION)


def _object_json(value: JsonObject) -> dict[str, Any]:
    cls = type(value)
    if _serialises_itself(cls):
        return {key: _json(item) for key, item in value.to_dict().items()}
    for validator in _validators(cls):
        validator(value)
    kind = getattr(value, "type", None)
    result = {}
    for key in sorted(value.attributes):
        item = getattr(value, key, None)
        if item is None:
            continue
        if (kind, key) not in _EMPTY_ALLOWED and hasattr(item, "__len__") and len(item) == 0:
            continue
        result[key] = _json(item)
    return result


def _json(value: Any) -> Any:
    """`get_non_null_attributes`' `to_dict_compatible`, with JsonObjects serialised as above."""
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, JsonObject):
        return _object_json(value)
    to_dict = getattr(value, "to_dict", None)
    if to_dict and callable(to_dict):
        return {key: _json(item) for key, item in to_dict().items()}
    return value
