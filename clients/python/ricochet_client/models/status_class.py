from enum import StrEnum


class StatusClass(StrEnum):
    CLIENT_ERROR = "4xx"
    INFORMATIONAL = "1xx"
    REDIRECTION = "3xx"
    SERVER_ERROR = "5xx"
    SUCCESS = "2xx"

    def __str__(self) -> str:
        return str(self.value)
