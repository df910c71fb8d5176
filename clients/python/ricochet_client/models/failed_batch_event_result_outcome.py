from enum import StrEnum


class FailedBatchEventResultOutcome(StrEnum):
    FAILED = "failed"

    def __str__(self) -> str:
        return str(self.value)
