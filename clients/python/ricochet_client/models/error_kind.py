from enum import StrEnum


class ErrorKind(StrEnum):
    AUTH = "auth"
    BLOCKED_TARGET = "blocked_target"
    BODY = "body"
    CONNECT = "connect"
    DNS = "dns"
    INTERNAL_ERROR = "internal_error"
    REQUEST = "request"
    SECRET_UNREADABLE = "secret_unreadable"
    SIGNING_KEY_UNREADABLE = "signing_key_unreadable"
    STATUS = "status"
    TIMEOUT = "timeout"
    TLS = "tls"
    TLS_CONFIG = "tls_config"

    def __str__(self) -> str:
        return str(self.value)
