from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.batch_published_out import BatchPublishedOut
from ...models.events_batch_in import EventsBatchIn
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: EventsBatchIn,
    traceparent: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(traceparent, Unset):
        headers["traceparent"] = traceparent

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/events/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BatchPublishedOut | Problem | None:
    if response.status_code == 200:
        response_200 = BatchPublishedOut.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[BatchPublishedOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: EventsBatchIn,
    traceparent: str | Unset = UNSET,
) -> Response[BatchPublishedOut | Problem]:
    """Publish up to 1,000 events. Each is checked, stored and made idempotent by id exactly as by
    `POST /api/v2/events`, and every stored one is durable when this answers. One result per
    event, in order: `created`, `duplicate` (an id published before, or earlier in this batch)
    or `failed` with the problem the single publish would have answered; an invalid event writes
    nothing and does not fail the others. Events without an id get a generated one.

    Args:
        traceparent (str | Unset):
        body (EventsBatchIn): Events to publish together.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchPublishedOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        traceparent=traceparent,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: EventsBatchIn,
    traceparent: str | Unset = UNSET,
) -> BatchPublishedOut | Problem | None:
    """Publish up to 1,000 events. Each is checked, stored and made idempotent by id exactly as by
    `POST /api/v2/events`, and every stored one is durable when this answers. One result per
    event, in order: `created`, `duplicate` (an id published before, or earlier in this batch)
    or `failed` with the problem the single publish would have answered; an invalid event writes
    nothing and does not fail the others. Events without an id get a generated one.

    Args:
        traceparent (str | Unset):
        body (EventsBatchIn): Events to publish together.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchPublishedOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        traceparent=traceparent,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: EventsBatchIn,
    traceparent: str | Unset = UNSET,
) -> Response[BatchPublishedOut | Problem]:
    """Publish up to 1,000 events. Each is checked, stored and made idempotent by id exactly as by
    `POST /api/v2/events`, and every stored one is durable when this answers. One result per
    event, in order: `created`, `duplicate` (an id published before, or earlier in this batch)
    or `failed` with the problem the single publish would have answered; an invalid event writes
    nothing and does not fail the others. Events without an id get a generated one.

    Args:
        traceparent (str | Unset):
        body (EventsBatchIn): Events to publish together.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchPublishedOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        traceparent=traceparent,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: EventsBatchIn,
    traceparent: str | Unset = UNSET,
) -> BatchPublishedOut | Problem | None:
    """Publish up to 1,000 events. Each is checked, stored and made idempotent by id exactly as by
    `POST /api/v2/events`, and every stored one is durable when this answers. One result per
    event, in order: `created`, `duplicate` (an id published before, or earlier in this batch)
    or `failed` with the problem the single publish would have answered; an invalid event writes
    nothing and does not fail the others. Events without an id get a generated one.

    Args:
        traceparent (str | Unset):
        body (EventsBatchIn): Events to publish together.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchPublishedOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            traceparent=traceparent,
        )
    ).parsed
