from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.delivery_summary import DeliverySummary
    from ..models.event_out_data import EventOutData


T = TypeVar("T", bound="EventOut")


@_attrs_define
class EventOut:
    """An event with its data and deliveries.

    Attributes:
        data (EventOutData): Its data, as published.
        deliveries (list[DeliverySummary]): Its deliveries, one per integration it went to, and where each stands.
        id (str): Its id.
        occurred_at (datetime.datetime): When it happened, as the publisher said.
        ordering_key (None | str): Its ordering key, if it was published with one.
        received_at (datetime.datetime): When Ricochet accepted it.
        traceparent (None | str): The W3C trace context of the span that published it, which its attempts continue (and
            forward to receivers): in the trace of the `traceparent` the publish request carried,
            or of a new one. Null unless Ricochet exports traces (`--otlp-endpoint`). Example:
            00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.
        type_ (str): Its type.
    """

    data: EventOutData
    deliveries: list[DeliverySummary]
    id: str
    occurred_at: datetime.datetime
    ordering_key: None | str
    received_at: datetime.datetime
    traceparent: None | str
    type_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        deliveries = []
        for deliveries_item_data in self.deliveries:
            deliveries_item = deliveries_item_data.to_dict()
            deliveries.append(deliveries_item)

        id = self.id

        occurred_at = self.occurred_at.isoformat()

        ordering_key: None | str
        ordering_key = self.ordering_key

        received_at = self.received_at.isoformat()

        traceparent: None | str
        traceparent = self.traceparent

        type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "deliveries": deliveries,
                "id": id,
                "occurredAt": occurred_at,
                "orderingKey": ordering_key,
                "receivedAt": received_at,
                "traceparent": traceparent,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.delivery_summary import DeliverySummary  # noqa: PLC0415
        from ..models.event_out_data import EventOutData  # noqa: PLC0415

        d = dict(src_dict)
        data = EventOutData.from_dict(d.pop("data"))

        deliveries = []
        _deliveries = d.pop("deliveries")
        for deliveries_item_data in _deliveries:
            deliveries_item = DeliverySummary.from_dict(deliveries_item_data)

            deliveries.append(deliveries_item)

        id = d.pop("id")

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurredAt"))

        def _parse_ordering_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ordering_key = _parse_ordering_key(d.pop("orderingKey"))

        received_at = datetime.datetime.fromisoformat(d.pop("receivedAt"))

        def _parse_traceparent(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        traceparent = _parse_traceparent(d.pop("traceparent"))

        type_ = d.pop("type")

        event_out = cls(
            data=data,
            deliveries=deliveries,
            id=id,
            occurred_at=occurred_at,
            ordering_key=ordering_key,
            received_at=received_at,
            traceparent=traceparent,
            type_=type_,
        )

        event_out.additional_properties = d
        return event_out

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
