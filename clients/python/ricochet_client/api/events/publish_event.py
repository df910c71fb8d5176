from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.event_in import EventIn
from ...models.problem import Problem
from ...models.published_out import PublishedOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: EventIn,
    traceparent: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(traceparent, Unset):
        headers["traceparent"] = traceparent

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/events",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | PublishedOut | None:
    if response.status_code == 200:
        response_200 = PublishedOut.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = PublishedOut.from_dict(response.json())

        return response_202

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
) -> Response[Problem | PublishedOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: EventIn,
    traceparent: str | Unset = UNSET,
) -> Response[Problem | PublishedOut]:
    """Publish an event. It is stored with one delivery per enabled integration bound to its type
    in one transaction: a 202 means it will be delivered. Publishing an `id` again answers 200
    with the original deliveries and makes no new ones.

    Args:
        traceparent (str | Unset):
        body (EventIn): An event as a client publishes it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | PublishedOut]
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
    body: EventIn,
    traceparent: str | Unset = UNSET,
) -> Problem | PublishedOut | None:
    """Publish an event. It is stored with one delivery per enabled integration bound to its type
    in one transaction: a 202 means it will be delivered. Publishing an `id` again answers 200
    with the original deliveries and makes no new ones.

    Args:
        traceparent (str | Unset):
        body (EventIn): An event as a client publishes it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | PublishedOut
    """

    return sync_detailed(
        client=client,
        body=body,
        traceparent=traceparent,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: EventIn,
    traceparent: str | Unset = UNSET,
) -> Response[Problem | PublishedOut]:
    """Publish an event. It is stored with one delivery per enabled integration bound to its type
    in one transaction: a 202 means it will be delivered. Publishing an `id` again answers 200
    with the original deliveries and makes no new ones.

    Args:
        traceparent (str | Unset):
        body (EventIn): An event as a client publishes it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | PublishedOut]
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
    body: EventIn,
    traceparent: str | Unset = UNSET,
) -> Problem | PublishedOut | None:
    """Publish an event. It is stored with one delivery per enabled integration bound to its type
    in one transaction: a 202 means it will be delivered. Publishing an `id` again answers 200
    with the original deliveries and makes no new ones.

    Args:
        traceparent (str | Unset):
        body (EventIn): An event as a client publishes it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | PublishedOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            traceparent=traceparent,
        )
    ).parsed
