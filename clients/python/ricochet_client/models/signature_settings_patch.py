from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.signature_scheme import SignatureScheme
from ..types import UNSET, Unset

T = TypeVar("T", bound="SignatureSettingsPatch")


@_attrs_define
class SignatureSettingsPatch:
    """A JSON merge patch (RFC 7386) of SignatureSettings: fields present replace, `null` resets a field to its default,
    fields left out stay.

        Attributes:
            scheme (None | SignatureScheme | Unset): `v1` (HMAC, the default), `v1a` (Ed25519) or `both`.
    """

    scheme: None | SignatureScheme | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        scheme: None | str | Unset
        if isinstance(self.scheme, Unset):
            scheme = UNSET
        elif isinstance(self.scheme, SignatureScheme):
            scheme = self.scheme.value
        else:
            scheme = self.scheme

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if scheme is not UNSET:
            field_dict["scheme"] = scheme

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_scheme(data: object) -> None | SignatureScheme | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scheme_type_1 = SignatureScheme(data)

                return scheme_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SignatureScheme | Unset, data)

        scheme = _parse_scheme(d.pop("scheme", UNSET))

        signature_settings_patch = cls(
            scheme=scheme,
        )

        return signature_settings_patch
