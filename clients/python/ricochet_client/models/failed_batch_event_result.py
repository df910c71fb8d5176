from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.failed_batch_event_result_outcome import FailedBatchEventResultOutcome

if TYPE_CHECKING:
    from ..models.problem import Problem


T = TypeVar("T", bound="FailedBatchEventResult")


@_attrs_define
class FailedBatchEventResult:
    """Not stored: the problem `POST /api/v2/events` would have answered for this event alone
    (a 422 or 413 for an invalid event; a 5xx when it could not be stored).

        Attributes:
            outcome (FailedBatchEventResultOutcome):
            problem (Problem): An RFC 9457 problem document.
    """

    outcome: FailedBatchEventResultOutcome
    problem: Problem

    def to_dict(self) -> dict[str, Any]:
        outcome = self.outcome.value

        problem = self.problem.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "outcome": outcome,
                "problem": problem,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.problem import Problem  # noqa: PLC0415

        d = dict(src_dict)
        outcome = FailedBatchEventResultOutcome(d.pop("outcome"))

        problem = Problem.from_dict(d.pop("problem"))

        failed_batch_event_result = cls(
            outcome=outcome,
            problem=problem,
        )

        return failed_batch_event_result
