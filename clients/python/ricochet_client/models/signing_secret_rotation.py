from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.key_scheme import KeyScheme
from ..types import UNSET, Unset

T = TypeVar("T", bound="SigningSecretRotation")


@_attrs_define
class SigningSecretRotation:
    """A rotation of the signing secret.

    Attributes:
        grace_period_seconds (int | None | Unset): Seconds the replaced key keeps signing alongside the new one (0 to
            604800; default
            86400), so receivers can switch without rejecting a request.
        key (None | str | Unset): The new key: `whsec_` + standard base64 of 24 to 64 random bytes (`v1`), or `whsk_` +
            standard base64 of an Ed25519 seed, alone or followed by its public key (`v1a`).
            Generated when absent.
        scheme (KeyScheme | None | Unset):
    """

    grace_period_seconds: int | None | Unset = UNSET
    key: None | str | Unset = UNSET
    scheme: KeyScheme | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        grace_period_seconds: int | None | Unset
        if isinstance(self.grace_period_seconds, Unset):
            grace_period_seconds = UNSET
        else:
            grace_period_seconds = self.grace_period_seconds

        key: None | str | Unset
        if isinstance(self.key, Unset):
            key = UNSET
        else:
            key = self.key

        scheme: None | str | Unset
        if isinstance(self.scheme, Unset):
            scheme = UNSET
        elif isinstance(self.scheme, KeyScheme):
            scheme = self.scheme.value
        else:
            scheme = self.scheme

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if grace_period_seconds is not UNSET:
            field_dict["gracePeriodSeconds"] = grace_period_seconds
        if key is not UNSET:
            field_dict["key"] = key
        if scheme is not UNSET:
            field_dict["scheme"] = scheme

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_grace_period_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        grace_period_seconds = _parse_grace_period_seconds(d.pop("gracePeriodSeconds", UNSET))

        def _parse_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        key = _parse_key(d.pop("key", UNSET))

        def _parse_scheme(data: object) -> KeyScheme | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scheme_type_0 = KeyScheme(data)

                return scheme_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(KeyScheme | None | Unset, data)

        scheme = _parse_scheme(d.pop("scheme", UNSET))

        signing_secret_rotation = cls(
            grace_period_seconds=grace_period_seconds,
            key=key,
            scheme=scheme,
        )

        return signing_secret_rotation
