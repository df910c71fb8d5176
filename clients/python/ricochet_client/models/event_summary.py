from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EventSummary")


@_attrs_define
class EventSummary:
    """A published event, as listed.

    Attributes:
        delivery_count (int): How many deliveries it made (one per bound, enabled integration).
        id (str): Its id (the publisher's, or one Ricochet made).
        occurred_at (datetime.datetime): When it happened, as the publisher said.
        received_at (datetime.datetime): When Ricochet accepted it.
        type_ (str): Its type.
    """

    delivery_count: int
    id: str
    occurred_at: datetime.datetime
    received_at: datetime.datetime
    type_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        delivery_count = self.delivery_count

        id = self.id

        occurred_at = self.occurred_at.isoformat()

        received_at = self.received_at.isoformat()

        type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "deliveryCount": delivery_count,
                "id": id,
                "occurredAt": occurred_at,
                "receivedAt": received_at,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        delivery_count = d.pop("deliveryCount")

        id = d.pop("id")

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurredAt"))

        received_at = datetime.datetime.fromisoformat(d.pop("receivedAt"))

        type_ = d.pop("type")

        event_summary = cls(
            delivery_count=delivery_count,
            id=id,
            occurred_at=occurred_at,
            received_at=received_at,
            type_=type_,
        )

        event_summary.additional_properties = d
        return event_summary

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
