from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.bucket_out import BucketOut
    from ..models.response_times import ResponseTimes
    from ..models.status_count import StatusCount


T = TypeVar("T", bound="StatsOut")


@_attrs_define
class StatsOut:
    """Delivery statistics over a window ending now.

    Attributes:
        attempts (int): Attempts started in the window.
        buckets (list[BucketOut]): The window in buckets of equal width, oldest first, empty ones included.
        by_status_code (list[StatusCount]): Attempts by status code, most frequent first.
        dead_letters (int): Deliveries dead-lettered in the window (and still dead-lettered).
        failed (int): Of which failed.
        from_ (datetime.datetime): Start of the window: its length before `to`, at the start of that minute (`1h`) or
            hour (`24h`, `7d`).
        last_failure_at (datetime.datetime | None): Start of the last failed attempt in the window.
        last_success_at (datetime.datetime | None): Start of the last successful attempt in the window.
        response_time_ms (ResponseTimes): Response times of the attempts a receiver answered, in ms. The mean is exact;
            the
            percentiles are read from a histogram of 4%-wide buckets: at or above the true value, by
            at most 4%.
        succeeded (int): Of which succeeded.
        success_rate (float | None): `succeeded / attempts`, 0 to 1; null without attempts.
        to (datetime.datetime): End of the window (now).
        window (str): `1h`, `24h` or `7d`.
    """

    attempts: int
    buckets: list[BucketOut]
    by_status_code: list[StatusCount]
    dead_letters: int
    failed: int
    from_: datetime.datetime
    last_failure_at: datetime.datetime | None
    last_success_at: datetime.datetime | None
    response_time_ms: ResponseTimes
    succeeded: int
    success_rate: float | None
    to: datetime.datetime
    window: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        buckets = []
        for buckets_item_data in self.buckets:
            buckets_item = buckets_item_data.to_dict()
            buckets.append(buckets_item)

        by_status_code = []
        for by_status_code_item_data in self.by_status_code:
            by_status_code_item = by_status_code_item_data.to_dict()
            by_status_code.append(by_status_code_item)

        dead_letters = self.dead_letters

        failed = self.failed

        from_ = self.from_.isoformat()

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

        response_time_ms = self.response_time_ms.to_dict()

        succeeded = self.succeeded

        success_rate: float | None
        success_rate = self.success_rate

        to = self.to.isoformat()

        window = self.window

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "buckets": buckets,
                "byStatusCode": by_status_code,
                "deadLetters": dead_letters,
                "failed": failed,
                "from": from_,
                "lastFailureAt": last_failure_at,
                "lastSuccessAt": last_success_at,
                "responseTimeMs": response_time_ms,
                "succeeded": succeeded,
                "successRate": success_rate,
                "to": to,
                "window": window,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.bucket_out import BucketOut  # noqa: PLC0415
        from ..models.response_times import ResponseTimes  # noqa: PLC0415
        from ..models.status_count import StatusCount  # noqa: PLC0415

        d = dict(src_dict)
        attempts = d.pop("attempts")

        buckets = []
        _buckets = d.pop("buckets")
        for buckets_item_data in _buckets:
            buckets_item = BucketOut.from_dict(buckets_item_data)

            buckets.append(buckets_item)

        by_status_code = []
        _by_status_code = d.pop("byStatusCode")
        for by_status_code_item_data in _by_status_code:
            by_status_code_item = StatusCount.from_dict(by_status_code_item_data)

            by_status_code.append(by_status_code_item)

        dead_letters = d.pop("deadLetters")

        failed = d.pop("failed")

        from_ = datetime.datetime.fromisoformat(d.pop("from"))

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

        response_time_ms = ResponseTimes.from_dict(d.pop("responseTimeMs"))

        succeeded = d.pop("succeeded")

        def _parse_success_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        success_rate = _parse_success_rate(d.pop("successRate"))

        to = datetime.datetime.fromisoformat(d.pop("to"))

        window = d.pop("window")

        stats_out = cls(
            attempts=attempts,
            buckets=buckets,
            by_status_code=by_status_code,
            dead_letters=dead_letters,
            failed=failed,
            from_=from_,
            last_failure_at=last_failure_at,
            last_success_at=last_success_at,
            response_time_ms=response_time_ms,
            succeeded=succeeded,
            success_rate=success_rate,
            to=to,
            window=window,
        )

        stats_out.additional_properties = d
        return stats_out

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
