from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="ReceiverTlsOut")


@_attrs_define
class ReceiverTlsOut:
    """Client certificate, key and extra trusted CA for connections to the receiver.

    Attributes:
        ca_certificate (None | str): A CA certificate (PEM, one or more) trusted for this receiver on top of the public
            roots: a `{{secret:NAME}}` reference. Example: {{secret:crm_ca}}.
        client_certificate (None | str): The client certificate (PEM, may hold its chain): a `{{secret:NAME}}`
            reference.
            Given with `clientKey`. Example: {{secret:crm_client_cert}}.
        client_key (None | str): The client certificate's private key (PEM: PKCS#8, RSA or SEC1): a `{{secret:NAME}}`
            reference. Given with `clientCertificate`. Example: {{secret:crm_client_key}}.
    """

    ca_certificate: None | str
    client_certificate: None | str
    client_key: None | str

    def to_dict(self) -> dict[str, Any]:
        ca_certificate: None | str
        ca_certificate = self.ca_certificate

        client_certificate: None | str
        client_certificate = self.client_certificate

        client_key: None | str
        client_key = self.client_key

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "caCertificate": ca_certificate,
                "clientCertificate": client_certificate,
                "clientKey": client_key,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_ca_certificate(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ca_certificate = _parse_ca_certificate(d.pop("caCertificate"))

        def _parse_client_certificate(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        client_certificate = _parse_client_certificate(d.pop("clientCertificate"))

        def _parse_client_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        client_key = _parse_client_key(d.pop("clientKey"))

        receiver_tls_out = cls(
            ca_certificate=ca_certificate,
            client_certificate=client_certificate,
            client_key=client_key,
        )

        return receiver_tls_out
