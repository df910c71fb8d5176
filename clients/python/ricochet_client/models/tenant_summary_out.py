from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TenantSummaryOut")


@_attrs_define
class TenantSummaryOut:
    """A tenant with its counts.

    Attributes:
        created_at (datetime.datetime): When it was made.
        dead_letters (int): Deliveries in its dead-letter queue.
        id (UUID): Its id.
        integrations (int): Live integrations.
        name (str): Its name.
    """

    created_at: datetime.datetime
    dead_letters: int
    id: UUID
    integrations: int
    name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        dead_letters = self.dead_letters

        id = str(self.id)

        integrations = self.integrations

        name = self.name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "deadLetters": dead_letters,
                "id": id,
                "integrations": integrations,
                "name": name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        dead_letters = d.pop("deadLetters")

        id = UUID(d.pop("id"))

        integrations = d.pop("integrations")

        name = d.pop("name")

        tenant_summary_out = cls(
            created_at=created_at,
            dead_letters=dead_letters,
            id=id,
            integrations=integrations,
            name=name,
        )

        tenant_summary_out.additional_properties = d
        return tenant_summary_out

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
