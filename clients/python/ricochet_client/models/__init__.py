"""Contains all the data models used in inputs/outputs"""

from .api_client_created import ApiClientCreated
from .api_client_in import ApiClientIn
from .api_client_list import ApiClientList
from .api_client_out import ApiClientOut
from .attempt_list import AttemptList
from .attempt_out import AttemptOut
from .attempt_outcome import AttemptOutcome
from .attempt_request import AttemptRequest
from .attempt_request_headers import AttemptRequestHeaders
from .attempt_response import AttemptResponse
from .basic_receiver_auth import BasicReceiverAuth
from .basic_receiver_auth_type import BasicReceiverAuthType
from .batch_published_out import BatchPublishedOut
from .binding_list import BindingList
from .binding_out import BindingOut
from .bindings_in import BindingsIn
from .bucket_out import BucketOut
from .bulk_replayed_out import BulkReplayedOut
from .circuit_breaker import CircuitBreaker
from .circuit_breaker_out import CircuitBreakerOut
from .circuit_breaker_patch import CircuitBreakerPatch
from .circuit_state import CircuitState
from .created_batch_event_result import CreatedBatchEventResult
from .created_batch_event_result_outcome import CreatedBatchEventResultOutcome
from .dead_letter_list import DeadLetterList
from .dead_letter_out import DeadLetterOut
from .dead_letter_query import DeadLetterQuery
from .delivery_list import DeliveryList
from .delivery_out import DeliveryOut
from .delivery_ref_out import DeliveryRefOut
from .delivery_status import DeliveryStatus
from .delivery_summary import DeliverySummary
from .duplicate_batch_event_result import DuplicateBatchEventResult
from .duplicate_batch_event_result_outcome import DuplicateBatchEventResultOutcome
from .error_kind import ErrorKind
from .event_in import EventIn
from .event_in_data import EventInData
from .event_list import EventList
from .event_out import EventOut
from .event_out_data import EventOutData
from .event_summary import EventSummary
from .events_batch_in import EventsBatchIn
from .failed_batch_event_result import FailedBatchEventResult
from .failed_batch_event_result_outcome import FailedBatchEventResultOutcome
from .field_error import FieldError
from .field_mapping_transformation import FieldMappingTransformation
from .field_mapping_transformation_type import FieldMappingTransformationType
from .grant_type import GrantType
from .health import Health
from .http_method import HttpMethod
from .integration_health import IntegrationHealth
from .integration_health_out import IntegrationHealthOut
from .integration_in import IntegrationIn
from .integration_list import IntegrationList
from .integration_out import IntegrationOut
from .integration_patch import IntegrationPatch
from .integration_pause import IntegrationPause
from .integration_settings import IntegrationSettings
from .integration_settings_headers import IntegrationSettingsHeaders
from .integration_settings_out import IntegrationSettingsOut
from .integration_settings_out_headers import IntegrationSettingsOutHeaders
from .integration_settings_patch import IntegrationSettingsPatch
from .integration_settings_patch_headers_type_0 import IntegrationSettingsPatchHeadersType0
from .jitter_mode import JitterMode
from .key_scheme import KeyScheme
from .o_auth_error import OAuthError
from .oauth_2_client_credentials_receiver_auth import Oauth2ClientCredentialsReceiverAuth
from .oauth_2_client_credentials_receiver_auth_out import Oauth2ClientCredentialsReceiverAuthOut
from .oauth_2_client_credentials_receiver_auth_out_type import Oauth2ClientCredentialsReceiverAuthOutType
from .oauth_2_client_credentials_receiver_auth_type import Oauth2ClientCredentialsReceiverAuthType
from .ordering import Ordering
from .overview_out import OverviewOut
from .payload_format import PayloadFormat
from .permission import Permission
from .preview_in import PreviewIn
from .preview_out import PreviewOut
from .preview_out_headers import PreviewOutHeaders
from .problem import Problem
from .published_out import PublishedOut
from .queue_out import QueueOut
from .rate_limit import RateLimit
from .rate_period import RatePeriod
from .receiver_tls import ReceiverTls
from .receiver_tls_out import ReceiverTlsOut
from .remove_transformation import RemoveTransformation
from .remove_transformation_type import RemoveTransformationType
from .replayed_out import ReplayedOut
from .response_times import ResponseTimes
from .retry_policy import RetryPolicy
from .retry_policy_out import RetryPolicyOut
from .retry_policy_patch import RetryPolicyPatch
from .retry_policy_type import RetryPolicyType
from .secret_in import SecretIn
from .secret_list import SecretList
from .secret_out import SecretOut
from .secret_update import SecretUpdate
from .secret_user import SecretUser
from .set_transformation import SetTransformation
from .set_transformation_type import SetTransformationType
from .signature_scheme import SignatureScheme
from .signature_settings import SignatureSettings
from .signature_settings_out import SignatureSettingsOut
from .signature_settings_patch import SignatureSettingsPatch
from .signing_secret_out import SigningSecretOut
from .signing_secret_rotation import SigningSecretRotation
from .stats_out import StatsOut
from .status_class import StatusClass
from .status_count import StatusCount
from .tenant_in import TenantIn
from .tenant_list import TenantList
from .tenant_out import TenantOut
from .tenant_summary_out import TenantSummaryOut
from .token_form import TokenForm
from .token_response import TokenResponse

