// The TypeScript client's scenario against a real Ricochet server.
//
// Run by crates/server/tests/binary/clients.rs with RICOCHET_URL, RICOCHET_ADMIN_KEY and
// RICOCHET_GUIDE_INTEGRATION (the guide's integration as JSON) set; compiled with `tsc --strict`
// and no casts. It starts a loopback receiver of its own and exits non-zero on the first check
// that fails, saying which.

import { deepStrictEqual } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createClient, createConfig } from '../index';
import {
  createApiClient,
  createEventBindings,
  createIntegration,
  createSecret,
  createTenant,
  deleteIntegration,
  getDelivery,
  getIntegration,
  issueToken,
  listDeadLetters,
  listIntegrationLogs,
  listIntegrations,
  patchIntegration,
  previewIntegration,
  publishEvent,
  publishEventsBatch,
  replayDeadLetter,
  updateSecret,
} from '../index';
import type { DeliveryOut, IntegrationIn, Problem } from '../index';

const DEADLINE_MS = 60_000;

function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(`FAILED: ${what}`);
  }
  console.log(`ok: ${what}`);
}

interface Result<D, E> {
  data?: D;
  error?: E;
  response: Response;
}

/** The body of a successful call, or the scenario fails saying what came instead. */
function ok<D, E>(what: string, result: Result<D, E>): D {
  if (result.error !== undefined || result.data === undefined) {
    throw new Error(
      `FAILED: ${what}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`,
    );
  }
  return result.data;
}

/** The problem a failing call answered with. */
function problem<D>(what: string, result: Result<D, Problem>): Problem {
  if (result.error === undefined) {
    throw new Error(`FAILED: ${what}: expected a problem, got HTTP ${result.response.status}`);
  }
  return result.error;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() < deadline) {
    const found = await probe();
    if (found !== undefined) {
      return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`FAILED: timed out waiting for ${what}`);
}

/** A loopback receiver: `/flaky` fails twice then accepts, `/gated` refuses with 401 until
 * opened, anything else accepts. It keeps every request's path and headers. */
class Receiver {
  requests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  flakyFailuresLeft = 2;
  gatedOpen = false;
  private server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      this.requests.push({ path, headers: req.headers });
      let status = 200;
      if (path === '/flaky' && this.flakyFailuresLeft > 0) {
        this.flakyFailuresLeft -= 1;
        status = 500;
      } else if (path === '/gated' && !this.gatedOpen) {
        status = 401;
      }
      res.writeHead(status, { 'Content-Length': '0' }).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address: AddressInfo | string | null = this.server.address();
    if (address === null || typeof address === 'string') {
      throw new Error('the receiver has no port');
    }
    return `http://127.0.0.1:${address.port}`;
  }

  seen(path: string): IncomingHttpHeaders[] {
    return this.requests.filter((r) => r.path === path).map((r) => r.headers);
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }
}

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

// The guide's integration, as the guide writes it; checked below to equal the guide's file.
const guide: IntegrationIn = {
  name: 'CRM-Sync-Webhook-Resilient',
  type: 'webhook',
  enabled: true,
  settings: {
    url: 'https://api.your-crm.com/v1/genesys-events',
    httpMethod: 'POST',
    contentType: 'application/json',
    headers: {
      Authorization: 'Bearer {{secret:crm_api_token}}',
      'X-Genesys-Event-Id': '{{eventId}}',
    },
    retryPolicy: {
      maxRetries: 5,
      retryDelay: 1000,
      retryPolicyType: 'exponential',
      jitter: true,
    },
  },
};

