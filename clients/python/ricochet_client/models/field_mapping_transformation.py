from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.field_mapping_transformation_type import FieldMappingTransformationType

T = TypeVar("T", bound="FieldMappingTransformation")


@_attrs_define
class FieldMappingTransformation:
    """Copy `source` (in the event's data as published) to `destination` (dotted paths). Once
    any mapping exists, the body holds only mapped fields (and what later steps set).

        Attributes:
            destination (str): Dotted path in the body sent.
            source (str): Dotted path in the event's data.
            type_ (FieldMappingTransformationType):
    """

    destination: str
    source: str
    type_: FieldMappingTransformationType

    def to_dict(self) -> dict[str, Any]:
        destination = self.destination

        source = self.source

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "destination": destination,
                "source": source,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        destination = d.pop("destination")

        source = d.pop("source")

        type_ = FieldMappingTransformationType(d.pop("type"))

        field_mapping_transformation = cls(
            destination=destination,
            source=source,
            type_=type_,
        )

        return field_mapping_transformation
