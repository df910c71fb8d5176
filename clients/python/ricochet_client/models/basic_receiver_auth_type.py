from enum import StrEnum


class BasicReceiverAuthType(StrEnum):
    BASIC = "basic"

    def __str__(self) -> str:
        return str(self.value)
