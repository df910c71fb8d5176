from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.signing_secret_out import SigningSecretOut
from ...models.signing_secret_rotation import SigningSecretRotation
from ...types import UNSET, Response, Unset


def _get_kwargs(
    integration_id: UUID,
    *,
    body: None | SigningSecretRotation | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/integrations/{integration_id}/signing-secret/rotate".format(
            integration_id=quote(str(integration_id), safe=""),
        ),
    }

    if isinstance(body, SigningSecretRotation):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | SigningSecretOut | None:
    if response.status_code == 200:
        response_200 = SigningSecretOut.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | SigningSecretOut]:
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
    body: None | SigningSecretRotation | Unset = UNSET,
) -> Response[Problem | SigningSecretOut]:
    """Rotate an integration's signing secret: the new key signs at once; the replaced one keeps
    signing alongside it for the grace period. Without `key` or `scheme`, every kind of key the
    integration signs with is rotated.

    Args:
        integration_id (UUID):
        body (None | SigningSecretRotation | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SigningSecretOut]
    """

    kwargs = _get_kwargs(
        integration_id=integration_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    integration_id: UUID,
    *,
    client: AuthenticatedClient,
    body: None | SigningSecretRotation | Unset = UNSET,
) -> Problem | SigningSecretOut | None:
    """Rotate an integration's signing secret: the new key signs at once; the replaced one keeps
    signing alongside it for the grace period. Without `key` or `scheme`, every kind of key the
    integration signs with is rotated.

    Args:
        integration_id (UUID):
        body (None | SigningSecretRotation | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SigningSecretOut
    """

    return sync_detailed(
        integration_id=integration_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    integration_id: UUID,
    *,
    client: AuthenticatedClient,
    body: None | SigningSecretRotation | Unset = UNSET,
) -> Response[Problem | SigningSecretOut]:
    """Rotate an integration's signing secret: the new key signs at once; the replaced one keeps
    signing alongside it for the grace period. Without `key` or `scheme`, every kind of key the
    integration signs with is rotated.

    Args:
        integration_id (UUID):
        body (None | SigningSecretRotation | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SigningSecretOut]
    """

    kwargs = _get_kwargs(
        integration_id=integration_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    integration_id: UUID,
    *,
    client: AuthenticatedClient,
    body: None | SigningSecretRotation | Unset = UNSET,
) -> Problem | SigningSecretOut | None:
    """Rotate an integration's signing secret: the new key signs at once; the replaced one keeps
    signing alongside it for the grace period. Without `key` or `scheme`, every kind of key the
    integration signs with is rotated.

    Args:
        integration_id (UUID):
        body (None | SigningSecretRotation | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SigningSecretOut
    """

    return (
        await asyncio_detailed(
            integration_id=integration_id,
            client=client,
            body=body,
        )
    ).parsed
