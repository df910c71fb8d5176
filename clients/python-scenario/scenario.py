"""The Python client's scenario against a real Ricochet server.

Run by `crates/server/tests/binary/clients.rs` with RICOCHET_URL, RICOCHET_ADMIN_KEY and
RICOCHET_GUIDE_INTEGRATION (the guide's integration as JSON) set; type-checked with
`mypy --strict`. It starts a loopback receiver of its own and exits non-zero on the first
check that fails, saying which.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

from ricochet_client import AuthenticatedClient, Client
from ricochet_client.api.auth import issue_token
from ricochet_client.api.dead_letters import list_dead_letters, replay_dead_letter
from ricochet_client.api.event_bindings import create_event_bindings
from ricochet_client.api.events import publish_event, publish_events_batch
from ricochet_client.api.integrations import (
    create_integration,
    delete_integration,
    get_integration,
    list_integrations,
    patch_integration,
    preview_integration,
)
from ricochet_client.api.logs import get_delivery, list_integration_logs
from ricochet_client.api.secrets import create_secret, update_secret
from ricochet_client.api.tenants import create_api_client, create_tenant
from ricochet_client.models import (
    ApiClientCreated,
    ApiClientIn,
    AttemptList,
    AttemptOutcome,
    BatchPublishedOut,
    BindingList,
    BindingsIn,
    CreatedBatchEventResult,
    DeadLetterList,
    DeliveryOut,
    DeliveryStatus,
    DuplicateBatchEventResult,
    EventIn,
    EventInData,
    EventsBatchIn,
    FailedBatchEventResult,
    GrantType,
    IntegrationIn,
    IntegrationList,
    IntegrationOut,
    IntegrationPatch,
    IntegrationSettingsPatch,
    Permission,
    PreviewOut,
    Problem,
    PublishedOut,
    ReplayedOut,
    RetryPolicyPatch,
    RetryPolicyType,
    SecretIn,
    SecretOut,
    SecretUpdate,
    TenantIn,
    TenantOut,
    TokenForm,
    TokenResponse,
)
from ricochet_client.types import Response

T = TypeVar("T")
U = TypeVar("U")
DEADLINE_SECONDS = 60.0


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}", flush=True)


def expect(value: object, kind: type[T], what: str) -> T:
    """`value` narrowed to `kind`, or the scenario fails saying what it got instead."""
    if not isinstance(value, kind):
        raise SystemExit(f"FAILED: {what}: expected {kind.__name__}, got {value!r}")
    return value


def parsed(response: Response[U], kind: type[T], what: str) -> T:
    return expect(response.parsed, kind, f"{what} (HTTP {response.status_code})")


def wait_for(what: str, probe: Callable[[], T | None]) -> T:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.1)
    raise SystemExit(f"FAILED: timed out waiting for {what}")


class Receiver:
    """A loopback HTTP receiver: `/flaky` fails twice then accepts, `/gated` refuses with 401
    until opened, anything else accepts. It keeps every request's path and headers."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.flaky_failures_left = 2
        self.gated_open = False
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                    status = 200
                    if self.path == "/flaky" and receiver.flaky_failures_left > 0:
                        receiver.flaky_failures_left -= 1
                        status = 500
                    elif self.path == "/gated" and not receiver.gated_open:
                        status = 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def seen(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [headers for p, headers in self.requests if p == path]


def main() -> None:
    base_url = os.environ["RICOCHET_URL"]
    admin = AuthenticatedClient(base_url, token=os.environ["RICOCHET_ADMIN_KEY"], raise_on_unexpected_status=True)
    with open(os.environ["RICOCHET_GUIDE_INTEGRATION"], encoding="utf-8") as file:
        guide = IntegrationIn.from_dict(json.load(file))
    receiver = Receiver()
    suffix = uuid.uuid4().hex[:8]

    # The platform admin creates a tenant and an API client for it.
    tenant_response = create_tenant.sync_detailed(client=admin, body=TenantIn(name=f"py-{suffix}"))
    tenant = parsed(tenant_response, TenantOut, "create a tenant")
    check(tenant_response.headers.get("etag") == f'"{tenant.version}"', "a tenant carries its version as ETag")
    created = parsed(
        create_api_client.sync_detailed(tenant.id, client=admin, body=ApiClientIn(name="python-scenario")),
        ApiClientCreated,
        "create an API client",
    )
    check(Permission.INTEGRATION_EDIT in created.permissions, "a client made without permissions gets every one")

    # The client exchanges its id and secret for a token (form body, client credentials).
    anonymous = Client(base_url, raise_on_unexpected_status=True)
    token = expect(
        issue_token.sync(
            client=anonymous,
            body=TokenForm(
                grant_type=GrantType.CLIENT_CREDENTIALS,
                client_id=created.client_id,
                client_secret=created.client_secret,
            ),
        ),
        TokenResponse,
        "get a token",
    )
    check(token.token_type == "Bearer" and token.expires_in > 0, "the token is a bearer token that expires")
    api = AuthenticatedClient(base_url, token=token.access_token, raise_on_unexpected_status=True)

    # A secret, then the guide's integration verbatim, which references it.
    secret = create_secret.sync_detailed(
        client=api, body=SecretIn(name="crm_api_token", value="crm-v1", description="CRM token")
    )
    check(parsed(secret, SecretOut, "create a secret").version == 1, "a new secret is version 1")
    check(secret.headers.get("etag") == '"1"', "a secret carries its version as ETag")
    guide_out = parsed(create_integration.sync_detailed(client=api, body=guide), IntegrationOut, "create the guide's integration")
    check(guide_out.settings.retry_policy.max_retries == 5, "the guide's retry policy is kept")
    check(guide_out.settings.retry_policy.multiplier == 2.0, "defaults are filled in on output")

    # Get, merge patch (with If-Match from the ETag), list with paging.
    got = get_integration.sync_detailed(guide_out.id, client=api)
    etag = got.headers.get("etag", "")
    check(parsed(got, IntegrationOut, "get the integration").name == guide.name, "get returns the integration")
    patch = IntegrationPatch(
        settings=IntegrationSettingsPatch(
            retry_policy=RetryPolicyPatch(max_retries=3, retry_policy_type=RetryPolicyType.LINEAR),
            body_template=None,
        )
    )
    patched = parsed(
        patch_integration.sync_detailed(guide_out.id, client=api, body=patch, if_match=etag),
        IntegrationOut,
        "merge-patch the integration",
    )
    check(patched.settings.retry_policy.max_retries == 3, "the patch changed maxRetries")
    check(patched.settings.retry_policy.retry_delay == 1000, "the patch left retryDelay alone")
    check(patched.version == guide_out.version + 1, "the patch made a new version")
    stale = patch_integration.sync_detailed(guide_out.id, client=api, body=IntegrationPatch(enabled=False), if_match=etag)
    check(parsed(stale, Problem, "a stale If-Match").status == 412, "a stale If-Match is a typed 412 problem")

    def target(name: str, path: str) -> IntegrationIn:
        return IntegrationIn.from_dict(
            {
                "name": name,
                "settings": {
                    "url": f"{receiver.base}{path}",
                    "headers": {"Authorization": "Bearer {{secret:rx_token}}"},
                    "retryPolicy": {"retryPolicyType": "fixed", "retryDelay": 50, "maxRetries": 3, "jitter": False},
                },
            }
        )

    parsed(create_secret.sync_detailed(client=api, body=SecretIn(name="rx_token", value="rx-v1")), SecretOut, "rx secret")
    flaky = parsed(create_integration.sync_detailed(client=api, body=target("flaky", "/flaky")), IntegrationOut, "flaky")
    gated = parsed(create_integration.sync_detailed(client=api, body=target("gated", "/gated")), IntegrationOut, "gated")

    first = parsed(list_integrations.sync_detailed(client=api, limit=2), IntegrationList, "list page 1")
    check(len(first.data) == 2 and isinstance(first.next_cursor, str), "a full page has a next cursor")
    cursor = first.next_cursor if isinstance(first.next_cursor, str) else ""
    second = parsed(list_integrations.sync_detailed(client=api, limit=2, cursor=cursor), IntegrationList, "page 2")
    check([i.id for i in second.data] == [gated.id] and second.next_cursor is None, "the last page has the rest")

    # Bindings.
    bindings = parsed(
        create_event_bindings.sync_detailed(flaky.id, client=api, body=BindingsIn(events=["order.*"])),
        BindingList,
        "bind flaky",
    )
    check(bindings.data[0].event_type == "order.*", "a binding takes a family")
    parsed(
        create_event_bindings.sync_detailed(gated.id, client=api, body=BindingsIn(events=["invoice.paid"])),
        BindingList,
        "bind gated",
    )

    # Publish a batch (to a type nothing is bound to): each event answered in order, the
    # invalid one refused alone with the single publish's problem.
    batch_id = f"batch-{uuid.uuid4()}"
    batch = parsed(
        publish_events_batch.sync_detailed(
            client=api,
            body=EventsBatchIn(
                events=[
                    EventIn(type_="nobody.listens", id=batch_id, data=EventInData()),
                    EventIn(type_="not a type", data=EventInData()),
                    EventIn(type_="nobody.listens", id=batch_id, data=EventInData()),
                ]
            ),
        ),
        BatchPublishedOut,
        "publish a batch",
    )
    check(
        [type(r) for r in batch.results]
        == [CreatedBatchEventResult, FailedBatchEventResult, DuplicateBatchEventResult],
        "a batch answers each event in order: created, failed, duplicate",
    )
    refused = batch.results[1]
    check(
        isinstance(refused, FailedBatchEventResult) and refused.problem.status == 422,
        "the invalid event of a batch carries its 422 problem",
    )

    # Publish to a receiver that fails twice: three attempts, the delivery succeeds.
    published = parsed(
        publish_event.sync_detailed(
            client=api, body=EventIn(type_="order.created", data=EventInData.from_dict({"orderId": 42}))
        ),
        PublishedOut,
        "publish",
    )
    check(len(published.deliveries) == 1, "the event reaches the one bound integration")
    delivery_id = published.deliveries[0].delivery_id

    def succeeded() -> DeliveryOut | None:
        delivery = parsed(get_delivery.sync_detailed(delivery_id, client=api), DeliveryOut, "get the delivery")
        return delivery if delivery.status == DeliveryStatus.SUCCEEDED else None

    delivery = wait_for("the flaky delivery to succeed", succeeded)
    check([a.status_code for a in delivery.attempts] == [500, 500, 200], "the delivery has its three attempts")
    check(delivery.attempts[0].outcome == AttemptOutcome.FAILED, "attempt outcomes are an enum")
    failures = parsed(
        list_integration_logs.sync_detailed(flaky.id, client=api, status_code=500), AttemptList, "logs by status"
    )
    check(len(failures.data) == 2, "the log filtered by status code 500 holds the two failures")
    check(receiver.seen("/flaky")[0].get("authorization") == "Bearer rx-v1", "the receiver got the secret's value")

    # A 401 dead-letters at once; opened, its replay succeeds.
    dead_event = parsed(
        publish_event.sync_detailed(client=api, body=EventIn(type_="invoice.paid", data=EventInData())),
        PublishedOut,
        "publish to gated",
    )
    dead_id = dead_event.deliveries[0].delivery_id

    def dead_lettered() -> DeadLetterList | None:
        page = parsed(
            list_dead_letters.sync_detailed(client=api, integration_id=gated.id), DeadLetterList, "dead letters"
        )
        return page if page.data else None

    dead = wait_for("the gated delivery to be dead-lettered", dead_lettered)
    check(dead.data[0].reason == "non_retryable_status:401", "the dead letter says why")
    receiver.gated_open = True
    replayed = parsed(replay_dead_letter.sync_detailed(dead_id, client=api), ReplayedOut, "replay")
    check(replayed.delivery_id == dead_id, "the replay names the delivery")

    def replay_succeeded() -> DeliveryOut | None:
        delivery = parsed(get_delivery.sync_detailed(dead_id, client=api), DeliveryOut, "get the replayed delivery")
        return delivery if delivery.status == DeliveryStatus.SUCCEEDED else None

    check(wait_for("the replay to succeed", replay_succeeded).replay_count == 1, "the replayed delivery succeeded")

    # Errors are typed problems.
    missing = get_integration.sync_detailed(uuid.uuid4(), client=api)
    check(parsed(missing, Problem, "a missing integration").status == 404, "a 404 is a typed problem")
    taken = create_integration.sync_detailed(client=api, body=guide)
    check(parsed(taken, Problem, "a taken name").status == 409, "a 409 is a typed problem")
    invalid = IntegrationIn.from_dict({"name": "bad", "settings": {"url": "ftp://x", "retryPolicy": {"maxRetries": 99}}})
    problem = parsed(create_integration.sync_detailed(client=api, body=invalid), Problem, "invalid fields")
    fields = sorted(e.field for e in problem.errors) if isinstance(problem.errors, list) else []
    check(problem.status == 422 and "settings.retryPolicy.maxRetries" in fields, "a 422 names each invalid field")

    # Preview shows the request without the secret's value.
    preview = parsed(
        preview_integration.sync_detailed(
            flaky.id, client=api, body=EventIn(type_="order.created", data=EventInData.from_dict({"orderId": 1}))
        ),
        PreviewOut,
        "preview",
    )
    check(preview.url == f"{receiver.base}/flaky", "the preview has the URL")
    check(preview.headers["Authorization"] == "Bearer {{secret:rx_token}}", "the preview hides the secret")

    # Rotation: the next delivery sends the new value.
    rotated = update_secret.sync_detailed("rx_token", client=api, body=SecretUpdate(value="rx-v2"), if_match='"1"')
    check(parsed(rotated, SecretOut, "rotate").version == 2, "rotation makes version 2")
    parsed(
        publish_event.sync_detailed(client=api, body=EventIn(type_="order.updated", data=EventInData())),
        PublishedOut,
        "publish after rotation",
    )
    wait_for(
        "the receiver to see the rotated secret",
        lambda: True if any(h.get("authorization") == "Bearer rx-v2" for h in receiver.seen("/flaky")) else None,
    )
    check(True, "the receiver saw the rotated secret")

    # Delete.
    deleted = delete_integration.sync_detailed(guide_out.id, client=api)
    check(deleted.status_code == 204, "delete answers 204")
    gone = get_integration.sync_detailed(guide_out.id, client=api)
    check(parsed(gone, Problem, "deleted").status == 404, "a deleted integration is gone")
    print("python scenario passed", flush=True)


if __name__ == "__main__":
    main()
