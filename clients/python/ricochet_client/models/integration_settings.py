from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.http_method import HttpMethod
from ..models.ordering import Ordering
from ..models.payload_format import PayloadFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.basic_receiver_auth import BasicReceiverAuth
    from ..models.circuit_breaker import CircuitBreaker
    from ..models.field_mapping_transformation import FieldMappingTransformation
    from ..models.integration_settings_headers import IntegrationSettingsHeaders
    from ..models.oauth_2_client_credentials_receiver_auth import Oauth2ClientCredentialsReceiverAuth
    from ..models.rate_limit import RateLimit
    from ..models.receiver_tls import ReceiverTls
    from ..models.remove_transformation import RemoveTransformation
    from ..models.retry_policy import RetryPolicy
    from ..models.set_transformation import SetTransformation
    from ..models.signature_settings import SignatureSettings


T = TypeVar("T", bound="IntegrationSettings")


@_attrs_define
class IntegrationSettings:
    """Where and how an integration delivers.

    Attributes:
        url (str): Target URL (http or https); may hold templates such as `{{data.customerId}}`. Example:
            https://api.your-crm.com/v1/genesys-events.
        auth (BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuth | Unset):
        auto_disable_after (int | Unset): How long, in milliseconds, an integration may fail without a single success
            before it
            is disabled (default 5 days). 1000 to 31536000000 (a year). Example: 432000000.
        body_template (None | str | Unset): A body of your own instead of the JSON payload, with templates such as
            `{"text": "{{eventType}} for {{data.customer.name}}"}`. Values are inserted as they are.
        circuit_breaker (CircuitBreaker | Unset): The circuit breaker of an integration: after `failureThreshold`
            consecutive failed attempts
            no attempt starts for `coolDown` (doubling on each re-open, up to `maxCoolDown`), then one
            probe runs; its success closes the circuit. Deliveries waiting meanwhile keep their retries.
        content_type (str | Unset): `Content-Type` of the request body. Example: application/json.
        disable_on_gone (bool | Unset): Whether a receiver answering `410 Gone` disables the integration at once.
        headers (IntegrationSettingsHeaders | Unset): Extra request headers; values may hold templates such as `Bearer
            {{secret:crm_api_token}}`.
        http_method (HttpMethod | Unset): Request method of an integration.
        max_concurrency (int | Unset): Most attempts to this integration in flight at once, across every worker process.
            Deliveries beyond it wait (neither failed nor spending a retry). 1 to 256. Example: 10.
        ordering (Ordering | Unset): Whether an integration keeps the order of events with the same ordering key.
        payload_format (PayloadFormat | Unset): What the request body holds.
        rate_limit (None | RateLimit | Unset):
        request_timeout (int | Unset): How long one attempt may take, in milliseconds. 1 to 300000. Example: 10000.
        retry_policy (RetryPolicy | Unset): When and how often a failed delivery is tried again.
        signature (SignatureSettings | Unset): `settings.signature`: how deliveries are signed.
        tls (None | ReceiverTls | Unset):
        transformations (list[FieldMappingTransformation | RemoveTransformation | SetTransformation] | Unset): Reshaping
            of the event's data, applied in order before sending.
    """

    url: str
    auth: BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuth | Unset = UNSET
    auto_disable_after: int | Unset = UNSET
    body_template: None | str | Unset = UNSET
    circuit_breaker: CircuitBreaker | Unset = UNSET
    content_type: str | Unset = UNSET
    disable_on_gone: bool | Unset = UNSET
    headers: IntegrationSettingsHeaders | Unset = UNSET
    http_method: HttpMethod | Unset = UNSET
    max_concurrency: int | Unset = UNSET
    ordering: Ordering | Unset = UNSET
    payload_format: PayloadFormat | Unset = UNSET
    rate_limit: None | RateLimit | Unset = UNSET
    request_timeout: int | Unset = UNSET
    retry_policy: RetryPolicy | Unset = UNSET
    signature: SignatureSettings | Unset = UNSET
    tls: None | ReceiverTls | Unset = UNSET
    transformations: list[FieldMappingTransformation | RemoveTransformation | SetTransformation] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.basic_receiver_auth import BasicReceiverAuth  # noqa: PLC0415
        from ..models.field_mapping_transformation import FieldMappingTransformation  # noqa: PLC0415
        from ..models.oauth_2_client_credentials_receiver_auth import Oauth2ClientCredentialsReceiverAuth  # noqa: PLC0415
        from ..models.rate_limit import RateLimit  # noqa: PLC0415
        from ..models.receiver_tls import ReceiverTls  # noqa: PLC0415
        from ..models.remove_transformation import RemoveTransformation  # noqa: PLC0415

        url = self.url

        auth: dict[str, Any] | None | Unset
        if isinstance(self.auth, Unset):
            auth = UNSET
        elif isinstance(self.auth, BasicReceiverAuth):
            auth = self.auth.to_dict()
        elif isinstance(self.auth, Oauth2ClientCredentialsReceiverAuth):
            auth = self.auth.to_dict()
        else:
            auth = self.auth

        auto_disable_after = self.auto_disable_after

        body_template: None | str | Unset
        if isinstance(self.body_template, Unset):
            body_template = UNSET
        else:
            body_template = self.body_template

        circuit_breaker: dict[str, Any] | Unset = UNSET
        if not isinstance(self.circuit_breaker, Unset):
            circuit_breaker = self.circuit_breaker.to_dict()

        content_type = self.content_type

        disable_on_gone = self.disable_on_gone

        headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = self.headers.to_dict()

        http_method: str | Unset = UNSET
        if not isinstance(self.http_method, Unset):
            http_method = self.http_method.value

        max_concurrency = self.max_concurrency

        ordering: str | Unset = UNSET
        if not isinstance(self.ordering, Unset):
            ordering = self.ordering.value

        payload_format: str | Unset = UNSET
        if not isinstance(self.payload_format, Unset):
            payload_format = self.payload_format.value

        rate_limit: dict[str, Any] | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        elif isinstance(self.rate_limit, RateLimit):
            rate_limit = self.rate_limit.to_dict()
        else:
            rate_limit = self.rate_limit

        request_timeout = self.request_timeout

        retry_policy: dict[str, Any] | Unset = UNSET
        if not isinstance(self.retry_policy, Unset):
            retry_policy = self.retry_policy.to_dict()

        signature: dict[str, Any] | Unset = UNSET
        if not isinstance(self.signature, Unset):
            signature = self.signature.to_dict()

        tls: dict[str, Any] | None | Unset
        if isinstance(self.tls, Unset):
            tls = UNSET
        elif isinstance(self.tls, ReceiverTls):
            tls = self.tls.to_dict()
        else:
            tls = self.tls

        transformations: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.transformations, Unset):
            transformations = []
            for transformations_item_data in self.transformations:
                transformations_item: dict[str, Any]
                if isinstance(transformations_item_data, FieldMappingTransformation):
                    transformations_item = transformations_item_data.to_dict()
                elif isinstance(transformations_item_data, RemoveTransformation):
                    transformations_item = transformations_item_data.to_dict()
                else:
                    transformations_item = transformations_item_data.to_dict()

                transformations.append(transformations_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "url": url,
            }
        )
        if auth is not UNSET:
            field_dict["auth"] = auth
        if auto_disable_after is not UNSET:
            field_dict["autoDisableAfter"] = auto_disable_after
        if body_template is not UNSET:
            field_dict["bodyTemplate"] = body_template
        if circuit_breaker is not UNSET:
            field_dict["circuitBreaker"] = circuit_breaker
        if content_type is not UNSET:
            field_dict["contentType"] = content_type
        if disable_on_gone is not UNSET:
            field_dict["disableOnGone"] = disable_on_gone
        if headers is not UNSET:
            field_dict["headers"] = headers
        if http_method is not UNSET:
            field_dict["httpMethod"] = http_method
        if max_concurrency is not UNSET:
            field_dict["maxConcurrency"] = max_concurrency
        if ordering is not UNSET:
            field_dict["ordering"] = ordering
        if payload_format is not UNSET:
            field_dict["payloadFormat"] = payload_format
        if rate_limit is not UNSET:
            field_dict["rateLimit"] = rate_limit
        if request_timeout is not UNSET:
            field_dict["requestTimeout"] = request_timeout
        if retry_policy is not UNSET:
            field_dict["retryPolicy"] = retry_policy
        if signature is not UNSET:
            field_dict["signature"] = signature
        if tls is not UNSET:
            field_dict["tls"] = tls
        if transformations is not UNSET:
            field_dict["transformations"] = transformations

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.basic_receiver_auth import BasicReceiverAuth  # noqa: PLC0415
        from ..models.circuit_breaker import CircuitBreaker  # noqa: PLC0415
        from ..models.field_mapping_transformation import FieldMappingTransformation  # noqa: PLC0415
        from ..models.integration_settings_headers import IntegrationSettingsHeaders  # noqa: PLC0415
        from ..models.oauth_2_client_credentials_receiver_auth import Oauth2ClientCredentialsReceiverAuth  # noqa: PLC0415
        from ..models.rate_limit import RateLimit  # noqa: PLC0415
        from ..models.receiver_tls import ReceiverTls  # noqa: PLC0415
        from ..models.remove_transformation import RemoveTransformation  # noqa: PLC0415
        from ..models.retry_policy import RetryPolicy  # noqa: PLC0415
        from ..models.set_transformation import SetTransformation  # noqa: PLC0415
        from ..models.signature_settings import SignatureSettings  # noqa: PLC0415

        d = dict(src_dict)
        url = d.pop("url")

        def _parse_auth(data: object) -> BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuth | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_receiver_auth_type_0 = BasicReceiverAuth.from_dict(data)

                return componentsschemas_receiver_auth_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_receiver_auth_type_1 = Oauth2ClientCredentialsReceiverAuth.from_dict(data)

                return componentsschemas_receiver_auth_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuth | Unset, data)

        auth = _parse_auth(d.pop("auth", UNSET))

        auto_disable_after = d.pop("autoDisableAfter", UNSET)

        def _parse_body_template(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        body_template = _parse_body_template(d.pop("bodyTemplate", UNSET))

        _circuit_breaker = d.pop("circuitBreaker", UNSET)
        circuit_breaker: CircuitBreaker | Unset
        if isinstance(_circuit_breaker, Unset):
            circuit_breaker = UNSET
        else:
            circuit_breaker = CircuitBreaker.from_dict(_circuit_breaker)

        content_type = d.pop("contentType", UNSET)

        disable_on_gone = d.pop("disableOnGone", UNSET)

        _headers = d.pop("headers", UNSET)
        headers: IntegrationSettingsHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = IntegrationSettingsHeaders.from_dict(_headers)

        _http_method = d.pop("httpMethod", UNSET)
        http_method: HttpMethod | Unset
        if isinstance(_http_method, Unset):
            http_method = UNSET
        else:
            http_method = HttpMethod(_http_method)

        max_concurrency = d.pop("maxConcurrency", UNSET)

        _ordering = d.pop("ordering", UNSET)
        ordering: Ordering | Unset
        if isinstance(_ordering, Unset):
            ordering = UNSET
        else:
            ordering = Ordering(_ordering)

        _payload_format = d.pop("payloadFormat", UNSET)
        payload_format: PayloadFormat | Unset
        if isinstance(_payload_format, Unset):
            payload_format = UNSET
        else:
            payload_format = PayloadFormat(_payload_format)

        def _parse_rate_limit(data: object) -> None | RateLimit | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                rate_limit_type_0 = RateLimit.from_dict(data)

                return rate_limit_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RateLimit | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rateLimit", UNSET))

        request_timeout = d.pop("requestTimeout", UNSET)

        _retry_policy = d.pop("retryPolicy", UNSET)
        retry_policy: RetryPolicy | Unset
        if isinstance(_retry_policy, Unset):
            retry_policy = UNSET
        else:
            retry_policy = RetryPolicy.from_dict(_retry_policy)

        _signature = d.pop("signature", UNSET)
        signature: SignatureSettings | Unset
        if isinstance(_signature, Unset):
            signature = UNSET
        else:
            signature = SignatureSettings.from_dict(_signature)

        def _parse_tls(data: object) -> None | ReceiverTls | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tls_type_0 = ReceiverTls.from_dict(data)

                return tls_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ReceiverTls | Unset, data)

        tls = _parse_tls(d.pop("tls", UNSET))

        _transformations = d.pop("transformations", UNSET)
        transformations: list[FieldMappingTransformation | RemoveTransformation | SetTransformation] | Unset = UNSET
        if _transformations is not UNSET:
            transformations = []
            for transformations_item_data in _transformations:

                def _parse_transformations_item(
                    data: object,
                ) -> FieldMappingTransformation | RemoveTransformation | SetTransformation:
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_transformation_type_0 = FieldMappingTransformation.from_dict(data)

                        return componentsschemas_transformation_type_0
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_transformation_type_1 = RemoveTransformation.from_dict(data)

                        return componentsschemas_transformation_type_1
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_transformation_type_2 = SetTransformation.from_dict(data)

                    return componentsschemas_transformation_type_2

                transformations_item = _parse_transformations_item(transformations_item_data)

                transformations.append(transformations_item)

        integration_settings = cls(
            url=url,
            auth=auth,
            auto_disable_after=auto_disable_after,
            body_template=body_template,
            circuit_breaker=circuit_breaker,
            content_type=content_type,
            disable_on_gone=disable_on_gone,
            headers=headers,
            http_method=http_method,
            max_concurrency=max_concurrency,
            ordering=ordering,
            payload_format=payload_format,
            rate_limit=rate_limit,
            request_timeout=request_timeout,
            retry_policy=retry_policy,
            signature=signature,
            tls=tls,
            transformations=transformations,
        )

        return integration_settings
