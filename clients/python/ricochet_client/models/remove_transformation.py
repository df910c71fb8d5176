from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.remove_transformation_type import RemoveTransformationType

T = TypeVar("T", bound="RemoveTransformation")


@_attrs_define
class RemoveTransformation:
    """Remove the field at `path` from the body.

    Attributes:
        path (str): Dotted path in the body.
        type_ (RemoveTransformationType):
    """

    path: str
    type_: RemoveTransformationType

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "path": path,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        path = d.pop("path")

        type_ = RemoveTransformationType(d.pop("type"))

        remove_transformation = cls(
            path=path,
            type_=type_,
        )

        return remove_transformation
