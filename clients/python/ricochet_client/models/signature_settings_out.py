from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.signature_scheme import SignatureScheme

T = TypeVar("T", bound="SignatureSettingsOut")


@_attrs_define
class SignatureSettingsOut:
    """`settings.signature`: how deliveries are signed.

    Attributes:
        scheme (SignatureScheme): Which Standard Webhooks signatures an integration's deliveries carry.
    """

    scheme: SignatureScheme

    def to_dict(self) -> dict[str, Any]:
        scheme = self.scheme.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "scheme": scheme,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        scheme = SignatureScheme(d.pop("scheme"))

        signature_settings_out = cls(
            scheme=scheme,
        )

        return signature_settings_out