async function main(): Promise<void> {
  const baseUrl = env('RICOCHET_URL');
  const fromFile: unknown = JSON.parse(readFileSync(env('RICOCHET_GUIDE_INTEGRATION'), 'utf8'));
  deepStrictEqual(guide, fromFile, "the scenario's guide integration is the guide's, verbatim");
  const receiver = new Receiver();
  const receiverBase = await receiver.start();
  const suffix = randomUUID().slice(0, 8);

  try {
    // The platform admin creates a tenant and an API client for it.
    const admin = createClient(createConfig({ baseUrl, auth: env('RICOCHET_ADMIN_KEY') }));
    const tenant = ok('create a tenant', await createTenant({ client: admin, body: { name: `ts-${suffix}` } }));
    const created = ok(
      'create an API client',
      await createApiClient({ client: admin, path: { tenantId: tenant.id }, body: { name: 'ts-scenario' } }),
    );
    check(created.permissions.includes('integration:edit'), 'a client made without permissions gets every one');

    // The client exchanges its id and secret for a token (form body, client credentials).
    const anonymous = createClient(createConfig({ baseUrl }));
    const token = ok(
      'get a token',
      await issueToken({
        client: anonymous,
        body: { grant_type: 'client_credentials', client_id: created.clientId, client_secret: created.clientSecret },
      }),
    );
    check(token.token_type === 'Bearer' && token.expires_in > 0, 'the token is a bearer token that expires');
    const client = createClient(createConfig({ baseUrl, auth: token.access_token }));

    // A secret, then the guide's integration verbatim, which references it.
    const secret = await createSecret({ client, body: { name: 'crm_api_token', value: 'crm-v1', description: 'CRM token' } });
    check(ok('create a secret', secret).version === 1, 'a new secret is version 1');
    check(secret.response.headers.get('etag') === '"1"', 'a secret carries its version as ETag');
    const guideOut = ok("create the guide's integration", await createIntegration({ client, body: guide }));
    check(guideOut.settings.retryPolicy.maxRetries === 5, "the guide's retry policy is kept");
    check(guideOut.settings.retryPolicy.multiplier === 2, 'defaults are filled in on output');

    // Get, merge patch (with If-Match from the ETag), list with paging.
    const got = await getIntegration({ client, path: { integrationId: guideOut.id } });
    const etag = got.response.headers.get('etag') ?? '';
    check(ok('get the integration', got).name === guide.name, 'get returns the integration');
    const patched = ok(
      'merge-patch the integration',
      await patchIntegration({
        client,
        path: { integrationId: guideOut.id },
        headers: { 'If-Match': etag },
        body: { settings: { retryPolicy: { maxRetries: 3, retryPolicyType: 'linear' }, bodyTemplate: null } },
      }),
    );
    check(patched.settings.retryPolicy.maxRetries === 3, 'the patch changed maxRetries');
    check(patched.settings.retryPolicy.retryDelay === 1000, 'the patch left retryDelay alone');
    check(patched.version === guideOut.version + 1, 'the patch made a new version');
    const stale = await patchIntegration({
      client,
      path: { integrationId: guideOut.id },
      headers: { 'If-Match': etag },
      body: { enabled: false },
    });
    check(problem('a stale If-Match', stale).status === 412, 'a stale If-Match is a typed 412 problem');

    const target = (name: string, path: string): IntegrationIn => ({
      name,
      settings: {
        url: `${receiverBase}${path}`,
        headers: { Authorization: 'Bearer {{secret:rx_token}}' },
        retryPolicy: { retryPolicyType: 'fixed', retryDelay: 50, maxRetries: 3, jitter: false },
      },
    });
    ok('rx secret', await createSecret({ client, body: { name: 'rx_token', value: 'rx-v1' } }));
    const flaky = ok('flaky', await createIntegration({ client, body: target('flaky', '/flaky') }));
    const gated = ok('gated', await createIntegration({ client, body: target('gated', '/gated') }));

    const first = ok('list page 1', await listIntegrations({ client, query: { limit: 2 } }));
    check(first.data.length === 2 && typeof first.nextCursor === 'string', 'a full page has a next cursor');
    const second = ok(
      'list page 2',
      await listIntegrations({ client, query: { limit: 2, cursor: first.nextCursor ?? '' } }),
    );
    check(
      second.data.length === 1 && second.data[0]?.id === gated.id && second.nextCursor == null,
      'the last page has the rest',
    );

    // Bindings.
    const bindings = ok(
      'bind flaky',
      await createEventBindings({ client, path: { integrationId: flaky.id }, body: { events: ['order.*'] } }),
    );
    check(bindings.data[0]?.eventType === 'order.*', 'a binding takes a family');
    ok('bind gated', await createEventBindings({ client, path: { integrationId: gated.id }, body: { events: ['invoice.paid'] } }));

    // Publish a batch (to a type nothing is bound to): each event answered in order, the
    // invalid one refused alone with the single publish's problem.
    const batchId = `batch-${randomUUID()}`;
    const batch = ok(
      'publish a batch',
      await publishEventsBatch({
        client,
        body: {
          events: [
            { type: 'nobody.listens', id: batchId, data: {} },
            { type: 'not a type', data: {} },
            { type: 'nobody.listens', id: batchId, data: {} },
          ],
        },
      }),
    );
    deepStrictEqual(
      batch.results.map((r) => r.outcome),
      ['created', 'failed', 'duplicate'],
      'a batch answers each event in order',
    );
    const refused = batch.results[1];
    check(
      refused?.outcome === 'failed' && refused.problem.status === 422,
      'the invalid event of a batch carries its 422 problem',
    );

    // Publish to a receiver that fails twice: three attempts, the delivery succeeds.
    const published = ok(
      'publish',
      await publishEvent({ client, body: { type: 'order.created', data: { orderId: 42 } } }),
    );
    check(published.deliveries.length === 1, 'the event reaches the one bound integration');
    const deliveryId = published.deliveries[0]?.deliveryId ?? '';
    const succeeded = (id: string) => async (): Promise<DeliveryOut | undefined> => {
      const delivery = ok('get the delivery', await getDelivery({ client, path: { deliveryId: id } }));
      return delivery.status === 'succeeded' ? delivery : undefined;
    };
    const delivery = await waitFor('the flaky delivery to succeed', succeeded(deliveryId));
    check(
      JSON.stringify(delivery.attempts.map((a) => a.statusCode)) === '[500,500,200]',
      'the delivery has its three attempts',
    );
    check(delivery.attempts[0]?.outcome === 'failed', 'attempt outcomes are an enum');
    const failures = ok(
      'logs by status',
      await listIntegrationLogs({ client, path: { integrationId: flaky.id }, query: { statusCode: 500 } }),
    );
    check(failures.data.length === 2, 'the log filtered by status code 500 holds the two failures');
    check(receiver.seen('/flaky')[0]?.authorization === 'Bearer rx-v1', "the receiver got the secret's value");

    // A 401 dead-letters at once; opened, its replay succeeds.
    const deadEvent = ok('publish to gated', await publishEvent({ client, body: { type: 'invoice.paid', data: {} } }));
    const deadId = deadEvent.deliveries[0]?.deliveryId ?? '';
    const dead = await waitFor('the gated delivery to be dead-lettered', async () => {
      const page = ok('dead letters', await listDeadLetters({ client, query: { integrationId: gated.id } }));
      return page.data.length > 0 ? page : undefined;
    });
    check(dead.data[0]?.reason === 'non_retryable_status:401', 'the dead letter says why');
    receiver.gatedOpen = true;
    const replayed = ok('replay', await replayDeadLetter({ client, path: { deliveryId: deadId } }));
    check(replayed.deliveryId === deadId, 'the replay names the delivery');
    const afterReplay = await waitFor('the replay to succeed', succeeded(deadId));
    check(afterReplay.replayCount === 1, 'the replayed delivery succeeded');

    // Errors are typed problems.
    const missing = await getIntegration({ client, path: { integrationId: randomUUID() } });
    check(problem('a missing integration', missing).status === 404, 'a 404 is a typed problem');
    const taken = await createIntegration({ client, body: guide });
    check(problem('a taken name', taken).status === 409, 'a 409 is a typed problem');
    const invalid = problem(
      'invalid fields',
      await createIntegration({
        client,
        body: { name: 'bad', settings: { url: 'ftp://x', retryPolicy: { maxRetries: 99 } } },
      }),
    );
    const fields = (invalid.errors ?? []).map((e) => e.field);
    check(invalid.status === 422 && fields.includes('settings.retryPolicy.maxRetries'), 'a 422 names each invalid field');

    // Preview shows the request without the secret's value.
    const preview = ok(
      'preview',
      await previewIntegration({
        client,
        path: { integrationId: flaky.id },
        body: { type: 'order.created', data: { orderId: 1 } },
      }),
    );
    check(preview.url === `${receiverBase}/flaky`, 'the preview has the URL');
    check(preview.headers['Authorization'] === 'Bearer {{secret:rx_token}}', 'the preview hides the secret');

    // Rotation: the next delivery sends the new value.
    const rotated = ok(
      'rotate',
      await updateSecret({ client, path: { name: 'rx_token' }, headers: { 'If-Match': '"1"' }, body: { value: 'rx-v2' } }),
    );
    check(rotated.version === 2, 'rotation makes version 2');
    ok('publish after rotation', await publishEvent({ client, body: { type: 'order.updated', data: {} } }));
    await waitFor('the receiver to see the rotated secret', async () =>
      receiver.seen('/flaky').some((h) => h.authorization === 'Bearer rx-v2') ? true : undefined,
    );
    check(true, 'the receiver saw the rotated secret');

    // Delete.
    const deleted = await deleteIntegration({ client, path: { integrationId: guideOut.id } });
    check(deleted.response.status === 204, 'delete answers 204');
    const gone = await getIntegration({ client, path: { integrationId: guideOut.id } });
    check(problem('deleted', gone).status === 404, 'a deleted integration is gone');
    console.log('typescript scenario passed');
  } finally {
    receiver.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
