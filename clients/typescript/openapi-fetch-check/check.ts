// A small, strictly type-checked use of an openapi-typescript 7 + openapi-fetch client generated
// from openapi/openapi.json (schema.d.ts, made by scripts/check-openapi, not checked in), so
// that the document stays good for the third common generator. Type-checked only.

import createClient from 'openapi-fetch';

import type { components, paths } from './schema';

type Problem = components['schemas']['Problem'];

export async function use(baseUrl: string, token: string): Promise<Problem | string> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

  const created = await api.POST('/api/v2/integrations', {
    body: {
      name: 'orders',
      settings: {
        url: 'https://example.test/hook',
        retryPolicy: { retryPolicyType: 'fixed', maxRetries: 3 },
        transformations: [{ type: 'set', path: 'source', value: { from: 'ricochet' } }],
      },
    },
  });
  if (created.error !== undefined) {
    return created.error;
  }
  const id: string = created.data.id;
  const retryDelay: number = created.data.settings.retryPolicy.retryDelay;

  const patched = await api.PATCH('/api/v2/integrations/{integrationId}', {
    params: { path: { integrationId: id }, header: { 'If-Match': `"${created.data.version}"` } },
    body: { enabled: false, settings: { bodyTemplate: null, headers: { 'X-Old': null } } },
  });
  if (patched.error !== undefined) {
    return patched.error;
  }

  const published = await api.POST('/api/v2/events', {
    body: { type: 'order.created', data: { queueName: 'billing', count: 2 } },
  });
  if (published.error !== undefined) {
    return published.error;
  }

  const logs = await api.GET('/api/v2/integrations/{integrationId}/logs', {
    params: { path: { integrationId: id }, query: { statusClass: '5xx', limit: 200 } },
  });
  if (logs.error !== undefined) {
    return logs.error;
  }
  const outcomes: Array<'succeeded' | 'failed'> = logs.data.data.map((a) => a.outcome);
  return `${retryDelay} ${outcomes.join(',')} ${published.data.eventId}`;
}
