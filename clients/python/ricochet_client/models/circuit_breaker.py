from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CircuitBreaker")


@_attrs_define
class CircuitBreaker:
    """The circuit breaker of an integration: after `failureThreshold` consecutive failed attempts
    no attempt starts for `coolDown` (doubling on each re-open, up to `maxCoolDown`), then one
    probe runs; its success closes the circuit. Deliveries waiting meanwhile keep their retries.

        Attributes:
            cool_down (int | Unset): The first cool-down, in milliseconds. 10 to 3600000. Example: 30000.
            failure_threshold (int | Unset): Consecutive failed attempts that open the circuit. 1 to 10000. Example: 10.
            max_cool_down (int | Unset): The longest cool-down, in milliseconds (at least `coolDown`). Up to 86400000.
                Example: 600000.
    """

    cool_down: int | Unset = UNSET
    failure_threshold: int | Unset = UNSET
    max_cool_down: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        cool_down = self.cool_down

        failure_threshold = self.failure_threshold

        max_cool_down = self.max_cool_down

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if cool_down is not UNSET:
            field_dict["coolDown"] = cool_down
        if failure_threshold is not UNSET:
            field_dict["failureThreshold"] = failure_threshold
        if max_cool_down is not UNSET:
            field_dict["maxCoolDown"] = max_cool_down

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cool_down = d.pop("coolDown", UNSET)

        failure_threshold = d.pop("failureThreshold", UNSET)

        max_cool_down = d.pop("maxCoolDown", UNSET)

        circuit_breaker = cls(
            cool_down=cool_down,
            failure_threshold=failure_threshold,
            max_cool_down=max_cool_down,
        )

        return circuit_breaker
