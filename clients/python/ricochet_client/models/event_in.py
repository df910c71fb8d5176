from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.event_in_data import EventInData


T = TypeVar("T", bound="EventIn")


@_attrs_define
class EventIn:
    """An event as a client publishes it.

    Attributes:
        data (EventInData): The event's payload: a JSON object.
        type_ (str): Dot-separated event type. Example: routing.queue.member.update.
        id (None | str | Unset): The client's id for the event: publishing the same id again is a no-op. Generated when
            absent. Example: evt_01HF3.
        occurred_at (datetime.datetime | None | Unset): When the event happened; the time it was received when absent.
        ordering_key (None | str | Unset): Events with the same key (a conversation id, say) are delivered one at a
            time, in
            publish order, to integrations with `settings.ordering: perKey`. 1 to 256 bytes, no
            control characters. Example: conversation-8841.
    """

    data: EventInData
    type_: str
    id: None | str | Unset = UNSET
    occurred_at: datetime.datetime | None | Unset = UNSET
    ordering_key: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        type_ = self.type_

        id: None | str | Unset
        if isinstance(self.id, Unset):
            id = UNSET
        else:
            id = self.id

        occurred_at: None | str | Unset
        if isinstance(self.occurred_at, Unset):
            occurred_at = UNSET
        elif isinstance(self.occurred_at, datetime.datetime):
            occurred_at = self.occurred_at.isoformat()
        else:
            occurred_at = self.occurred_at

        ordering_key: None | str | Unset
        if isinstance(self.ordering_key, Unset):
            ordering_key = UNSET
        else:
            ordering_key = self.ordering_key

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "data": data,
                "type": type_,
            }
        )
        if id is not UNSET:
            field_dict["id"] = id
        if occurred_at is not UNSET:
            field_dict["occurredAt"] = occurred_at
        if ordering_key is not UNSET:
            field_dict["orderingKey"] = ordering_key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_in_data import EventInData  # noqa: PLC0415

        d = dict(src_dict)
        data = EventInData.from_dict(d.pop("data"))

        type_ = d.pop("type")

        def _parse_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        id = _parse_id(d.pop("id", UNSET))

        def _parse_occurred_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                occurred_at_type_0 = datetime.datetime.fromisoformat(data)

                return occurred_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        occurred_at = _parse_occurred_at(d.pop("occurredAt", UNSET))

        def _parse_ordering_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ordering_key = _parse_ordering_key(d.pop("orderingKey", UNSET))

        event_in = cls(
            data=data,
            type_=type_,
            id=id,
            occurred_at=occurred_at,
            ordering_key=ordering_key,
        )

        return event_in
