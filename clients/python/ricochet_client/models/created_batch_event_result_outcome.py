from enum import StrEnum


class CreatedBatchEventResultOutcome(StrEnum):
    CREATED = "created"

    def __str__(self) -> str:
        return str(self.value)
