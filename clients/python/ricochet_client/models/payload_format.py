from enum import StrEnum


class PayloadFormat(StrEnum):
    DATA = "data"
    ENVELOPE = "envelope"

    def __str__(self) -> str:
        return str(self.value)
