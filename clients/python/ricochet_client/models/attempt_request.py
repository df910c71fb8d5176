from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.attempt_request_headers import AttemptRequestHeaders


T = TypeVar("T", bound="AttemptRequest")


@_attrs_define
class AttemptRequest:
    """The request an attempt sent (secrets shown as their templates).

    Attributes:
        headers (AttemptRequestHeaders): Headers, by name.
        method (str): Method.
        url (str): URL.
    """

    headers: AttemptRequestHeaders
    method: str
    url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        headers = self.headers.to_dict()

        method = self.method

        url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "headers": headers,
                "method": method,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.attempt_request_headers import AttemptRequestHeaders  # noqa: PLC0415

        d = dict(src_dict)
        headers = AttemptRequestHeaders.from_dict(d.pop("headers"))

        method = d.pop("method")

        url = d.pop("url")

        attempt_request = cls(
            headers=headers,
            method=method,
            url=url,
        )

        attempt_request.additional_properties = d
        return attempt_request

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
