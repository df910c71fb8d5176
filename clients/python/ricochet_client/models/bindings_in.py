from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="BindingsIn")


@_attrs_define
class BindingsIn:
    """Event types to bind to an integration.

    Attributes:
        events (list[str]): Event types or families (`routing.queue.*`; `*` alone binds every event). Example:
            ['routing.queue.member.update'].
    """

    events: list[str]

    def to_dict(self) -> dict[str, Any]:
        events = self.events

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "events": events,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        events = cast(list[str], d.pop("events"))

        bindings_in = cls(
            events=events,
        )

        return bindings_in
