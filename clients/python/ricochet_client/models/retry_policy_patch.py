from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.jitter_mode import JitterMode
from ..models.retry_policy_type import RetryPolicyType
from ..types import UNSET, Unset

T = TypeVar("T", bound="RetryPolicyPatch")


@_attrs_define
class RetryPolicyPatch:
    """A JSON merge patch (RFC 7386) of RetryPolicy: fields present replace, `null` resets a field to its default, fields
    left out stay.

        Attributes:
            jitter (bool | None | Unset): Spread each delay randomly so failed deliveries do not retry in lockstep.
            jitter_mode (JitterMode | None | Unset): Shape of the jitter.
            jitter_ratio (float | None | Unset): Width of `ratio` jitter as a fraction of the delay. 0.0 to 1.0. Example:
                0.2.
            max_delay (int | None | Unset): Cap on any one delay, in milliseconds; at least `retryDelay`. Example: 3600000.
            max_retries (int | None | Unset): Retries after the first attempt: 5 means up to 6 attempts. 0 to 50. Example:
                5.
            max_retry_after (int | None | Unset): Longest `Retry-After` honoured, in milliseconds. 0 to 86400000 (1 day).
                Example: 3600000.
            multiplier (float | None | Unset): Growth factor of `exponential`. 1.0 to 10.0. Example: 2.0.
            respect_retry_after (bool | None | Unset): Whether a `Retry-After` on 429 or 503 is honoured.
            retry_delay (int | None | Unset): Base delay in milliseconds. 0 to 604800000 (7 days). Example: 1000.
            retry_on_status (list[int] | None | Unset): Extra status codes that retry (by default only 408, 429 and 5xx do).
                Example: [409].
            retry_on_timeout (bool | None | Unset): Whether a request that times out is retried.
            retry_policy_type (None | RetryPolicyType | Unset): Growth of the delay between retries.
    """

    jitter: bool | None | Unset = UNSET
    jitter_mode: JitterMode | None | Unset = UNSET
    jitter_ratio: float | None | Unset = UNSET
    max_delay: int | None | Unset = UNSET
    max_retries: int | None | Unset = UNSET
    max_retry_after: int | None | Unset = UNSET
    multiplier: float | None | Unset = UNSET
    respect_retry_after: bool | None | Unset = UNSET
    retry_delay: int | None | Unset = UNSET
    retry_on_status: list[int] | None | Unset = UNSET
    retry_on_timeout: bool | None | Unset = UNSET
    retry_policy_type: None | RetryPolicyType | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        jitter: bool | None | Unset
        if isinstance(self.jitter, Unset):
            jitter = UNSET
        else:
            jitter = self.jitter

        jitter_mode: None | str | Unset
        if isinstance(self.jitter_mode, Unset):
            jitter_mode = UNSET
        elif isinstance(self.jitter_mode, JitterMode):
            jitter_mode = self.jitter_mode.value
        else:
            jitter_mode = self.jitter_mode

        jitter_ratio: float | None | Unset
        if isinstance(self.jitter_ratio, Unset):
            jitter_ratio = UNSET
        else:
            jitter_ratio = self.jitter_ratio

        max_delay: int | None | Unset
        if isinstance(self.max_delay, Unset):
            max_delay = UNSET
        else:
            max_delay = self.max_delay

        max_retries: int | None | Unset
        if isinstance(self.max_retries, Unset):
            max_retries = UNSET
        else:
            max_retries = self.max_retries

        max_retry_after: int | None | Unset
        if isinstance(self.max_retry_after, Unset):
            max_retry_after = UNSET
        else:
            max_retry_after = self.max_retry_after

        multiplier: float | None | Unset
        if isinstance(self.multiplier, Unset):
            multiplier = UNSET
        else:
            multiplier = self.multiplier

        respect_retry_after: bool | None | Unset
        if isinstance(self.respect_retry_after, Unset):
            respect_retry_after = UNSET
        else:
            respect_retry_after = self.respect_retry_after

        retry_delay: int | None | Unset
        if isinstance(self.retry_delay, Unset):
            retry_delay = UNSET
        else:
            retry_delay = self.retry_delay

        retry_on_status: list[int] | None | Unset
        if isinstance(self.retry_on_status, Unset):
            retry_on_status = UNSET
        elif isinstance(self.retry_on_status, list):
            retry_on_status = self.retry_on_status

        else:
            retry_on_status = self.retry_on_status

        retry_on_timeout: bool | None | Unset
        if isinstance(self.retry_on_timeout, Unset):
            retry_on_timeout = UNSET
        else:
            retry_on_timeout = self.retry_on_timeout

        retry_policy_type: None | str | Unset
        if isinstance(self.retry_policy_type, Unset):
            retry_policy_type = UNSET
        elif isinstance(self.retry_policy_type, RetryPolicyType):
            retry_policy_type = self.retry_policy_type.value
        else:
            retry_policy_type = self.retry_policy_type

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if jitter is not UNSET:
            field_dict["jitter"] = jitter
        if jitter_mode is not UNSET:
            field_dict["jitterMode"] = jitter_mode
        if jitter_ratio is not UNSET:
            field_dict["jitterRatio"] = jitter_ratio
        if max_delay is not UNSET:
            field_dict["maxDelay"] = max_delay
        if max_retries is not UNSET:
            field_dict["maxRetries"] = max_retries
        if max_retry_after is not UNSET:
            field_dict["maxRetryAfter"] = max_retry_after
        if multiplier is not UNSET:
            field_dict["multiplier"] = multiplier
        if respect_retry_after is not UNSET:
            field_dict["respectRetryAfter"] = respect_retry_after
        if retry_delay is not UNSET:
            field_dict["retryDelay"] = retry_delay
        if retry_on_status is not UNSET:
            field_dict["retryOnStatus"] = retry_on_status
        if retry_on_timeout is not UNSET:
            field_dict["retryOnTimeout"] = retry_on_timeout
        if retry_policy_type is not UNSET:
            field_dict["retryPolicyType"] = retry_policy_type

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_jitter(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        jitter = _parse_jitter(d.pop("jitter", UNSET))

        def _parse_jitter_mode(data: object) -> JitterMode | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                jitter_mode_type_1 = JitterMode(data)

                return jitter_mode_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JitterMode | None | Unset, data)

        jitter_mode = _parse_jitter_mode(d.pop("jitterMode", UNSET))

        def _parse_jitter_ratio(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        jitter_ratio = _parse_jitter_ratio(d.pop("jitterRatio", UNSET))

        def _parse_max_delay(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_delay = _parse_max_delay(d.pop("maxDelay", UNSET))

        def _parse_max_retries(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_retries = _parse_max_retries(d.pop("maxRetries", UNSET))

        def _parse_max_retry_after(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_retry_after = _parse_max_retry_after(d.pop("maxRetryAfter", UNSET))

        def _parse_multiplier(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        multiplier = _parse_multiplier(d.pop("multiplier", UNSET))

        def _parse_respect_retry_after(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        respect_retry_after = _parse_respect_retry_after(d.pop("respectRetryAfter", UNSET))

        def _parse_retry_delay(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        retry_delay = _parse_retry_delay(d.pop("retryDelay", UNSET))

        def _parse_retry_on_status(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                retry_on_status_type_0 = cast(list[int], data)

                return retry_on_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        retry_on_status = _parse_retry_on_status(d.pop("retryOnStatus", UNSET))

        def _parse_retry_on_timeout(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        retry_on_timeout = _parse_retry_on_timeout(d.pop("retryOnTimeout", UNSET))

        def _parse_retry_policy_type(data: object) -> None | RetryPolicyType | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                retry_policy_type_type_1 = RetryPolicyType(data)

                return retry_policy_type_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RetryPolicyType | Unset, data)

        retry_policy_type = _parse_retry_policy_type(d.pop("retryPolicyType", UNSET))

        retry_policy_patch = cls(
            jitter=jitter,
            jitter_mode=jitter_mode,
            jitter_ratio=jitter_ratio,
            max_delay=max_delay,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            multiplier=multiplier,
            respect_retry_after=respect_retry_after,
            retry_delay=retry_delay,
            retry_on_status=retry_on_status,
            retry_on_timeout=retry_on_timeout,
            retry_policy_type=retry_policy_type,
        )

        return retry_policy_patch
