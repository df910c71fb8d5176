from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="BindingOut")


@_attrs_define
class BindingOut:
    """A binding of an event type (or family) to an integration.

    Attributes:
        created_at (datetime.datetime): When it was created.
        event_type (str): The event type, or a family such as `routing.queue.*`. Example: routing.queue.member.update.
        id (UUID): Its id.
        integration_id (UUID): An integration: one target endpoint of a tenant.
    """

    created_at: datetime.datetime
    event_type: str
    id: UUID
    integration_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        event_type = self.event_type

        id = str(self.id)

        integration_id = str(self.integration_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "eventType": event_type,
                "id": id,
                "integrationId": integration_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        event_type = d.pop("eventType")

        id = UUID(d.pop("id"))

        integration_id = UUID(d.pop("integrationId"))

        binding_out = cls(
            created_at=created_at,
            event_type=event_type,
            id=id,
            integration_id=integration_id,
        )

        binding_out.additional_properties = d
        return binding_out

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
