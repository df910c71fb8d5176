from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.integration_settings import IntegrationSettings


T = TypeVar("T", bound="IntegrationIn")


@_attrs_define
class IntegrationIn:
    """An integration as a client creates or replaces it.

    Attributes:
        name (str): Unique name within the tenant. Example: CRM-Sync-Webhook-Resilient.
        settings (IntegrationSettings): Where and how an integration delivers.
        enabled (bool | Unset): A disabled integration gets no new deliveries.
        type_ (str | Unset): Integration type; only `webhook` exists. Example: webhook.
    """

    name: str
    settings: IntegrationSettings
    enabled: bool | Unset = UNSET
    type_: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        settings = self.settings.to_dict()

        enabled = self.enabled

        type_ = self.type_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "settings": settings,
            }
        )
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if type_ is not UNSET:
            field_dict["type"] = type_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.integration_settings import IntegrationSettings  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        settings = IntegrationSettings.from_dict(d.pop("settings"))

        enabled = d.pop("enabled", UNSET)

        type_ = d.pop("type", UNSET)

        integration_in = cls(
            name=name,
            settings=settings,
            enabled=enabled,
            type_=type_,
        )

        return integration_in