__all__ = (
    "ApiClientCreated",
    "ApiClientIn",
    "ApiClientList",
    "ApiClientOut",
    "AttemptList",
    "AttemptOut",
    "AttemptOutcome",
    "AttemptRequest",
    "AttemptRequestHeaders",
    "AttemptResponse",
    "BasicReceiverAuth",
    "BasicReceiverAuthType",
    "BatchPublishedOut",
    "BindingList",
    "BindingOut",
    "BindingsIn",
    "BucketOut",
    "BulkReplayedOut",
    "CircuitBreaker",
    "CircuitBreakerOut",
    "CircuitBreakerPatch",
    "CircuitState",
    "CreatedBatchEventResult",
    "CreatedBatchEventResultOutcome",
    "DeadLetterList",
    "DeadLetterOut",
    "DeadLetterQuery",
    "DeliveryList",
    "DeliveryOut",
    "DeliveryRefOut",
    "DeliveryStatus",
    "DeliverySummary",
    "DuplicateBatchEventResult",
    "DuplicateBatchEventResultOutcome",
    "ErrorKind",
    "EventIn",
    "EventInData",
    "EventList",
    "EventOut",
    "EventOutData",
    "EventsBatchIn",
    "EventSummary",
    "FailedBatchEventResult",
    "FailedBatchEventResultOutcome",
    "FieldError",
    "FieldMappingTransformation",
    "FieldMappingTransformationType",
    "GrantType",
    "Health",
    "HttpMethod",
    "IntegrationHealth",
    "IntegrationHealthOut",
    "IntegrationIn",
    "IntegrationList",
    "IntegrationOut",
    "IntegrationPatch",
    "IntegrationPause",
    "IntegrationSettings",
    "IntegrationSettingsHeaders",
    "IntegrationSettingsOut",
    "IntegrationSettingsOutHeaders",
    "IntegrationSettingsPatch",
    "IntegrationSettingsPatchHeadersType0",
    "JitterMode",
    "KeyScheme",
    "Oauth2ClientCredentialsReceiverAuth",
    "Oauth2ClientCredentialsReceiverAuthOut",
    "Oauth2ClientCredentialsReceiverAuthOutType",
    "Oauth2ClientCredentialsReceiverAuthType",
    "OAuthError",
    "Ordering",
    "OverviewOut",
    "PayloadFormat",
    "Permission",
    "PreviewIn",
    "PreviewOut",
    "PreviewOutHeaders",
    "Problem",
    "PublishedOut",
    "QueueOut",
    "RateLimit",
    "RatePeriod",
    "ReceiverTls",
    "ReceiverTlsOut",
    "RemoveTransformation",
    "RemoveTransformationType",
    "ReplayedOut",
    "ResponseTimes",
    "RetryPolicy",
    "RetryPolicyOut",
    "RetryPolicyPatch",
    "RetryPolicyType",
    "SecretIn",
    "SecretList",
    "SecretOut",
    "SecretUpdate",
    "SecretUser",
    "SetTransformation",
    "SetTransformationType",
    "SignatureScheme",
    "SignatureSettings",
    "SignatureSettingsOut",
    "SignatureSettingsPatch",
    "SigningSecretOut",
    "SigningSecretRotation",
    "StatsOut",
    "StatusClass",
    "StatusCount",
    "TenantIn",
    "TenantList",
    "TenantOut",
    "TenantSummaryOut",
    "TokenForm",
    "TokenResponse",
)
