from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.circuit_state import CircuitState

if TYPE_CHECKING:
    from ..models.integration_pause import IntegrationPause


T = TypeVar("T", bound="IntegrationHealth")


@_attrs_define
class IntegrationHealth:
    """How delivery to an integration is going, as the workers last recorded it.

    Attributes:
        circuit (CircuitState): The state of an integration's circuit breaker.
        consecutive_failures (int): Failed attempts since the last success.
        effective_max_concurrency (int): The in-flight cap in force: `settings.maxConcurrency`, lowered while the
            receiver
            answers 429 without Retry-After, and 1 while the circuit is not closed.
        effective_rate_per_second (float | None): The rate limit in force, in attempts per second: the lower of
            `settings.rateLimit` and
            the rate Ricochet learned from the receiver (a slow start after the circuit closes, half
            the rate the receiver got when 429s without Retry-After repeat, 8% more each second it
            keeps up); null when neither holds.
        failing_since (datetime.datetime | None): Since when every attempt has failed (null while the last one
            succeeded); the
            integration is disabled once this is older than `settings.autoDisableAfter`.
        in_flight (int): Attempts in flight now across every worker, with the slots publishers hold for their
            next deliveries (at most `settings.maxConcurrency`).
        last_failure_at (datetime.datetime | None): When the last failed attempt started.
        last_success_at (datetime.datetime | None): When the last successful attempt started.
        pause (IntegrationPause | None):
    """

    circuit: CircuitState
    consecutive_failures: int
    effective_max_concurrency: int
    effective_rate_per_second: float | None
    failing_since: datetime.datetime | None
    in_flight: int
    last_failure_at: datetime.datetime | None
    last_success_at: datetime.datetime | None
    pause: IntegrationPause | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.integration_pause import IntegrationPause  # noqa: PLC0415

        circuit = self.circuit.value

        consecutive_failures = self.consecutive_failures

        effective_max_concurrency = self.effective_max_concurrency

        effective_rate_per_second: float | None
        effective_rate_per_second = self.effective_rate_per_second

        failing_since: None | str
        if isinstance(self.failing_since, datetime.datetime):
            failing_since = self.failing_since.isoformat()
        else:
            failing_since = self.failing_since

        in_flight = self.in_flight

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

        pause: dict[str, Any] | None
        if isinstance(self.pause, IntegrationPause):
            pause = self.pause.to_dict()
        else:
            pause = self.pause

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "circuit": circuit,
                "consecutiveFailures": consecutive_failures,
                "effectiveMaxConcurrency": effective_max_concurrency,
                "effectiveRatePerSecond": effective_rate_per_second,
                "failingSince": failing_since,
                "inFlight": in_flight,
                "lastFailureAt": last_failure_at,
                "lastSuccessAt": last_success_at,
                "pause": pause,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.integration_pause import IntegrationPause  # noqa: PLC0415

        d = dict(src_dict)
        circuit = CircuitState(d.pop("circuit"))

        consecutive_failures = d.pop("consecutiveFailures")

        effective_max_concurrency = d.pop("effectiveMaxConcurrency")

        def _parse_effective_rate_per_second(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        effective_rate_per_second = _parse_effective_rate_per_second(d.pop("effectiveRatePerSecond"))

        def _parse_failing_since(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                failing_since_type_0 = datetime.datetime.fromisoformat(data)

                return failing_since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        failing_since = _parse_failing_since(d.pop("failingSince"))

        in_flight = d.pop("inFlight")

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

        def _parse_pause(data: object) -> IntegrationPause | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                pause_type_0 = IntegrationPause.from_dict(data)

                return pause_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(IntegrationPause | None, data)

        pause = _parse_pause(d.pop("pause"))

        integration_health = cls(
            circuit=circuit,
            consecutive_failures=consecutive_failures,
            effective_max_concurrency=effective_max_concurrency,
            effective_rate_per_second=effective_rate_per_second,
            failing_since=failing_since,
            in_flight=in_flight,
            last_failure_at=last_failure_at,
            last_success_at=last_success_at,
            pause=pause,
        )

        integration_health.additional_properties = d
        return integration_health

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
