from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.basic_receiver_auth_type import BasicReceiverAuthType

T = TypeVar("T", bound="BasicReceiverAuth")


@_attrs_define
class BasicReceiverAuth:
    """`Authorization: Basic` with a username and a password.

    Attributes:
        password (str): The password: a `{{secret:NAME}}` reference. Example: {{secret:crm_password}}.
        type_ (BasicReceiverAuthType):
        username (str): The username (literal, or a `{{secret:NAME}}`). Example: ricochet.
    """

    password: str
    type_: BasicReceiverAuthType
    username: str

    def to_dict(self) -> dict[str, Any]:
        password = self.password

        type_ = self.type_.value

        username = self.username

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "password": password,
                "type": type_,
                "username": username,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        password = d.pop("password")

        type_ = BasicReceiverAuthType(d.pop("type"))

        username = d.pop("username")

        basic_receiver_auth = cls(
            password=password,
            type_=type_,
            username=username,
        )

        return basic_receiver_auth
