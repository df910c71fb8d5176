from enum import StrEnum


class FieldMappingTransformationType(StrEnum):
    FIELDMAPPING = "fieldMapping"

    def __str__(self) -> str:
        return str(self.value)
