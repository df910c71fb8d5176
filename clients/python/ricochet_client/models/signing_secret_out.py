from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.signature_scheme import SignatureScheme

T = TypeVar("T", bound="SigningSecretOut")


@_attrs_define
class SigningSecretOut:
    """An integration's current signing secret, and its public key when it signs with `v1a`.

    Attributes:
        created_at (datetime.datetime): When the current key was made (the newest, if both kinds sign).
        key (str): `whsec_` + base64 of the `v1` (HMAC) key: what a receiver gives its Standard Webhooks
            library. It signs when `settings.signature.scheme` is `v1` (the default) or `both`. Example:
            whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw.
        previous_key_retires_at (datetime.datetime | None): After a rotation, when the replaced key stops signing.
        public_key (None | str): `whpk_` + base64 of the current `v1a` (Ed25519) public key, when the scheme is `v1a` or
            `both`: receivers verify `v1a` entries with it and hold no secret. The private key is
            never shown. Example: whpk_3ZPa8n1/1kjTNOzEq1vjyYtcF2x2D0lx0GNgVjfwIpM=.
        scheme (SignatureScheme): Which Standard Webhooks signatures an integration's deliveries carry.
    """

    created_at: datetime.datetime
    key: str
    previous_key_retires_at: datetime.datetime | None
    public_key: None | str
    scheme: SignatureScheme
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        key = self.key

        previous_key_retires_at: None | str
        if isinstance(self.previous_key_retires_at, datetime.datetime):
            previous_key_retires_at = self.previous_key_retires_at.isoformat()
        else:
            previous_key_retires_at = self.previous_key_retires_at

        public_key: None | str
        public_key = self.public_key

        scheme = self.scheme.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "key": key,
                "previousKeyRetiresAt": previous_key_retires_at,
                "publicKey": public_key,
                "scheme": scheme,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        key = d.pop("key")

        def _parse_previous_key_retires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                previous_key_retires_at_type_0 = datetime.datetime.fromisoformat(data)

                return previous_key_retires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        previous_key_retires_at = _parse_previous_key_retires_at(d.pop("previousKeyRetiresAt"))

        def _parse_public_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        public_key = _parse_public_key(d.pop("publicKey"))

        scheme = SignatureScheme(d.pop("scheme"))

        signing_secret_out = cls(
            created_at=created_at,
            key=key,
            previous_key_retires_at=previous_key_retires_at,
            public_key=public_key,
            scheme=scheme,
        )

        signing_secret_out.additional_properties = d
        return signing_secret_out

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
