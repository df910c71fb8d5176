from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.integration_health_out import IntegrationHealthOut
    from ..models.queue_out import QueueOut
    from ..models.tenant_summary_out import TenantSummaryOut


T = TypeVar("T", bound="OverviewOut")


@_attrs_define
class OverviewOut:
    """The overview across tenants.

    Attributes:
        failing_integrations (list[IntegrationHealthOut]): Integrations whose last attempt in the last hour (whole
            minutes) failed, most failures first.
        queue (QueueOut): How much work waits, across every tenant.
        tenants (list[TenantSummaryOut]): Every tenant (up to 1000, by name) with its counts.
    """

    failing_integrations: list[IntegrationHealthOut]
    queue: QueueOut
    tenants: list[TenantSummaryOut]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        failing_integrations = []
        for failing_integrations_item_data in self.failing_integrations:
            failing_integrations_item = failing_integrations_item_data.to_dict()
            failing_integrations.append(failing_integrations_item)

        queue = self.queue.to_dict()

        tenants = []
        for tenants_item_data in self.tenants:
            tenants_item = tenants_item_data.to_dict()
            tenants.append(tenants_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "failingIntegrations": failing_integrations,
                "queue": queue,
                "tenants": tenants,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.integration_health_out import IntegrationHealthOut  # noqa: PLC0415
        from ..models.queue_out import QueueOut  # noqa: PLC0415
        from ..models.tenant_summary_out import TenantSummaryOut  # noqa: PLC0415

        d = dict(src_dict)
        failing_integrations = []
        _failing_integrations = d.pop("failingIntegrations")
        for failing_integrations_item_data in _failing_integrations:
            failing_integrations_item = IntegrationHealthOut.from_dict(failing_integrations_item_data)

            failing_integrations.append(failing_integrations_item)

        queue = QueueOut.from_dict(d.pop("queue"))

        tenants = []
        _tenants = d.pop("tenants")
        for tenants_item_data in _tenants:
            tenants_item = TenantSummaryOut.from_dict(tenants_item_data)

            tenants.append(tenants_item)

        overview_out = cls(
            failing_integrations=failing_integrations,
            queue=queue,
            tenants=tenants,
        )

        overview_out.additional_properties = d
        return overview_out

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
