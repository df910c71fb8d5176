from enum import StrEnum


class Ordering(StrEnum):
    NONE = "none"
    PERKEY = "perKey"

    def __str__(self) -> str:
        return str(self.value)
