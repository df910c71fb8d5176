from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.integration_health import IntegrationHealth
    from ..models.integration_settings_out import IntegrationSettingsOut


T = TypeVar("T", bound="IntegrationOut")


@_attrs_define
class IntegrationOut:
    """An integration, every default filled in.

    Attributes:
        created_at (datetime.datetime): When it was created.
        enabled (bool): Whether it gets new deliveries.
        health (IntegrationHealth | None):
        id (UUID): An integration: one target endpoint of a tenant.
        name (str): Unique name within the tenant.
        settings (IntegrationSettingsOut): Where and how an integration delivers.
        type_ (str): Integration type.
        updated_at (datetime.datetime): When it last changed.
        version (int): Version, incremented on each change; send it back in `If-Match` to guard a write.
    """

    created_at: datetime.datetime
    enabled: bool
    health: IntegrationHealth | None
    id: UUID
    name: str
    settings: IntegrationSettingsOut
    type_: str
    updated_at: datetime.datetime
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.integration_health import IntegrationHealth  # noqa: PLC0415

        created_at = self.created_at.isoformat()

        enabled = self.enabled

        health: dict[str, Any] | None
        if isinstance(self.health, IntegrationHealth):
            health = self.health.to_dict()
        else:
            health = self.health

        id = str(self.id)

        name = self.name

        settings = self.settings.to_dict()

        type_ = self.type_

        updated_at = self.updated_at.isoformat()

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "enabled": enabled,
                "health": health,
                "id": id,
                "name": name,
                "settings": settings,
                "type": type_,
                "updatedAt": updated_at,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.integration_health import IntegrationHealth  # noqa: PLC0415
        from ..models.integration_settings_out import IntegrationSettingsOut  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        enabled = d.pop("enabled")

        def _parse_health(data: object) -> IntegrationHealth | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                health_type_0 = IntegrationHealth.from_dict(data)

                return health_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(IntegrationHealth | None, data)

        health = _parse_health(d.pop("health"))

        id = UUID(d.pop("id"))

        name = d.pop("name")

        settings = IntegrationSettingsOut.from_dict(d.pop("settings"))

        type_ = d.pop("type")

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        version = d.pop("version")

        integration_out = cls(
            created_at=created_at,
            enabled=enabled,
            health=health,
            id=id,
            name=name,
            settings=settings,
            type_=type_,
            updated_at=updated_at,
            version=version,
        )

        integration_out.additional_properties = d
        return integration_out

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
