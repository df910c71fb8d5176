from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.integration_settings_patch import IntegrationSettingsPatch


T = TypeVar("T", bound="IntegrationPatch")


@_attrs_define
class IntegrationPatch:
    """A JSON merge patch (RFC 7386) of IntegrationIn: fields present replace, `null` resets a field to its default, fields
    left out stay.

        Attributes:
            enabled (bool | None | Unset): A disabled integration gets no new deliveries.
            name (None | str | Unset): Unique name within the tenant. Example: CRM-Sync-Webhook-Resilient.
            settings (IntegrationSettingsPatch | None | Unset): Where and how to deliver.
            type_ (None | str | Unset): Integration type; only `webhook` exists. Example: webhook.
    """

    enabled: bool | None | Unset = UNSET
    name: None | str | Unset = UNSET
    settings: IntegrationSettingsPatch | None | Unset = UNSET
    type_: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.integration_settings_patch import IntegrationSettingsPatch  # noqa: PLC0415

        enabled: bool | None | Unset
        if isinstance(self.enabled, Unset):
            enabled = UNSET
        else:
            enabled = self.enabled

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        settings: dict[str, Any] | None | Unset
        if isinstance(self.settings, Unset):
            settings = UNSET
        elif isinstance(self.settings, IntegrationSettingsPatch):
            settings = self.settings.to_dict()
        else:
            settings = self.settings

        type_: None | str | Unset
        if isinstance(self.type_, Unset):
            type_ = UNSET
        else:
            type_ = self.type_

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if name is not UNSET:
            field_dict["name"] = name
        if settings is not UNSET:
            field_dict["settings"] = settings
        if type_ is not UNSET:
            field_dict["type"] = type_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.integration_settings_patch import IntegrationSettingsPatch  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_enabled(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        enabled = _parse_enabled(d.pop("enabled", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_settings(data: object) -> IntegrationSettingsPatch | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                settings_type_1 = IntegrationSettingsPatch.from_dict(data)

                return settings_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(IntegrationSettingsPatch | None | Unset, data)

        settings = _parse_settings(d.pop("settings", UNSET))

        def _parse_type_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        type_ = _parse_type_(d.pop("type", UNSET))

        integration_patch = cls(
            enabled=enabled,
            name=name,
            settings=settings,
            type_=type_,
        )

        return integration_patch
