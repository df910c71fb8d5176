from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CircuitBreakerOut")


@_attrs_define
class CircuitBreakerOut:
    """The circuit breaker of an integration: after `failureThreshold` consecutive failed attempts
    no attempt starts for `coolDown` (doubling on each re-open, up to `maxCoolDown`), then one
    probe runs; its success closes the circuit. Deliveries waiting meanwhile keep their retries.

        Attributes:
            cool_down (int): The first cool-down, in milliseconds. 10 to 3600000. Example: 30000.
            failure_threshold (int): Consecutive failed attempts that open the circuit. 1 to 10000. Example: 10.
            max_cool_down (int): The longest cool-down, in milliseconds (at least `coolDown`). Up to 86400000. Example:
                600000.
    """

    cool_down: int
    failure_threshold: int
    max_cool_down: int

    def to_dict(self) -> dict[str, Any]:
        cool_down = self.cool_down

        failure_threshold = self.failure_threshold

        max_cool_down = self.max_cool_down

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "coolDown": cool_down,
                "failureThreshold": failure_threshold,
                "maxCoolDown": max_cool_down,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cool_down = d.pop("coolDown")

        failure_threshold = d.pop("failureThreshold")

        max_cool_down = d.pop("maxCoolDown")

        circuit_breaker_out = cls(
            cool_down=cool_down,
            failure_threshold=failure_threshold,
            max_cool_down=max_cool_down,
        )

        return circuit_breaker_out
