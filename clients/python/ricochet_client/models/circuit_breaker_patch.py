from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CircuitBreakerPatch")


@_attrs_define
class CircuitBreakerPatch:
    """A JSON merge patch (RFC 7386) of CircuitBreaker: fields present replace, `null` resets a field to its default,
    fields left out stay.

        Attributes:
            cool_down (int | None | Unset): The first cool-down, in milliseconds. 10 to 3600000. Example: 30000.
            failure_threshold (int | None | Unset): Consecutive failed attempts that open the circuit. 1 to 10000. Example:
                10.
            max_cool_down (int | None | Unset): The longest cool-down, in milliseconds (at least `coolDown`). Up to
                86400000. Example: 600000.
    """

    cool_down: int | None | Unset = UNSET
    failure_threshold: int | None | Unset = UNSET
    max_cool_down: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        cool_down: int | None | Unset
        if isinstance(self.cool_down, Unset):
            cool_down = UNSET
        else:
            cool_down = self.cool_down

        failure_threshold: int | None | Unset
        if isinstance(self.failure_threshold, Unset):
            failure_threshold = UNSET
        else:
            failure_threshold = self.failure_threshold

        max_cool_down: int | None | Unset
        if isinstance(self.max_cool_down, Unset):
            max_cool_down = UNSET
        else:
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

        def _parse_cool_down(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        cool_down = _parse_cool_down(d.pop("coolDown", UNSET))

        def _parse_failure_threshold(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        failure_threshold = _parse_failure_threshold(d.pop("failureThreshold", UNSET))

        def _parse_max_cool_down(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_cool_down = _parse_max_cool_down(d.pop("maxCoolDown", UNSET))

        circuit_breaker_patch = cls(
            cool_down=cool_down,
            failure_threshold=failure_threshold,
            max_cool_down=max_cool_down,
        )

        return circuit_breaker_patch
