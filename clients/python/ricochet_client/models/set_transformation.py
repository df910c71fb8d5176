from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.set_transformation_type import SetTransformationType

T = TypeVar("T", bound="SetTransformation")


@_attrs_define
class SetTransformation:
    """Set the field at `path` of the body to a fixed JSON value.

    Attributes:
        path (str): Dotted path in the body.
        type_ (SetTransformationType):
        value (Any): The value: any JSON value.
    """

    path: str
    type_: SetTransformationType
    value: Any

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        type_ = self.type_.value

        value = self.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "path": path,
                "type": type_,
                "value": value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        path = d.pop("path")

        type_ = SetTransformationType(d.pop("type"))

        value = d.pop("value")

        set_transformation = cls(
            path=path,
            type_=type_,
            value=value,
        )

        return set_transformation
