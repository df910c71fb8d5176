from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.oauth_2_client_credentials_receiver_auth_out_type import Oauth2ClientCredentialsReceiverAuthOutType

T = TypeVar("T", bound="Oauth2ClientCredentialsReceiverAuthOut")


@_attrs_define
class Oauth2ClientCredentialsReceiverAuthOut:
    """`Authorization: Bearer` with an access token from an OAuth 2.0 token endpoint (client
    credentials grant, client authenticated with HTTP Basic). The token is cached until
    shortly before it expires and fetched again once when the receiver answers 401.

        Attributes:
            audience (None | str): The `audience` asked for (Auth0 and others).
            client_id (str): The client id (literal, or a `{{secret:NAME}}`). Example: ricochet.
            client_secret (str): The client secret: a `{{secret:NAME}}` reference. Example: {{secret:crm_client_secret}}.
            scope (None | str): The `scope` asked for, space-separated.
            token_url (str): The token endpoint (http or https, no placeholders). The outbound guard applies. Example:
                https://login.your-crm.com/oauth/token.
            type_ (Oauth2ClientCredentialsReceiverAuthOutType):
    """

    audience: None | str
    client_id: str
    client_secret: str
    scope: None | str
    token_url: str
    type_: Oauth2ClientCredentialsReceiverAuthOutType

    def to_dict(self) -> dict[str, Any]:
        audience: None | str
        audience = self.audience

        client_id = self.client_id

        client_secret = self.client_secret

        scope: None | str
        scope = self.scope

        token_url = self.token_url

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "audience": audience,
                "clientId": client_id,
                "clientSecret": client_secret,
                "scope": scope,
                "tokenUrl": token_url,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_audience(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        audience = _parse_audience(d.pop("audience"))

        client_id = d.pop("clientId")

        client_secret = d.pop("clientSecret")

        def _parse_scope(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        scope = _parse_scope(d.pop("scope"))

        token_url = d.pop("tokenUrl")

        type_ = Oauth2ClientCredentialsReceiverAuthOutType(d.pop("type"))

        oauth_2_client_credentials_receiver_auth_out = cls(
            audience=audience,
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
            token_url=token_url,
            type_=type_,
        )

        return oauth_2_client_credentials_receiver_auth_out
