from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="DeliveryRefOut")


@_attrs_define
class DeliveryRefOut:
    """A delivery made for a published event.

    Attributes:
        delivery_id (UUID): The delivery (see `GET /api/v2/deliveries/{deliveryId}`).
        integration_id (UUID): An integration: one target endpoint of a tenant.
    """

    delivery_id: UUID
    integration_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        delivery_id = str(self.delivery_id)

        integration_id = str(self.integration_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "deliveryId": delivery_id,
                "integrationId": integration_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        delivery_id = UUID(d.pop("deliveryId"))

        integration_id = UUID(d.pop("integrationId"))

        delivery_ref_out = cls(
            delivery_id=delivery_id,
            integration_id=integration_id,
        )

        delivery_ref_out.additional_properties = d
        return delivery_ref_out

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
