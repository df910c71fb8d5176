from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.duplicate_batch_event_result_outcome import DuplicateBatchEventResultOutcome

if TYPE_CHECKING:
    from ..models.delivery_ref_out import DeliveryRefOut


T = TypeVar("T", bound="DuplicateBatchEventResult")


@_attrs_define
class DuplicateBatchEventResult:
    """This id was published before (or earlier in this batch); nothing new was made: what a
    200 of `POST /api/v2/events` says.

        Attributes:
            deliveries (list[DeliveryRefOut]): The deliveries made when it was first published.
            event_id (str): The event's id.
            outcome (DuplicateBatchEventResultOutcome):
    """

    deliveries: list[DeliveryRefOut]
    event_id: str
    outcome: DuplicateBatchEventResultOutcome

    def to_dict(self) -> dict[str, Any]:
        deliveries = []
        for deliveries_item_data in self.deliveries:
            deliveries_item = deliveries_item_data.to_dict()
            deliveries.append(deliveries_item)

        event_id = self.event_id

        outcome = self.outcome.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "deliveries": deliveries,
                "eventId": event_id,
                "outcome": outcome,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.delivery_ref_out import DeliveryRefOut  # noqa: PLC0415

        d = dict(src_dict)
        deliveries = []
        _deliveries = d.pop("deliveries")
        for deliveries_item_data in _deliveries:
            deliveries_item = DeliveryRefOut.from_dict(deliveries_item_data)

            deliveries.append(deliveries_item)

        event_id = d.pop("eventId")

        outcome = DuplicateBatchEventResultOutcome(d.pop("outcome"))

        duplicate_batch_event_result = cls(
            deliveries=deliveries,
            event_id=event_id,
            outcome=outcome,
        )

        return duplicate_batch_event_result
