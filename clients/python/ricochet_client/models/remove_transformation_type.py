from enum import StrEnum


class RemoveTransformationType(StrEnum):
    REMOVE = "remove"

    def __str__(self) -> str:
        return str(self.value)
