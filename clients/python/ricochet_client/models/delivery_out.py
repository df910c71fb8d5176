from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_status import DeliveryStatus

if TYPE_CHECKING:
    from ..models.attempt_out import AttemptOut


T = TypeVar("T", bound="DeliveryOut")


@_attrs_define
class DeliveryOut:
    """A delivery with every attempt.

    Attributes:
        attempt_count (int): Attempts made.
        attempts (list[AttemptOut]): Its attempts, first to last.
        completed_at (datetime.datetime | None): When it succeeded or was dead-lettered.
        created_at (datetime.datetime): When it was made.
        event_id (str): Its event.
        id (UUID): Its id.
        integration_id (UUID): An integration: one target endpoint of a tenant.
        last_status_code (int | None): The last status code a receiver answered.
        next_attempt_at (datetime.datetime | None): When the next attempt is due, while one is.
        ordering_key (None | str): Its event's ordering key, if any.
        reason (None | str): Why it was dead-lettered: `retries_exhausted`, `non_retryable_status:<code>` (e.g.
            `non_retryable_status:401`), `timeout` (a timeout that does not retry),
            `payload_too_large`, `missing_secret:<name>` (a template names a deleted secret),
            `invalid_header:<name>` (a rendered header value is not a valid header) or
            `template:<detail>`.
        replay_count (int): Times it was replayed from the dead-letter queue.
        status (DeliveryStatus): Where a delivery stands.
        updated_at (datetime.datetime): When it last changed.
    """

    attempt_count: int
    attempts: list[AttemptOut]
    completed_at: datetime.datetime | None
    created_at: datetime.datetime
    event_id: str
    id: UUID
    integration_id: UUID
    last_status_code: int | None
    next_attempt_at: datetime.datetime | None
    ordering_key: None | str
    reason: None | str
    replay_count: int
    status: DeliveryStatus
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt_count = self.attempt_count

        attempts = []
        for attempts_item_data in self.attempts:
            attempts_item = attempts_item_data.to_dict()
            attempts.append(attempts_item)

        completed_at: None | str
        if isinstance(self.completed_at, datetime.datetime):
            completed_at = self.completed_at.isoformat()
        else:
            completed_at = self.completed_at

        created_at = self.created_at.isoformat()

        event_id = self.event_id

        id = str(self.id)

        integration_id = str(self.integration_id)

        last_status_code: int | None
        last_status_code = self.last_status_code

        next_attempt_at: None | str
        if isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        ordering_key: None | str
        ordering_key = self.ordering_key

        reason: None | str
        reason = self.reason

        replay_count = self.replay_count

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attemptCount": attempt_count,
                "attempts": attempts,
                "completedAt": completed_at,
                "createdAt": created_at,
                "eventId": event_id,
                "id": id,
                "integrationId": integration_id,
                "lastStatusCode": last_status_code,
                "nextAttemptAt": next_attempt_at,
                "orderingKey": ordering_key,
                "reason": reason,
                "replayCount": replay_count,
                "status": status,
                "updatedAt": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.attempt_out import AttemptOut  # noqa: PLC0415

        d = dict(src_dict)
        attempt_count = d.pop("attemptCount")

        attempts = []
        _attempts = d.pop("attempts")
        for attempts_item_data in _attempts:
            attempts_item = AttemptOut.from_dict(attempts_item_data)

            attempts.append(attempts_item)

        def _parse_completed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                completed_at_type_0 = datetime.datetime.fromisoformat(data)

                return completed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        completed_at = _parse_completed_at(d.pop("completedAt"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        event_id = d.pop("eventId")

        id = UUID(d.pop("id"))

        integration_id = UUID(d.pop("integrationId"))

        def _parse_last_status_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_status_code = _parse_last_status_code(d.pop("lastStatusCode"))

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("nextAttemptAt"))

        def _parse_ordering_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ordering_key = _parse_ordering_key(d.pop("orderingKey"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        replay_count = d.pop("replayCount")

        status = DeliveryStatus(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        delivery_out = cls(
            attempt_count=attempt_count,
            attempts=attempts,
            completed_at=completed_at,
            created_at=created_at,
            event_id=event_id,
            id=id,
            integration_id=integration_id,
            last_status_code=last_status_code,
            next_attempt_at=next_attempt_at,
            ordering_key=ordering_key,
            reason=reason,
            replay_count=replay_count,
            status=status,
            updated_at=updated_at,
        )

        delivery_out.additional_properties = d
        return delivery_out

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
