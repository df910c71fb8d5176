from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.jitter_mode import JitterMode
from ..models.retry_policy_type import RetryPolicyType
from ..types import UNSET, Unset

T = TypeVar("T", bound="RetryPolicy")


@_attrs_define
class RetryPolicy:
    """When and how often a failed delivery is tried again.

    Attributes:
        jitter (bool | Unset): Spread each delay randomly so failed deliveries do not retry in lockstep. Default: True.
        jitter_mode (JitterMode | Unset): How jitter spreads a delay.
        jitter_ratio (float | Unset): Width of `ratio` jitter as a fraction of the delay. 0.0 to 1.0. Default: 0.2.
            Example: 0.2.
        max_delay (int | Unset): Cap on any one delay, in milliseconds; at least `retryDelay`. Default: 3600000.
            Example: 3600000.
        max_retries (int | Unset): Retries after the first attempt: 5 means up to 6 attempts. 0 to 50. Default: 5.
            Example: 5.
        max_retry_after (int | Unset): Longest `Retry-After` honoured, in milliseconds. 0 to 86400000 (1 day). Default:
            3600000. Example: 3600000.
        multiplier (float | Unset): Growth factor of `exponential`. 1.0 to 10.0. Default: 2.0. Example: 2.0.
        respect_retry_after (bool | Unset): Whether a `Retry-After` on 429 or 503 is honoured. Default: True.
        retry_delay (int | Unset): Base delay in milliseconds. 0 to 604800000 (7 days). Default: 1000. Example: 1000.
        retry_on_status (list[int] | Unset): Extra status codes that retry (by default only 408, 429 and 5xx do).
            Example: [409].
        retry_on_timeout (bool | Unset): Whether a request that times out is retried. Default: True.
        retry_policy_type (RetryPolicyType | Unset): How the delay grows from one retry to the next.
    """

    jitter: bool | Unset = True
    jitter_mode: JitterMode | Unset = UNSET
    jitter_ratio: float | Unset = 0.2
    max_delay: int | Unset = 3600000
    max_retries: int | Unset = 5
    max_retry_after: int | Unset = 3600000
    multiplier: float | Unset = 2.0
    respect_retry_after: bool | Unset = True
    retry_delay: int | Unset = 1000
    retry_on_status: list[int] | Unset = UNSET
    retry_on_timeout: bool | Unset = True
    retry_policy_type: RetryPolicyType | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        jitter = self.jitter

        jitter_mode: str | Unset = UNSET
        if not isinstance(self.jitter_mode, Unset):
            jitter_mode = self.jitter_mode.value

        jitter_ratio = self.jitter_ratio

        max_delay = self.max_delay

        max_retries = self.max_retries

        max_retry_after = self.max_retry_after

        multiplier = self.multiplier

        respect_retry_after = self.respect_retry_after

        retry_delay = self.retry_delay

        retry_on_status: list[int] | Unset = UNSET
        if not isinstance(self.retry_on_status, Unset):
            retry_on_status = self.retry_on_status

        retry_on_timeout = self.retry_on_timeout

        retry_policy_type: str | Unset = UNSET
        if not isinstance(self.retry_policy_type, Unset):
            retry_policy_type = self.retry_policy_type.value

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
        jitter = d.pop("jitter", UNSET)

        _jitter_mode = d.pop("jitterMode", UNSET)
        jitter_mode: JitterMode | Unset
        if isinstance(_jitter_mode, Unset):
            jitter_mode = UNSET
        else:
            jitter_mode = JitterMode(_jitter_mode)

        jitter_ratio = d.pop("jitterRatio", UNSET)

        max_delay = d.pop("maxDelay", UNSET)

        max_retries = d.pop("maxRetries", UNSET)

        max_retry_after = d.pop("maxRetryAfter", UNSET)

        multiplier = d.pop("multiplier", UNSET)

        respect_retry_after = d.pop("respectRetryAfter", UNSET)

        retry_delay = d.pop("retryDelay", UNSET)

        retry_on_status = cast(list[int], d.pop("retryOnStatus", UNSET))

        retry_on_timeout = d.pop("retryOnTimeout", UNSET)

        _retry_policy_type = d.pop("retryPolicyType", UNSET)
        retry_policy_type: RetryPolicyType | Unset
        if isinstance(_retry_policy_type, Unset):
            retry_policy_type = UNSET
        else:
            retry_policy_type = RetryPolicyType(_retry_policy_type)

        retry_policy = cls(
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

        return retry_policy
