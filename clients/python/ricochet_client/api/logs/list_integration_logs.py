import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.attempt_list import AttemptList
from ...models.attempt_outcome import AttemptOutcome
from ...models.problem import Problem
from ...models.status_class import StatusClass
from ...types import UNSET, Response, Unset


def _get_kwargs(
    integration_id: UUID,
    *,
    status_code: int | Unset = UNSET,
    status_class: StatusClass | Unset = UNSET,
    outcome: AttemptOutcome | Unset = UNSET,
    event_id: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["statusCode"] = status_code

    json_status_class: str | Unset = UNSET
    if not isinstance(status_class, Unset):
        json_status_class = status_class.value

    params["statusClass"] = json_status_class

    json_outcome: str | Unset = UNSET
    if not isinstance(outcome, Unset):
        json_outcome = outcome.value

    params["outcome"] = json_outcome

    params["eventId"] = event_id

    json_from_: str | Unset = UNSET
    if not isinstance(from_, Unset):
        json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to: str | Unset = UNSET
    if not isinstance(to, Unset):
        json_to = to.isoformat()
    params["to"] = json_to

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v2/integrations/{integration_id}/logs".format(
            integration_id=quote(str(integration_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AttemptList | Problem | None:
    if response.status_code == 200:
        response_200 = AttemptList.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AttemptList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    integration_id: UUID,
    *,
    client: AuthenticatedClient,
    status_code: int | Unset = UNSET,
    status_class: StatusClass | Unset = UNSET,
    outcome: AttemptOutcome | Unset = UNSET,
    event_id: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[AttemptList | Problem]:
    """An integration's attempts, newest first. The log of a deleted integration stays readable.

    Args:
        integration_id (UUID):
        status_code (int | Unset):
        status_class (StatusClass | Unset): A class of status codes.
        outcome (AttemptOutcome | Unset): Whether an attempt succeeded.
        event_id (str | Unset):
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AttemptList | Problem]
    """

    kwargs = _get_kwargs(
        integration_id=integration_id,
        status_code=status_code,
        status_class=status_class,
        outcome=outcome,
        event_id=event_id,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    integration_id: UUID,
    *,
    client: AuthenticatedClient,
    status_code: int | Unset = UNSET,
    status_class: StatusClass | Unset = UNSET,
    outcome: AttemptOutcome | Unset = UNSET,
    event_id: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> AttemptList | Problem | None:
    """An integration's attempts, newest first. The log of a deleted integration stays readable.

    Args:
        integration_id (UUID):
        status_code (int | Unset):
        status_class (StatusClass | Unset): A class of status codes.
        outcome (AttemptOutcome | Unset): Whether an attempt succeeded.
        event_id (str | Unset):
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AttemptList | Problem
    """

    return sync_detailed(
        integration_id=integration_id,
        client=client,
        status_code=status_code,
        status_class=status_class,
        outcome=outcome,
        event_id=event_id,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    integration_id: UUID,
    *,
    client: AuthenticatedClient,
    status_code: int | Unset = UNSET,
    status_class: StatusClass | Unset = UNSET,
    outcome: AttemptOutcome | Unset = UNSET,
    event_id: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[AttemptList | Problem]:
    """An integration's attempts, newest first. The log of a deleted integration stays readable.

    Args:
        integration_id (UUID):
        status_code (int | Unset):
        status_class (StatusClass | Unset): A class of status codes.
        outcome (AttemptOutcome | Unset): Whether an attempt succeeded.
        event_id (str | Unset):
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AttemptList | Problem]
    """

    kwargs = _get_kwargs(
        integration_id=integration_id,
        status_code=status_code,
        status_class=status_class,
        outcome=outcome,
        event_id=event_id,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    integration_id: UUID,
    *,
    client: AuthenticatedClient,
    status_code: int | Unset = UNSET,
    status_class: StatusClass | Unset = UNSET,
    outcome: AttemptOutcome | Unset = UNSET,
    event_id: str | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> AttemptList | Problem | None:
    """An integration's attempts, newest first. The log of a deleted integration stays readable.

    Args:
        integration_id (UUID):
        status_code (int | Unset):
        status_class (StatusClass | Unset): A class of status codes.
        outcome (AttemptOutcome | Unset): Whether an attempt succeeded.
        event_id (str | Unset):
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AttemptList | Problem
    """

    return (
        await asyncio_detailed(
            integration_id=integration_id,
            client=client,
            status_code=status_code,
            status_class=status_class,
            outcome=outcome,
            event_id=event_id,
            from_=from_,
            to=to,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
