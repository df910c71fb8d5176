from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.signature_scheme import SignatureScheme
from ..types import UNSET, Unset

T = TypeVar("T", bound="SignatureSettings")


@_attrs_define
class SignatureSettings:
    """`settings.signature`: how deliveries are signed.

    Attributes:
        scheme (SignatureScheme | Unset): Which Standard Webhooks signatures an integration's deliveries carry.
    """

    scheme: SignatureScheme | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        scheme: str | Unset = UNSET
        if not isinstance(self.scheme, Unset):
            scheme = self.scheme.value

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if scheme is not UNSET:
            field_dict["scheme"] = scheme

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _scheme = d.pop("scheme", UNSET)
        scheme: SignatureScheme | Unset
        if isinstance(_scheme, Unset):
            scheme = UNSET
        else:
            scheme = SignatureScheme(_scheme)

        signature_settings = cls(
            scheme=scheme,
        )

        return signature_settings
