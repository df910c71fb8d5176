from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.jitter_mode import JitterMode
from ..models.retry_policy_type import RetryPolicyType

T = TypeVar("T", bound="RetryPolicyOut")


@_attrs_define
class RetryPolicyOut:
    """When and how often a failed delivery is tried again.

    Attributes:
        jitter (bool): Spread each delay randomly so failed deliveries do not retry in lockstep. Default: True.
        jitter_mode (JitterMode): How jitter spreads a delay.
        jitter_ratio (float): Width of `ratio` jitter as a fraction of the delay. 0.0 to 1.0. Default: 0.2. Example:
            0.2.
        max_delay (int): Cap on any one delay, in milliseconds; at least `retryDelay`. Default: 3600000. Example:
            3600000.
        max_retries (int): Retries after the first attempt: 5 means up to 6 attempts. 0 to 50. Default: 5. Example: 5.
        max_retry_after (int): Longest `Retry-After` honoured, in milliseconds. 0 to 86400000 (1 day). Default: 3600000.
            Example: 3600000.
        multiplier (float): Growth factor of `exponential`. 1.0 to 10.0. Default: 2.0. Example: 2.0.
        respect_retry_after (bool): Whether a `Retry-After` on 429 or 503 is honoured. Default: True.
        retry_delay (int): Base delay in milliseconds. 0 to 604800000 (7 days). Default: 1000. Example: 1000.
        retry_on_status (list[int]): Extra status codes that retry (by default only 408, 429 and 5xx do). Example:
            [409].
        retry_on_timeout (bool): Whether a request that times out is retried. Default: True.
        retry_policy_type (RetryPolicyType): How the delay grows from one retry to the next.
    """

    jitter_mode: JitterMode
    retry_on_status: list[int]
    retry_policy_type: RetryPolicyType
    jitter: bool = True
    jitter_ratio: float = 0.2
    max_delay: int = 3600000
    max_retries: int = 5
    max_retry_after: int = 3600000
    multiplier: float = 2.0
    respect_retry_after: bool = True
    retry_delay: int = 1000
    retry_on_timeout: bool = True

    def to_dict(self) -> dict[str, Any]:
        jitter = self.jitter

        jitter_mode = self.jitter_mode.value

        jitter_ratio = self.jitter_ratio

        max_delay = self.max_delay

        max_retries = self.max_retries

        max_retry_after = self.max_retry_after

        multiplier = self.multiplier

        respect_retry_after = self.respect_retry_after

        retry_delay = self.retry_delay

        retry_on_status = self.retry_on_status

        retry_on_timeout = self.retry_on_timeout

        retry_policy_type = self.retry_policy_type.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "jitter": jitter,
                "jitterMode": jitter_mode,
                "jitterRatio": jitter_ratio,
                "maxDelay": max_delay,
                "maxRetries": max_retries,
                "maxRetryAfter": max_retry_after,
                "multiplier": multiplier,
                "respectRetryAfter": respect_retry_after,
                "retryDelay": retry_delay,
                "retryOnStatus": retry_on_status,
                "retryOnTimeout": retry_on_timeout,
                "retryPolicyType": retry_policy_type,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        jitter = d.pop("jitter")

        jitter_mode = JitterMode(d.pop("jitterMode"))

        jitter_ratio = d.pop("jitterRatio")

        max_delay = d.pop("maxDelay")

        max_retries = d.pop("maxRetries")

        max_retry_after = d.pop("maxRetryAfter")

        multiplier = d.pop("multiplier")

        respect_retry_after = d.pop("respectRetryAfter")

        retry_delay = d.pop("retryDelay")

        retry_on_status = cast(list[int], d.pop("retryOnStatus"))

        retry_on_timeout = d.pop("retryOnTimeout")

        retry_policy_type = RetryPolicyType(d.pop("retryPolicyType"))

        retry_policy_out = cls(
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

        return retry_policy_out
