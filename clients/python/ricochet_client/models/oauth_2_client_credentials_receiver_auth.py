from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.oauth_2_client_credentials_receiver_auth_type import Oauth2ClientCredentialsReceiverAuthType
from ..types import UNSET, Unset

T = TypeVar("T", bound="Oauth2ClientCredentialsReceiverAuth")


@_attrs_define
class Oauth2ClientCredentialsReceiverAuth:
    """`Authorization: Bearer` with an access token from an OAuth 2.0 token endpoint (client
    credentials grant, client authenticated with HTTP Basic). The token is cached until
    shortly before it expires and fetched again once when the receiver answers 401.

        Attributes:
            client_id (str): The client id (literal, or a `{{secret:NAME}}`). Example: ricochet.
            client_secret (str): The client secret: a `{{secret:NAME}}` reference. Example: {{secret:crm_client_secret}}.
            token_url (str): The token endpoint (http or https, no placeholders). The outbound guard applies. Example:
                https://login.your-crm.com/oauth/token.
            type_ (Oauth2ClientCredentialsReceiverAuthType):
            audience (None | str | Unset): The `audience` asked for (Auth0 and others).
            scope (None | str | Unset): The `scope` asked for, space-separated.
    """

    client_id: str
    client_secret: str
    token_url: str
    type_: Oauth2ClientCredentialsReceiverAuthType
    audience: None | str | Unset = UNSET
    scope: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        client_secret = self.client_secret

        token_url = self.token_url

        type_ = self.type_.value

        audience: None | str | Unset
        if isinstance(self.audience, Unset):
            audience = UNSET
        else:
            audience = self.audience

        scope: None | str | Unset
        if isinstance(self.scope, Unset):
            scope = UNSET
        else:
            scope = self.scope

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "clientId": client_id,
                "clientSecret": client_secret,
                "tokenUrl": token_url,
                "type": type_,
            }
        )
        if audience is not UNSET:
            field_dict["audience"] = audience
        if scope is not UNSET:
            field_dict["scope"] = scope

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = d.pop("clientId")

        client_secret = d.pop("clientSecret")

        token_url = d.pop("tokenUrl")

        type_ = Oauth2ClientCredentialsReceiverAuthType(d.pop("type"))

        def _parse_audience(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        audience = _parse_audience(d.pop("audience", UNSET))

        def _parse_scope(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        scope = _parse_scope(d.pop("scope", UNSET))

        oauth_2_client_credentials_receiver_auth = cls(
            client_id=client_id,
            client_secret=client_secret,
            token_url=token_url,
            type_=type_,
            audience=audience,
            scope=scope,
        )

        return oauth_2_client_credentials_receiver_auth
