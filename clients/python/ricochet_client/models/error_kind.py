from enum import StrEnum


class ErrorKind(StrEnum):
    BODY = "body"
    CONNECT = "connect"
    DNS = "dns"
    REQUEST = "request"
    STATUS = "status"
    TIMEOUT = "timeout"
    TLS = "tls"

    def __str__(self) -> str:
        return str(self.value)
