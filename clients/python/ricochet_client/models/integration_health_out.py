from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="IntegrationHealthOut")


@_attrs_define
class IntegrationHealthOut:
    """An integration's health over the last hour (whole minutes of the stats rollups).

    Attributes:
        attempts (int): Attempts in the last hour (whole minutes).
        enabled (bool): Whether it receives new deliveries.
        failed (int): Of which failed.
        integration_id (UUID): The integration.
        last_failure_at (datetime.datetime | None): Last failed attempt in the last hour (whole minutes).
        last_success_at (datetime.datetime | None): Last successful attempt in the last hour (whole minutes).
        name (str): Its name.
        success_rate (float | None): `1 - failed / attempts`; null without attempts.
        tenant_id (UUID): Its tenant.
        tenant_name (str): Its tenant's name.
    """

    attempts: int
    enabled: bool
    failed: int
    integration_id: UUID
    last_failure_at: datetime.datetime | None
    last_success_at: datetime.datetime | None
    name: str
    success_rate: float | None
    tenant_id: UUID
    tenant_name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        enabled = self.enabled

        failed = self.failed

        integration_id = str(self.integration_id)

        last_failure_at: None | str
        if isinstance(self.last_failure_at, datetime.datetime):
            last_failure_at = self.last_failure_at.isoformat()
        else:
            last_failure_at = self.last_failure_at

        last_success_at: None | str
        if isinstance(self.last_success_at, datetime.datetime):
            last_success_at = self.last_success_at.isoformat()
        else:
            last_success_at = self.last_success_at

        name = self.name

        success_rate: float | None
        success_rate = self.success_rate

        tenant_id = str(self.tenant_id)

        tenant_name = self.tenant_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "enabled": enabled,
                "failed": failed,
                "integrationId": integration_id,
                "lastFailureAt": last_failure_at,
                "lastSuccessAt": last_success_at,
                "name": name,
                "successRate": success_rate,
                "tenantId": tenant_id,
                "tenantName": tenant_name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        enabled = d.pop("enabled")

        failed = d.pop("failed")

        integration_id = UUID(d.pop("integrationId"))

        def _parse_last_failure_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_failure_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_failure_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_failure_at = _parse_last_failure_at(d.pop("lastFailureAt"))

        def _parse_last_success_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_success_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_success_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_success_at = _parse_last_success_at(d.pop("lastSuccessAt"))

        name = d.pop("name")

        def _parse_success_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        success_rate = _parse_success_rate(d.pop("successRate"))

        tenant_id = UUID(d.pop("tenantId"))

        tenant_name = d.pop("tenantName")

        integration_health_out = cls(
            attempts=attempts,
            enabled=enabled,
            failed=failed,
            integration_id=integration_id,
            last_failure_at=last_failure_at,
            last_success_at=last_success_at,
            name=name,
            success_rate=success_rate,
            tenant_id=tenant_id,
            tenant_name=tenant_name,
        )

        integration_health_out.additional_properties = d
        return integration_health_out

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
