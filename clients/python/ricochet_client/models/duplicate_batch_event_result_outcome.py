from enum import StrEnum


class DuplicateBatchEventResultOutcome(StrEnum):
    DUPLICATE = "duplicate"

    def __str__(self) -> str:
        return str(self.value)
