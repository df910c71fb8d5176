from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.http_method import HttpMethod
from ..models.ordering import Ordering
from ..models.payload_format import PayloadFormat

if TYPE_CHECKING:
    from ..models.basic_receiver_auth import BasicReceiverAuth
    from ..models.circuit_breaker_out import CircuitBreakerOut
    from ..models.field_mapping_transformation import FieldMappingTransformation
    from ..models.integration_settings_out_headers import IntegrationSettingsOutHeaders
    from ..models.oauth_2_client_credentials_receiver_auth_out import Oauth2ClientCredentialsReceiverAuthOut
    from ..models.rate_limit import RateLimit
    from ..models.receiver_tls_out import ReceiverTlsOut
    from ..models.remove_transformation import RemoveTransformation
    from ..models.retry_policy_out import RetryPolicyOut
    from ..models.set_transformation import SetTransformation
    from ..models.signature_settings_out import SignatureSettingsOut


T = TypeVar("T", bound="IntegrationSettingsOut")


@_attrs_define
class IntegrationSettingsOut:
    """Where and how an integration delivers.

    Attributes:
        auth (BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuthOut):
        auto_disable_after (int): How long, in milliseconds, an integration may fail without a single success before it
            is disabled (default 5 days). 1000 to 31536000000 (a year). Example: 432000000.
        body_template (None | str): A body of your own instead of the JSON payload, with templates such as
            `{"text": "{{eventType}} for {{data.customer.name}}"}`. Values are inserted as they are.
        circuit_breaker (CircuitBreakerOut): The circuit breaker of an integration: after `failureThreshold` consecutive
            failed attempts
            no attempt starts for `coolDown` (doubling on each re-open, up to `maxCoolDown`), then one
            probe runs; its success closes the circuit. Deliveries waiting meanwhile keep their retries.
        content_type (str): `Content-Type` of the request body. Example: application/json.
        disable_on_gone (bool): Whether a receiver answering `410 Gone` disables the integration at once.
        headers (IntegrationSettingsOutHeaders): Extra request headers; values may hold templates such as `Bearer
            {{secret:crm_api_token}}`.
        http_method (HttpMethod): Request method of an integration.
        max_concurrency (int): Most attempts to this integration in flight at once, across every worker process.
            Deliveries beyond it wait (neither failed nor spending a retry). 1 to 256. Example: 10.
        ordering (Ordering): Whether an integration keeps the order of events with the same ordering key.
        payload_format (PayloadFormat): What the request body holds.
        rate_limit (None | RateLimit):
        request_timeout (int): How long one attempt may take, in milliseconds. 1 to 300000. Example: 10000.
        retry_policy (RetryPolicyOut): When and how often a failed delivery is tried again.
        signature (SignatureSettingsOut): `settings.signature`: how deliveries are signed.
        tls (None | ReceiverTlsOut):
        transformations (list[FieldMappingTransformation | RemoveTransformation | SetTransformation]): Reshaping of the
            event's data, applied in order before sending.
        url (str): Target URL (http or https); may hold templates such as `{{data.customerId}}`. Example:
            https://api.your-crm.com/v1/genesys-events.
    """

    auth: BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuthOut
    auto_disable_after: int
    body_template: None | str
    circuit_breaker: CircuitBreakerOut
    content_type: str
    disable_on_gone: bool
    headers: IntegrationSettingsOutHeaders
    http_method: HttpMethod
    max_concurrency: int
    ordering: Ordering
    payload_format: PayloadFormat
    rate_limit: None | RateLimit
    request_timeout: int
    retry_policy: RetryPolicyOut
    signature: SignatureSettingsOut
    tls: None | ReceiverTlsOut
    transformations: list[FieldMappingTransformation | RemoveTransformation | SetTransformation]
    url: str

    def to_dict(self) -> dict[str, Any]:
        from ..models.basic_receiver_auth import BasicReceiverAuth  # noqa: PLC0415
        from ..models.field_mapping_transformation import FieldMappingTransformation  # noqa: PLC0415
        from ..models.oauth_2_client_credentials_receiver_auth_out import Oauth2ClientCredentialsReceiverAuthOut  # noqa: PLC0415
        from ..models.rate_limit import RateLimit  # noqa: PLC0415
        from ..models.receiver_tls_out import ReceiverTlsOut  # noqa: PLC0415
        from ..models.remove_transformation import RemoveTransformation  # noqa: PLC0415

        auth: dict[str, Any] | None
        if isinstance(self.auth, BasicReceiverAuth):
            auth = self.auth.to_dict()
        elif isinstance(self.auth, Oauth2ClientCredentialsReceiverAuthOut):
            auth = self.auth.to_dict()
        else:
            auth = self.auth

        auto_disable_after = self.auto_disable_after

        body_template: None | str
        body_template = self.body_template

        circuit_breaker = self.circuit_breaker.to_dict()

        content_type = self.content_type

        disable_on_gone = self.disable_on_gone

        headers = self.headers.to_dict()

        http_method = self.http_method.value

        max_concurrency = self.max_concurrency

        ordering = self.ordering.value

        payload_format = self.payload_format.value

        rate_limit: dict[str, Any] | None
        if isinstance(self.rate_limit, RateLimit):
            rate_limit = self.rate_limit.to_dict()
        else:
            rate_limit = self.rate_limit

        request_timeout = self.request_timeout

        retry_policy = self.retry_policy.to_dict()

        signature = self.signature.to_dict()

        tls: dict[str, Any] | None
        if isinstance(self.tls, ReceiverTlsOut):
            tls = self.tls.to_dict()
        else:
            tls = self.tls

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

        url = self.url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "auth": auth,
                "autoDisableAfter": auto_disable_after,
                "bodyTemplate": body_template,
                "circuitBreaker": circuit_breaker,
                "contentType": content_type,
                "disableOnGone": disable_on_gone,
                "headers": headers,
                "httpMethod": http_method,
                "maxConcurrency": max_concurrency,
                "ordering": ordering,
                "payloadFormat": payload_format,
                "rateLimit": rate_limit,
                "requestTimeout": request_timeout,
                "retryPolicy": retry_policy,
                "signature": signature,
                "tls": tls,
                "transformations": transformations,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.basic_receiver_auth import BasicReceiverAuth  # noqa: PLC0415
        from ..models.circuit_breaker_out import CircuitBreakerOut  # noqa: PLC0415
        from ..models.field_mapping_transformation import FieldMappingTransformation  # noqa: PLC0415
        from ..models.integration_settings_out_headers import IntegrationSettingsOutHeaders  # noqa: PLC0415
        from ..models.oauth_2_client_credentials_receiver_auth_out import Oauth2ClientCredentialsReceiverAuthOut  # noqa: PLC0415
        from ..models.rate_limit import RateLimit  # noqa: PLC0415
        from ..models.receiver_tls_out import ReceiverTlsOut  # noqa: PLC0415
        from ..models.remove_transformation import RemoveTransformation  # noqa: PLC0415
        from ..models.retry_policy_out import RetryPolicyOut  # noqa: PLC0415
        from ..models.set_transformation import SetTransformation  # noqa: PLC0415
        from ..models.signature_settings_out import SignatureSettingsOut  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_auth(data: object) -> BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuthOut:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_receiver_auth_out_type_0 = BasicReceiverAuth.from_dict(data)

                return componentsschemas_receiver_auth_out_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_receiver_auth_out_type_1 = Oauth2ClientCredentialsReceiverAuthOut.from_dict(data)

                return componentsschemas_receiver_auth_out_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuthOut, data)

        auth = _parse_auth(d.pop("auth"))

        auto_disable_after = d.pop("autoDisableAfter")

        def _parse_body_template(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        body_template = _parse_body_template(d.pop("bodyTemplate"))

        circuit_breaker = CircuitBreakerOut.from_dict(d.pop("circuitBreaker"))

        content_type = d.pop("contentType")

        disable_on_gone = d.pop("disableOnGone")

        headers = IntegrationSettingsOutHeaders.from_dict(d.pop("headers"))

        http_method = HttpMethod(d.pop("httpMethod"))

        max_concurrency = d.pop("maxConcurrency")

        ordering = Ordering(d.pop("ordering"))

        payload_format = PayloadFormat(d.pop("payloadFormat"))

        def _parse_rate_limit(data: object) -> None | RateLimit:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                rate_limit_type_0 = RateLimit.from_dict(data)

                return rate_limit_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RateLimit, data)

        rate_limit = _parse_rate_limit(d.pop("rateLimit"))

        request_timeout = d.pop("requestTimeout")

        retry_policy = RetryPolicyOut.from_dict(d.pop("retryPolicy"))

        signature = SignatureSettingsOut.from_dict(d.pop("signature"))

        def _parse_tls(data: object) -> None | ReceiverTlsOut:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tls_type_0 = ReceiverTlsOut.from_dict(data)

                return tls_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ReceiverTlsOut, data)

        tls = _parse_tls(d.pop("tls"))

        transformations = []
        _transformations = d.pop("transformations")
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

        url = d.pop("url")

        integration_settings_out = cls(
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
            url=url,
        )

        return integration_settings_out
