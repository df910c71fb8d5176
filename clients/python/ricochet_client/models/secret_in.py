from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SecretIn")


@_attrs_define
class SecretIn:
    """A secret to create.

    Attributes:
        name (str): Name, unique in the tenant: 1 to 64 letters, digits, `_`, `-` or `.`. Example: crm_api_token.
        value (str): The value. Write-only: no response ever contains it. No line breaks, except in PEM text
            (a certificate or key for `settings.tls`).
        description (str | Unset): What it is for.
    """

    name: str
    value: str
    description: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        value = self.value

        description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "value": value,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        value = d.pop("value")

        description = d.pop("description", UNSET)

        secret_in = cls(
            name=name,
            value=value,
            description=description,
        )

        return secret_in
