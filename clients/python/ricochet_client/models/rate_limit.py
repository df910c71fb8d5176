from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.rate_period import RatePeriod

T = TypeVar("T", bound="RateLimit")


@_attrs_define
class RateLimit:
    """A rate limit: at most `requests` attempts started per `per`.

    Attributes:
        per (RatePeriod): The period of a rate limit.
        requests (int): Attempts started per period. 1 to 100000. Example: 100.
    """

    per: RatePeriod
    requests: int

    def to_dict(self) -> dict[str, Any]:
        per = self.per.value

        requests = self.requests

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "per": per,
                "requests": requests,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        per = RatePeriod(d.pop("per"))

        requests = d.pop("requests")

        rate_limit = cls(
            per=per,
            requests=requests,
        )

        return rate_limit
