from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="DeadLetterOut")


@_attrs_define
class DeadLetterOut:
    """A dead-lettered delivery.

    Attributes:
        attempt_count (int): Attempts made, over every replay.
        created_at (datetime.datetime): When the delivery was made.
        dead_lettered_at (datetime.datetime | None): When it was dead-lettered.
        delivery_id (UUID): The delivery (see `GET /api/v2/deliveries/{deliveryId}` for its attempts).
        event_id (str): Its event.
        integration_id (UUID): An integration: one target endpoint of a tenant.
        last_status_code (int | None): The status code of the last attempt, if the receiver answered.
        ordering_key (None | str): Its event's ordering key, if any. Replaying a keyed delivery of an integration with
            `settings.ordering: perKey` puts it back in line: it goes next, once the delivery of
            its key under way (if any) is done, before the later ones of its key still waiting.
        reason (None | str): Why no further attempt is made: `retries_exhausted`, `non_retryable_status:<code>` (e.g.
            `non_retryable_status:401`), `timeout` (a timeout that does not retry),
            `payload_too_large`, `missing_secret:<name>` (a template names a deleted secret),
            `invalid_header:<name>` (a rendered header value is not a valid header) or
            `template:<detail>`. Example: retries_exhausted.
        replay_count (int): Times it was replayed before.
    """

    attempt_count: int
    created_at: datetime.datetime
    dead_lettered_at: datetime.datetime | None
    delivery_id: UUID
    event_id: str
    integration_id: UUID
    last_status_code: int | None
    ordering_key: None | str
    reason: None | str
    replay_count: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt_count = self.attempt_count

        created_at = self.created_at.isoformat()

        dead_lettered_at: None | str
        if isinstance(self.dead_lettered_at, datetime.datetime):
            dead_lettered_at = self.dead_lettered_at.isoformat()
        else:
            dead_lettered_at = self.dead_lettered_at

        delivery_id = str(self.delivery_id)

        event_id = self.event_id

        integration_id = str(self.integration_id)

        last_status_code: int | None
        last_status_code = self.last_status_code

        ordering_key: None | str
        ordering_key = self.ordering_key

        reason: None | str
        reason = self.reason

        replay_count = self.replay_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attemptCount": attempt_count,
                "createdAt": created_at,
                "deadLetteredAt": dead_lettered_at,
                "deliveryId": delivery_id,
                "eventId": event_id,
                "integrationId": integration_id,
                "lastStatusCode": last_status_code,
                "orderingKey": ordering_key,
                "reason": reason,
                "replayCount": replay_count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempt_count = d.pop("attemptCount")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        def _parse_dead_lettered_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                dead_lettered_at_type_0 = datetime.datetime.fromisoformat(data)

                return dead_lettered_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        dead_lettered_at = _parse_dead_lettered_at(d.pop("deadLetteredAt"))

        delivery_id = UUID(d.pop("deliveryId"))

        event_id = d.pop("eventId")

        integration_id = UUID(d.pop("integrationId"))

        def _parse_last_status_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_status_code = _parse_last_status_code(d.pop("lastStatusCode"))

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

        dead_letter_out = cls(
            attempt_count=attempt_count,
            created_at=created_at,
            dead_lettered_at=dead_lettered_at,
            delivery_id=delivery_id,
            event_id=event_id,
            integration_id=integration_id,
            last_status_code=last_status_code,
            ordering_key=ordering_key,
            reason=reason,
            replay_count=replay_count,
        )

        dead_letter_out.additional_properties = d
        return dead_letter_out

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
