from enum import StrEnum


class DeliveryStatus(StrEnum):
    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    DEAD_LETTERED = "dead_lettered"
    IN_FLIGHT = "in_flight"
    PAUSED = "paused"
    PENDING = "pending"
    PURGED = "purged"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
