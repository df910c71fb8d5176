from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.permission import Permission

T = TypeVar("T", bound="ApiClientCreated")


@_attrs_define
class ApiClientCreated:
    """A new API client, with its secret: shown this once, stored only as a hash.

    Attributes:
        client_id (UUID): An API client of a tenant; also its OAuth2 `client_id`.
        created_at (datetime.datetime): When it was created.
        name (str): What it is for.
        permissions (list[Permission]): What its tokens may do.
        revoked_at (datetime.datetime | None): When it was revoked; absent while active.
        tenant_id (UUID): A tenant: one organisation, owner of every other resource.
        updated_at (datetime.datetime): When it last changed.
        version (int): Version, incremented on each change.
        client_secret (str): The OAuth2 `client_secret`. Store it now: it cannot be read again.
    """

    client_id: UUID
    created_at: datetime.datetime
    name: str
    permissions: list[Permission]
    revoked_at: datetime.datetime | None
    tenant_id: UUID
    updated_at: datetime.datetime
    version: int
    client_secret: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = str(self.client_id)

        created_at = self.created_at.isoformat()

        name = self.name

        permissions = []
        for permissions_item_data in self.permissions:
            permissions_item = permissions_item_data.value
            permissions.append(permissions_item)

        revoked_at: None | str
        if isinstance(self.revoked_at, datetime.datetime):
            revoked_at = self.revoked_at.isoformat()
        else:
            revoked_at = self.revoked_at

        tenant_id = str(self.tenant_id)

        updated_at = self.updated_at.isoformat()

        version = self.version

        client_secret = self.client_secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "clientId": client_id,
                "createdAt": created_at,
                "name": name,
                "permissions": permissions,
                "revokedAt": revoked_at,
                "tenantId": tenant_id,
                "updatedAt": updated_at,
                "version": version,
                "clientSecret": client_secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = UUID(d.pop("clientId"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        name = d.pop("name")

        permissions = []
        _permissions = d.pop("permissions")
        for permissions_item_data in _permissions:
            permissions_item = Permission(permissions_item_data)

            permissions.append(permissions_item)

        def _parse_revoked_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                revoked_at_type_0 = datetime.datetime.fromisoformat(data)

                return revoked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        revoked_at = _parse_revoked_at(d.pop("revokedAt"))

        tenant_id = UUID(d.pop("tenantId"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        version = d.pop("version")

        client_secret = d.pop("clientSecret")

        api_client_created = cls(
            client_id=client_id,
            created_at=created_at,
            name=name,
            permissions=permissions,
            revoked_at=revoked_at,
            tenant_id=tenant_id,
            updated_at=updated_at,
            version=version,
            client_secret=client_secret,
        )

        api_client_created.additional_properties = d
        return api_client_created

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
