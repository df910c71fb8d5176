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
    from ..models.circuit_breaker_patch import CircuitBreakerPatch
    from ..models.field_mapping_transformation import FieldMappingTransformation
    from ..models.integration_settings_patch_headers_type_0 import IntegrationSettingsPatchHeadersType0
    from ..models.oauth_2_client_credentials_receiver_auth import Oauth2ClientCredentialsReceiverAuth
    from ..models.rate_limit import RateLimit
    from ..models.receiver_tls import ReceiverTls
    from ..models.remove_transformation import RemoveTransformation
    from ..models.retry_policy_patch import RetryPolicyPatch
    from ..models.set_transformation import SetTransformation
    from ..models.signature_settings_patch import SignatureSettingsPatch


T = TypeVar("T", bound="IntegrationSettingsPatch")


@_attrs_define
class IntegrationSettingsPatch:
    """A JSON merge patch (RFC 7386) of IntegrationSettings: fields present replace, `null` resets a field to its default,
    fields left out stay.

        Attributes:
            auth (BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuth | Unset):
            auto_disable_after (int | None | Unset): How long, in milliseconds, an integration may fail without a single
                success before it
                is disabled (default 5 days). 1000 to 31536000000 (a year). Example: 432000000.
            body_template (None | str | Unset): A body of your own instead of the JSON payload, with templates such as
                `{"text": "{{eventType}} for {{data.customer.name}}"}`. Values are inserted as they are.
            circuit_breaker (CircuitBreakerPatch | None | Unset): When consecutive failures stop attempts for a cool-down,
                then let one probe through.
            content_type (None | str | Unset): `Content-Type` of the request body. Example: application/json.
            disable_on_gone (bool | None | Unset): Whether a receiver answering `410 Gone` disables the integration at once.
            headers (IntegrationSettingsPatchHeadersType0 | None | Unset): Extra request headers; values may hold templates
                such as `Bearer {{secret:crm_api_token}}`.
            http_method (HttpMethod | None | Unset): Request method.
            max_concurrency (int | None | Unset): Most attempts to this integration in flight at once, across every worker
                process.
                Deliveries beyond it wait (neither failed nor spending a retry). 1 to 256. Example: 10.
            ordering (None | Ordering | Unset): `perKey`: deliveries of events with the same `orderingKey` are attempted one
                at a time,
                in publish order (a retrying one holds back the ones behind it; a dead-lettered one
                releases them). `none` (the default): no order is kept.
            payload_format (None | PayloadFormat | Unset): What the request body holds.
            rate_limit (None | RateLimit | Unset):
            request_timeout (int | None | Unset): How long one attempt may take, in milliseconds. 1 to 300000. Example:
                10000.
            retry_policy (None | RetryPolicyPatch | Unset): When and how often a failed delivery is retried.
            signature (None | SignatureSettingsPatch | Unset): Which Standard Webhooks signatures requests carry: `v1` (HMAC
                with the `whsec_` secret,
                the default), `v1a` (Ed25519, verified with the public `whpk_` key) or `both`.
            tls (None | ReceiverTls | Unset):
            transformations (list[FieldMappingTransformation | RemoveTransformation | SetTransformation] | None | Unset):
                Reshaping of the event's data, applied in order before sending.
            url (None | str | Unset): Target URL (http or https); may hold templates such as `{{data.customerId}}`. Example:
                https://api.your-crm.com/v1/genesys-events.
    """

    auth: BasicReceiverAuth | None | Oauth2ClientCredentialsReceiverAuth | Unset = UNSET
    auto_disable_after: int | None | Unset = UNSET
    body_template: None | str | Unset = UNSET
    circuit_breaker: CircuitBreakerPatch | None | Unset = UNSET
    content_type: None | str | Unset = UNSET
    disable_on_gone: bool | None | Unset = UNSET
    headers: IntegrationSettingsPatchHeadersType0 | None | Unset = UNSET
    http_method: HttpMethod | None | Unset = UNSET
    max_concurrency: int | None | Unset = UNSET
    ordering: None | Ordering | Unset = UNSET
    payload_format: None | PayloadFormat | Unset = UNSET
    rate_limit: None | RateLimit | Unset = UNSET
    request_timeout: int | None | Unset = UNSET
    retry_policy: None | RetryPolicyPatch | Unset = UNSET
    signature: None | SignatureSettingsPatch | Unset = UNSET
    tls: None | ReceiverTls | Unset = UNSET
    transformations: list[FieldMappingTransformation | RemoveTransformation | SetTransformation] | None | Unset = UNSET
    url: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.basic_receiver_auth import BasicReceiverAuth  # noqa: PLC0415
        from ..models.circuit_breaker_patch import CircuitBreakerPatch  # noqa: PLC0415
        from ..models.field_mapping_transformation import FieldMappingTransformation  # noqa: PLC0415
        from ..models.integration_settings_patch_headers_type_0 import IntegrationSettingsPatchHeadersType0  # noqa: PLC0415
        from ..models.oauth_2_client_credentials_receiver_auth import Oauth2ClientCredentialsReceiverAuth  # noqa: PLC0415
        from ..models.rate_limit import RateLimit  # noqa: PLC0415
        from ..models.receiver_tls import ReceiverTls  # noqa: PLC0415
        from ..models.remove_transformation import RemoveTransformation  # noqa: PLC0415
        from ..models.retry_policy_patch import RetryPolicyPatch  # noqa: PLC0415
        from ..models.signature_settings_patch import SignatureSettingsPatch  # noqa: PLC0415

        auth: dict[str, Any] | None | Unset
        if isinstance(self.auth, Unset):
            auth = UNSET
        elif isinstance(self.auth, BasicReceiverAuth):
            auth = self.auth.to_dict()
        elif isinstance(self.auth, Oauth2ClientCredentialsReceiverAuth):
            auth = self.auth.to_dict()
        else:
            auth = self.auth

        auto_disable_after: int | None | Unset
        if isinstance(self.auto_disable_after, Unset):
            auto_disable_after = UNSET
        else:
            auto_disable_after = self.auto_disable_after

        body_template: None | str | Unset
        if isinstance(self.body_template, Unset):
            body_template = UNSET
        else:
            body_template = self.body_template

        circuit_breaker: dict[str, Any] | None | Unset
        if isinstance(self.circuit_breaker, Unset):
            circuit_breaker = UNSET
        elif isinstance(self.circuit_breaker, CircuitBreakerPatch):
            circuit_breaker = self.circuit_breaker.to_dict()
        else:
            circuit_breaker = self.circuit_breaker

        content_type: None | str | Unset
        if isinstance(self.content_type, Unset):
            content_type = UNSET
        else:
            content_type = self.content_type

        disable_on_gone: bool | None | Unset
        if isinstance(self.disable_on_gone, Unset):
            disable_on_gone = UNSET
        else:
            disable_on_gone = self.disable_on_gone

        headers: dict[str, Any] | None | Unset
        if isinstance(self.headers, Unset):
            headers = UNSET
        elif isinstance(self.headers, IntegrationSettingsPatchHeadersType0):
            headers = self.headers.to_dict()
        else:
            headers = self.headers

        http_method: None | str | Unset
        if isinstance(self.http_method, Unset):
            http_method = UNSET
        elif isinstance(self.http_method, HttpMethod):
            http_method = self.http_method.value
        else:
            http_method = self.http_method

        max_concurrency: int | None | Unset
        if isinstance(self.max_concurrency, Unset):
            max_concurrency = UNSET
        else:
            max_concurrency = self.max_concurrency

        ordering: None | str | Unset
        if isinstance(self.ordering, Unset):
            ordering = UNSET
        elif isinstance(self.ordering, Ordering):
            ordering = self.ordering.value
        else:
            ordering = self.ordering

        payload_format: None | str | Unset
        if isinstance(self.payload_format, Unset):
            payload_format = UNSET
        elif isinstance(self.payload_format, PayloadFormat):
            payload_format = self.payload_format.value
        else:
            payload_format = self.payload_format

        rate_limit: dict[str, Any] | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        elif isinstance(self.rate_limit, RateLimit):
            rate_limit = self.rate_limit.to_dict()
        else:
            rate_limit = self.rate_limit

        request_timeout: int | None | Unset
        if isinstance(self.request_timeout, Unset):
            request_timeout = UNSET
        else:
            request_timeout = self.request_timeout

        retry_policy: dict[str, Any] | None | Unset
        if isinstance(self.retry_policy, Unset):
            retry_policy = UNSET
        elif isinstance(self.retry_policy, RetryPolicyPatch):
            retry_policy = self.retry_policy.to_dict()
        else:
            retry_policy = self.retry_policy

        signature: dict[str, Any] | None | Unset
        if isinstance(self.signature, Unset):
            signature = UNSET
        elif isinstance(self.signature, SignatureSettingsPatch):
            signature = self.signature.to_dict()
        else:
            signature = self.signature

        tls: dict[str, Any] | None | Unset
        if isinstance(self.tls, Unset):
            tls = UNSET
        elif isinstance(self.tls, ReceiverTls):
            tls = self.tls.to_dict()
        else:
            tls = self.tls

        transformations: list[dict[str, Any]] | None | Unset
        if isinstance(self.transformations, Unset):
            transformations = UNSET
        elif isinstance(self.transformations, list):
            transformations = []
            for transformations_type_0_item_data in self.transformations:
                transformations_type_0_item: dict[str, Any]
                if isinstance(transformations_type_0_item_data, FieldMappingTransformation):
                    transformations_type_0_item = transformations_type_0_item_data.to_dict()
                elif isinstance(transformations_type_0_item_data, RemoveTransformation):
                    transformations_type_0_item = transformations_type_0_item_data.to_dict()
                else:
                    transformations_type_0_item = transformations_type_0_item_data.to_dict()

                transformations.append(transformations_type_0_item)

        else:
            transformations = self.transformations

        url: None | str | Unset
        if isinstance(self.url, Unset):
            url = UNSET
        else:
            url = self.url

        field_dict: dict[str, Any] = {}

        field_dict.update({})
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
        if url is not UNSET:
            field_dict["url"] = url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.basic_receiver_auth import BasicReceiverAuth  # noqa: PLC0415
        from ..models.circuit_breaker_patch import CircuitBreakerPatch  # noqa: PLC0415
        from ..models.field_mapping_transformation import FieldMappingTransformation  # noqa: PLC0415
        from ..models.integration_settings_patch_headers_type_0 import IntegrationSettingsPatchHeadersType0  # noqa: PLC0415
        from ..models.oauth_2_client_credentials_receiver_auth import Oauth2ClientCredentialsReceiverAuth  # noqa: PLC0415
        from ..models.rate_limit import RateLimit  # noqa: PLC0415
        from ..models.receiver_tls import ReceiverTls  # noqa: PLC0415
        from ..models.remove_transformation import RemoveTransformation  # noqa: PLC0415
        from ..models.retry_policy_patch import RetryPolicyPatch  # noqa: PLC0415
        from ..models.set_transformation import SetTransformation  # noqa: PLC0415
        from ..models.signature_settings_patch import SignatureSettingsPatch  # noqa: PLC0415

        d = dict(src_dict)

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

        def _parse_auto_disable_after(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        auto_disable_after = _parse_auto_disable_after(d.pop("autoDisableAfter", UNSET))

        def _parse_body_template(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        body_template = _parse_body_template(d.pop("bodyTemplate", UNSET))

        def _parse_circuit_breaker(data: object) -> CircuitBreakerPatch | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                circuit_breaker_type_1 = CircuitBreakerPatch.from_dict(data)

                return circuit_breaker_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CircuitBreakerPatch | None | Unset, data)

        circuit_breaker = _parse_circuit_breaker(d.pop("circuitBreaker", UNSET))

        def _parse_content_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        content_type = _parse_content_type(d.pop("contentType", UNSET))

        def _parse_disable_on_gone(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        disable_on_gone = _parse_disable_on_gone(d.pop("disableOnGone", UNSET))

        def _parse_headers(data: object) -> IntegrationSettingsPatchHeadersType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                headers_type_0 = IntegrationSettingsPatchHeadersType0.from_dict(data)

                return headers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(IntegrationSettingsPatchHeadersType0 | None | Unset, data)

        headers = _parse_headers(d.pop("headers", UNSET))

        def _parse_http_method(data: object) -> HttpMethod | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                http_method_type_1 = HttpMethod(data)

                return http_method_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HttpMethod | None | Unset, data)

        http_method = _parse_http_method(d.pop("httpMethod", UNSET))

        def _parse_max_concurrency(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_concurrency = _parse_max_concurrency(d.pop("maxConcurrency", UNSET))

        def _parse_ordering(data: object) -> None | Ordering | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ordering_type_1 = Ordering(data)

                return ordering_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Ordering | Unset, data)

        ordering = _parse_ordering(d.pop("ordering", UNSET))

        def _parse_payload_format(data: object) -> None | PayloadFormat | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                payload_format_type_1 = PayloadFormat(data)

                return payload_format_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PayloadFormat | Unset, data)

        payload_format = _parse_payload_format(d.pop("payloadFormat", UNSET))

        def _parse_rate_limit(data: object) -> None | RateLimit | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                rate_limit_type_1_type_0 = RateLimit.from_dict(data)

                return rate_limit_type_1_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RateLimit | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rateLimit", UNSET))

        def _parse_request_timeout(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        request_timeout = _parse_request_timeout(d.pop("requestTimeout", UNSET))

        def _parse_retry_policy(data: object) -> None | RetryPolicyPatch | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                retry_policy_type_1 = RetryPolicyPatch.from_dict(data)

                return retry_policy_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RetryPolicyPatch | Unset, data)

        retry_policy = _parse_retry_policy(d.pop("retryPolicy", UNSET))

        def _parse_signature(data: object) -> None | SignatureSettingsPatch | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                signature_type_1 = SignatureSettingsPatch.from_dict(data)

                return signature_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SignatureSettingsPatch | Unset, data)

        signature = _parse_signature(d.pop("signature", UNSET))

        def _parse_tls(data: object) -> None | ReceiverTls | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tls_type_1_type_0 = ReceiverTls.from_dict(data)

                return tls_type_1_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ReceiverTls | Unset, data)

        tls = _parse_tls(d.pop("tls", UNSET))

        def _parse_transformations(
            data: object,
        ) -> list[FieldMappingTransformation | RemoveTransformation | SetTransformation] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                transformations_type_0 = []
                _transformations_type_0 = data
                for transformations_type_0_item_data in _transformations_type_0:

                    def _parse_transformations_type_0_item(
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

                    transformations_type_0_item = _parse_transformations_type_0_item(transformations_type_0_item_data)

                    transformations_type_0.append(transformations_type_0_item)

                return transformations_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                list[FieldMappingTransformation | RemoveTransformation | SetTransformation] | None | Unset, data
            )

        transformations = _parse_transformations(d.pop("transformations", UNSET))

        def _parse_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        url = _parse_url(d.pop("url", UNSET))

        integration_settings_patch = cls(
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

        return integration_settings_patch
