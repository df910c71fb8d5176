from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.secret_user import SecretUser


T = TypeVar("T", bound="SecretOut")


@_attrs_define
class SecretOut:
    """A secret's metadata.

    Attributes:
        created_at (datetime.datetime): When it was created.
        description (str): What it is for.
        name (str): Its name.
        updated_at (datetime.datetime): When it last changed.
        used_by (list[SecretUser]): The integrations whose templates reference it.
        version (int): Incremented on every new value; send it back in `If-Match` to guard a write.
    """

    created_at: datetime.datetime
    description: str
    name: str
    updated_at: datetime.datetime
    used_by: list[SecretUser]
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        description = self.description

        name = self.name

        updated_at = self.updated_at.isoformat()

        used_by = []
        for used_by_item_data in self.used_by:
            used_by_item = used_by_item_data.to_dict()
            used_by.append(used_by_item)

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "description": description,
                "name": name,
                "updatedAt": updated_at,
                "usedBy": used_by,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.secret_user import SecretUser  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        description = d.pop("description")

        name = d.pop("name")

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        used_by = []
        _used_by = d.pop("usedBy")
        for used_by_item_data in _used_by:
            used_by_item = SecretUser.from_dict(used_by_item_data)

            used_by.append(used_by_item)

        version = d.pop("version")

        secret_out = cls(
            created_at=created_at,
            description=description,
            name=name,
            updated_at=updated_at,
            used_by=used_by,
            version=version,
        )

        secret_out.additional_properties = d
        return secret_out

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
