from enum import StrEnum


class SetTransformationType(StrEnum):
    SET = "set"

    def __str__(self) -> str:
        return str(self.value)
