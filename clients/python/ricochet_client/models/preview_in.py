from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.event_in import EventIn
    from ..models.integration_in import IntegrationIn


T = TypeVar("T", bound="PreviewIn")


@_attrs_define
class PreviewIn:
    """An integration not saved yet and an event to preview it with.

    Attributes:
        event (EventIn): An event as a client publishes it.
        integration (IntegrationIn): An integration as a client creates or replaces it.
    """

    event: EventIn
    integration: IntegrationIn

    def to_dict(self) -> dict[str, Any]:
        event = self.event.to_dict()

        integration = self.integration.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "event": event,
                "integration": integration,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_in import EventIn  # noqa: PLC0415
        from ..models.integration_in import IntegrationIn  # noqa: PLC0415

        d = dict(src_dict)
        event = EventIn.from_dict(d.pop("event"))

        integration = IntegrationIn.from_dict(d.pop("integration"))

        preview_in = cls(
            event=event,
            integration=integration,
        )

        return preview_in
