from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="BucketOut")


@_attrs_define
class BucketOut:
    """One bucket of the time series.

    Attributes:
        attempts (int): Attempts started in it.
        avg_response_ms (float | None): Mean response time of its answered attempts, ms.
        failed (int): Of which failed.
        start (datetime.datetime): Its start.
        succeeded (int): Of which succeeded.
    """

    attempts: int
    avg_response_ms: float | None
    failed: int
    start: datetime.datetime
    succeeded: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        avg_response_ms: float | None
        avg_response_ms = self.avg_response_ms

        failed = self.failed

        start = self.start.isoformat()

        succeeded = self.succeeded

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "avgResponseMs": avg_response_ms,
                "failed": failed,
                "start": start,
                "succeeded": succeeded,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        def _parse_avg_response_ms(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        avg_response_ms = _parse_avg_response_ms(d.pop("avgResponseMs"))

        failed = d.pop("failed")

        start = datetime.datetime.fromisoformat(d.pop("start"))

        succeeded = d.pop("succeeded")

        bucket_out = cls(
            attempts=attempts,
            avg_response_ms=avg_response_ms,
            failed=failed,
            start=start,
            succeeded=succeeded,
        )

        bucket_out.additional_properties = d
        return bucket_out

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
