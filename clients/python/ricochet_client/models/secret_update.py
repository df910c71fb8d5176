from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SecretUpdate")


@_attrs_define
class SecretUpdate:
    """A new value for a secret.

    Attributes:
        value (str): The new value. Write-only.
        description (None | str | Unset): A new description; unchanged when absent.
    """

    value: str
    description: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        value = self.value

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "value": value,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        value = d.pop("value")

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        secret_update = cls(
            value=value,
            description=description,
        )

        return secret_update
