from enum import StrEnum


class RetryPolicyType(StrEnum):
    EXPONENTIAL = "exponential"
    FIXED = "fixed"
    LINEAR = "linear"
    NONE = "none"

    def __str__(self) -> str:
        return str(self.value)
