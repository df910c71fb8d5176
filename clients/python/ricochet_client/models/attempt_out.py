from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.attempt_outcome import AttemptOutcome
from ..models.error_kind import ErrorKind

if TYPE_CHECKING:
    from ..models.attempt_request import AttemptRequest
    from ..models.attempt_response import AttemptResponse


T = TypeVar("T", bound="AttemptOut")


@_attrs_define
class AttemptOut:
    """One attempt of a delivery.

    Attributes:
        attempt_number (int): 1 for the first attempt of the delivery.
        delivery_id (UUID): Its delivery.
        duration_ms (int): How long it took, ms.
        error_kind (ErrorKind | None):
        error_message (None | str): Details of the failure.
        event_id (str): The event it carried.
        id (UUID): Its id.
        integration_id (UUID): An integration: one target endpoint of a tenant.
        next_attempt_at (datetime.datetime | None): When the next attempt was scheduled, if one was.
        outcome (AttemptOutcome): Whether an attempt succeeded.
        request (AttemptRequest): The request an attempt sent (secrets shown as their templates).
        response (AttemptResponse): What the receiver answered.
        retry_after_ms (int | None): A honoured `Retry-After`, ms.
        retry_after_note (None | str): Why a `Retry-After` was not honoured.
        started_at (datetime.datetime): When it started.
        status_code (int | None): The receiver's status code, if it answered.
    """

    attempt_number: int
    delivery_id: UUID
    duration_ms: int
    error_kind: ErrorKind | None
    error_message: None | str
    event_id: str
    id: UUID
    integration_id: UUID
    next_attempt_at: datetime.datetime | None
    outcome: AttemptOutcome
    request: AttemptRequest
    response: AttemptResponse
    retry_after_ms: int | None
    retry_after_note: None | str
    started_at: datetime.datetime
    status_code: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt_number = self.attempt_number

        delivery_id = str(self.delivery_id)

        duration_ms = self.duration_ms

        error_kind: None | str
        if isinstance(self.error_kind, ErrorKind):
            error_kind = self.error_kind.value
        else:
            error_kind = self.error_kind

        error_message: None | str
        error_message = self.error_message

        event_id = self.event_id

        id = str(self.id)

        integration_id = str(self.integration_id)

        next_attempt_at: None | str
        if isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        outcome = self.outcome.value

        request = self.request.to_dict()

        response = self.response.to_dict()

        retry_after_ms: int | None
        retry_after_ms = self.retry_after_ms

        retry_after_note: None | str
        retry_after_note = self.retry_after_note

        started_at = self.started_at.isoformat()

        status_code: int | None
        status_code = self.status_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attemptNumber": attempt_number,
                "deliveryId": delivery_id,
                "durationMs": duration_ms,
                "errorKind": error_kind,
                "errorMessage": error_message,
                "eventId": event_id,
                "id": id,
                "integrationId": integration_id,
                "nextAttemptAt": next_attempt_at,
                "outcome": outcome,
                "request": request,
                "response": response,
                "retryAfterMs": retry_after_ms,
                "retryAfterNote": retry_after_note,
                "startedAt": started_at,
                "statusCode": status_code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.attempt_request import AttemptRequest  # noqa: PLC0415
        from ..models.attempt_response import AttemptResponse  # noqa: PLC0415

        d = dict(src_dict)
        attempt_number = d.pop("attemptNumber")

        delivery_id = UUID(d.pop("deliveryId"))

        duration_ms = d.pop("durationMs")

        def _parse_error_kind(data: object) -> ErrorKind | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                error_kind_type_0 = ErrorKind(data)

                return error_kind_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ErrorKind | None, data)

        error_kind = _parse_error_kind(d.pop("errorKind"))

        def _parse_error_message(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error_message = _parse_error_message(d.pop("errorMessage"))

        event_id = d.pop("eventId")

        id = UUID(d.pop("id"))

        integration_id = UUID(d.pop("integrationId"))

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

        outcome = AttemptOutcome(d.pop("outcome"))

        request = AttemptRequest.from_dict(d.pop("request"))

        response = AttemptResponse.from_dict(d.pop("response"))

        def _parse_retry_after_ms(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        retry_after_ms = _parse_retry_after_ms(d.pop("retryAfterMs"))

        def _parse_retry_after_note(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        retry_after_note = _parse_retry_after_note(d.pop("retryAfterNote"))

        started_at = datetime.datetime.fromisoformat(d.pop("startedAt"))

        def _parse_status_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        status_code = _parse_status_code(d.pop("statusCode"))

        attempt_out = cls(
            attempt_number=attempt_number,
            delivery_id=delivery_id,
            duration_ms=duration_ms,
            error_kind=error_kind,
            error_message=error_message,
            event_id=event_id,
            id=id,
            integration_id=integration_id,
            next_attempt_at=next_attempt_at,
            outcome=outcome,
            request=request,
            response=response,
            retry_after_ms=retry_after_ms,
            retry_after_note=retry_after_note,
            started_at=started_at,
            status_code=status_code,
        )

        attempt_out.additional_properties = d
        return attempt_out

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
