from enum import StrEnum


class Permission(StrEnum):
    DEADLETTEREDIT = "deadletter:edit"
    EVENTPUBLISH = "event:publish"
    INTEGRATIONEDIT = "integration:edit"
    INTEGRATIONVIEW = "integration:view"
    LOGVIEW = "log:view"
    SECRETEDIT = "secret:edit"
    SECRETVIEW = "secret:view"

    def __str__(self) -> str:
        return str(self.value)
