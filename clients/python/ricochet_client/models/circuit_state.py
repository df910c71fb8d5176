from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    HALFOPEN = "halfOpen"
    OPEN = "open"

    def __str__(self) -> str:
        return str(self.value)
