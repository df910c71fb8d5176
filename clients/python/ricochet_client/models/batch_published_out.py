from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.created_batch_event_result import CreatedBatchEventResult
    from ..models.duplicate_batch_event_result import DuplicateBatchEventResult
    from ..models.failed_batch_event_result import FailedBatchEventResult


T = TypeVar("T", bound="BatchPublishedOut")


@_attrs_define
class BatchPublishedOut:
    """What publishing a batch did.

    Attributes:
        created (int): How many results are `created`.
        duplicates (int): How many results are `duplicate`.
        failed (int): How many results are `failed`.
        results (list[CreatedBatchEventResult | DuplicateBatchEventResult | FailedBatchEventResult]): One result per
            event of the request, in its order.
    """

    created: int
    duplicates: int
    failed: int
    results: list[CreatedBatchEventResult | DuplicateBatchEventResult | FailedBatchEventResult]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.created_batch_event_result import CreatedBatchEventResult  # noqa: PLC0415
        from ..models.duplicate_batch_event_result import DuplicateBatchEventResult  # noqa: PLC0415

        created = self.created

        duplicates = self.duplicates

        failed = self.failed

        results = []
        for results_item_data in self.results:
            results_item: dict[str, Any]
            if isinstance(results_item_data, CreatedBatchEventResult):
                results_item = results_item_data.to_dict()
            elif isinstance(results_item_data, DuplicateBatchEventResult):
                results_item = results_item_data.to_dict()
            else:
                results_item = results_item_data.to_dict()

            results.append(results_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created": created,
                "duplicates": duplicates,
                "failed": failed,
                "results": results,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.created_batch_event_result import CreatedBatchEventResult  # noqa: PLC0415
        from ..models.duplicate_batch_event_result import DuplicateBatchEventResult  # noqa: PLC0415
        from ..models.failed_batch_event_result import FailedBatchEventResult  # noqa: PLC0415

        d = dict(src_dict)
        created = d.pop("created")

        duplicates = d.pop("duplicates")

        failed = d.pop("failed")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:

            def _parse_results_item(
                data: object,
            ) -> CreatedBatchEventResult | DuplicateBatchEventResult | FailedBatchEventResult:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_batch_event_result_type_0 = CreatedBatchEventResult.from_dict(data)

                    return componentsschemas_batch_event_result_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_batch_event_result_type_1 = DuplicateBatchEventResult.from_dict(data)

                    return componentsschemas_batch_event_result_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_batch_event_result_type_2 = FailedBatchEventResult.from_dict(data)

                return componentsschemas_batch_event_result_type_2

            results_item = _parse_results_item(results_item_data)

            results.append(results_item)

        batch_published_out = cls(
            created=created,
            duplicates=duplicates,
            failed=failed,
            results=results,
        )

        batch_published_out.additional_properties = d
        return batch_published_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
