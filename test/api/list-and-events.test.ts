// Listing with filters and cursors, and live updates over Server-Sent Events.
import { request as httpRequest } from 'node:http';
import t from 'tap';
import { createTenant } from '../../api/services/tenants.ts';
import { takeSseMessages } from '../helpers/sse.ts';
import { TEST_API_KEY, startStack } from '../helpers/stack.ts';

interface SseMessage {
  event: string;
  id: string;
  data: { status: string; history: unknown[] };
}

/** Reads an SSE stream until the server ends it (or the bound), returning parsed messages and comments. */
function readEvents(
  url: string,
  headers: Record<string, string>,
  onMessage?: (m: SseMessage) => void,
  timeoutMs = 30_000,
): Promise<{ status: number; messages: SseMessage[]; contentType: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      const messages: SseMessage[] = [];
      let buffer = '';
      const timer = setTimeout(() => req.destroy(new Error('SSE stream did not end in time')), timeoutMs);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const parsed = takeSseMessages(buffer + chunk);
        buffer = parsed.rest;
        for (const message of parsed.messages as SseMessage[]) {
          messages.push(message);
          onMessage?.(message);
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, messages, contentType: String(res.headers['content-type']) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('list and live events', async (t) => {
  const stack = await startStack(t);

  t.test('list: filters, newest first, cursor pages without gaps or repeats, tenant scoped', async (t) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: i % 2 ? 'odd' : 'even' })).body.id);
    const other = await createTenant(stack.database.db, 'list-other');
    await stack.request(
      'POST',
      '/v1/verifications',
      { provider: 'persona', reference: 'even' },
      { authorization: `Bearer ${other.apiKey}` },
    );

    const first = await stack.request('GET', '/v1/verifications?limit=2');
    t.equal(first.status, 200);
    t.equal(first.body.data.length, 2);
    t.type(first.body.nextCursor, 'string');
    t.notOk('history' in first.body.data[0], 'list items carry no history');
    const seen: string[] = first.body.data.map((v: { id: string }) => v.id);
    let cursor: string | null = first.body.nextCursor;
    while (cursor) {
      const page = await stack.request('GET', `/v1/verifications?limit=2&cursor=${cursor}`);
      seen.push(...page.body.data.map((v: { id: string }) => v.id));
      cursor = page.body.nextCursor;
    }
    t.same(seen, [...ids].reverse(), 'all five, newest first, once each; the other tenant’s is not there');
    const even = await stack.request('GET', '/v1/verifications?reference=even&provider=persona');
    t.equal(even.body.data.length, 3);
    const bad = await stack.request('GET', '/v1/verifications?cursor=garbage');
    t.equal(bad.status, 400);
    t.match(bad.body, { code: 'invalid_cursor' });
    const badStatus = await stack.request('GET', '/v1/verifications?status=done');
    t.equal(badStatus.status, 400);
  });

  t.test('events: every state in order, then the stream closes after the terminal status; Last-Event-ID resumes', async (t) => {
    const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
    const id = created.body.id;
    const url = `${stack.apiUrl}/v1/verifications/${id}/events`;
    const headers = { authorization: `Bearer ${TEST_API_KEY}` };
    let decided = false;
    const stream = await readEvents(url, headers, (message) => {
      if (decided) return;
      decided = true;
      const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
      void fetch(`${stack.sandboxUrl}/persona/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ 'inquiry-id': inquiryId, decision: 'declined' }),
      }).then((r) => r.text());
      t.equal(message.event, 'verification', 'first message is the current state');
    });
    t.equal(stream.status, 200);
    t.match(stream.contentType, /^text\/event-stream/);
    const statuses = stream.messages.map((m) => m.data.status);
    t.equal(statuses.at(-1), 'declined', 'ends with the terminal status');
    const ids = stream.messages.map((m) => m.id);
    const historyLengths = stream.messages.map((m) => m.data.history.length);
    t.same(
      historyLengths,
      [...historyLengths].sort((a, b) => a - b),
      'states arrive in order: the history only grows',
    );
    t.equal(new Set(ids).size, ids.length, 'no state sent twice');
    t.ok(
      stream.messages.every((m) => m.id.startsWith(`${m.data.history.length}-`)),
      'the id names the state: history length, then last update',
    );

    const resumed = await readEvents(url, { ...headers, 'last-event-id': String(ids.at(-1)) }, undefined, 5000);
    t.same(resumed.messages, [], 'nothing newer than Last-Event-ID; closes because the verification is decided');
    const fresh = await readEvents(url, headers, undefined, 5000);
    t.equal(fresh.messages.length, 1, 'a new subscriber gets the current state once');
  });

  t.test('events: unknown id is 404 problem+json, no stream', async (t) => {
    const res = await stack.app.inject({
      method: 'GET',
      url: '/v1/verifications/00000000-0000-4000-8000-000000000001/events',
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    t.equal(res.statusCode, 404);
    t.match(res.json(), { code: 'not_found' });
  });
});
