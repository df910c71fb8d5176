from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="QueueOut")


@_attrs_define
class QueueOut:
    """How much work waits, across every tenant.

    Attributes:
        blocked (int): Deliveries waiting behind an earlier one of their ordering key (`perKey` ordering).
        due (int): Pending deliveries due now.
        in_flight (int): Deliveries a worker holds.
        lag_seconds (float): Age of the oldest due delivery, seconds (0 when none is due).
        paused (int): Deliveries parked while their integration is disabled.
        scheduled (int): Pending deliveries scheduled later (retries, mostly).
    """

    blocked: int
    due: int
    in_flight: int
    lag_seconds: float
    paused: int
    scheduled: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        blocked = self.blocked

        due = self.due

        in_flight = self.in_flight

        lag_seconds = self.lag_seconds

        paused = self.paused

        scheduled = self.scheduled

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "blocked": blocked,
                "due": due,
                "inFlight": in_flight,
                "lagSeconds": lag_seconds,
                "paused": paused,
                "scheduled": scheduled,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        blocked = d.pop("blocked")

        due = d.pop("due")

        in_flight = d.pop("inFlight")

        lag_seconds = d.pop("lagSeconds")

        paused = d.pop("paused")

        scheduled = d.pop("scheduled")

        queue_out = cls(
            blocked=blocked,
            due=due,
            in_flight=in_flight,
            lag_seconds=lag_seconds,
            paused=paused,
            scheduled=scheduled,
        )

        queue_out.additional_properties = d
        return queue_out

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
