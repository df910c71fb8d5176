from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ReceiverTls")


@_attrs_define
class ReceiverTls:
    """Client certificate, key and extra trusted CA for connections to the receiver.

    Attributes:
        ca_certificate (None | str | Unset): A CA certificate (PEM, one or more) trusted for this receiver on top of the
            public
            roots: a `{{secret:NAME}}` reference. Example: {{secret:crm_ca}}.
        client_certificate (None | str | Unset): The client certificate (PEM, may hold its chain): a `{{secret:NAME}}`
            reference.
            Given with `clientKey`. Example: {{secret:crm_client_cert}}.
        client_key (None | str | Unset): The client certificate's private key (PEM: PKCS#8, RSA or SEC1): a
            `{{secret:NAME}}`
            reference. Given with `clientCertificate`. Example: {{secret:crm_client_key}}.
    """

    ca_certificate: None | str | Unset = UNSET
    client_certificate: None | str | Unset = UNSET
    client_key: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        ca_certificate: None | str | Unset
        if isinstance(self.ca_certificate, Unset):
            ca_certificate = UNSET
        else:
            ca_certificate = self.ca_certificate

        client_certificate: None | str | Unset
        if isinstance(self.client_certificate, Unset):
            client_certificate = UNSET
        else:
            client_certificate = self.client_certificate

        client_key: None | str | Unset
        if isinstance(self.client_key, Unset):
            client_key = UNSET
        else:
            client_key = self.client_key

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if ca_certificate is not UNSET:
            field_dict["caCertificate"] = ca_certificate
        if client_certificate is not UNSET:
            field_dict["clientCertificate"] = client_certificate
        if client_key is not UNSET:
            field_dict["clientKey"] = client_key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_ca_certificate(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ca_certificate = _parse_ca_certificate(d.pop("caCertificate", UNSET))

        def _parse_client_certificate(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_certificate = _parse_client_certificate(d.pop("clientCertificate", UNSET))

        def _parse_client_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_key = _parse_client_key(d.pop("clientKey", UNSET))

        receiver_tls = cls(
            ca_certificate=ca_certificate,
            client_certificate=client_certificate,
            client_key=client_key,
        )

        return receiver_tls
