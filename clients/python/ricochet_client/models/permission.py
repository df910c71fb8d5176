from enum import StrEnum


class Permission(StrEnum):
    DEADLETTER_EDIT = "deadletter:edit"
    EVENT_PUBLISH = "event:publish"
    INTEGRATION_EDIT = "integration:edit"
    INTEGRATION_VIEW = "integration:view"
    LOG_VIEW = "log:view"
    SECRET_EDIT = "secret:edit"
    SECRET_VIEW = "secret:view"

    def __str__(self) -> str:
        return str(self.value)
