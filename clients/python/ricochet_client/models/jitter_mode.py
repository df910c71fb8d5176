from enum import StrEnum


class JitterMode(StrEnum):
    FULL = "full"
    RATIO = "ratio"

    def __str__(self) -> str:
        return str(self.value)
