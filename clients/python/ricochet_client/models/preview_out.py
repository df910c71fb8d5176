from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.preview_out_headers import PreviewOutHeaders


T = TypeVar("T", bound="PreviewOut")


@_attrs_define
class PreviewOut:
    """The request an attempt would send.

    Attributes:
        body (None | str): The body, if the method sends one.
        headers (PreviewOutHeaders): Every header sent, secrets shown as `{{secret:NAME}}`.
        method (str): Method. Example: POST.
        missing_secrets (list[str]): Referenced secrets that do not exist: an attempt now would be dead-lettered.
        url (str): URL, templates filled in.
    """

    body: None | str
    headers: PreviewOutHeaders
    method: str
    missing_secrets: list[str]
    url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body: None | str
        body = self.body

        headers = self.headers.to_dict()

        method = self.method

        missing_secrets = self.missing_secrets

        url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "body": body,
                "headers": headers,
                "method": method,
                "missingSecrets": missing_secrets,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.preview_out_headers import PreviewOutHeaders  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_body(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        body = _parse_body(d.pop("body"))

        headers = PreviewOutHeaders.from_dict(d.pop("headers"))

        method = d.pop("method")

        missing_secrets = cast(list[str], d.pop("missingSecrets"))

        url = d.pop("url")

        preview_out = cls(
            body=body,
            headers=headers,
            method=method,
            missing_secrets=missing_secrets,
            url=url,
        )

        preview_out.additional_properties = d
        return preview_out

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
