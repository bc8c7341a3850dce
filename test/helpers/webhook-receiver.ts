// A client's webhook endpoint for tests: a real HTTP server on loopback that verifies every
// request with the official `standardwebhooks` package and answers as the test says.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  /** 1-based count of requests with this webhook-id, this one included. */
  attempt: number;
  status: number;
  signatureValid: boolean;
  body: { type: string; timestamp: string; seq: number; data: Record<string, any> };
  headers: IncomingHttpHeaders;
  receivedAt: number;
}

/** What to answer: a status, optionally after a delay. */
export type Answer = { status: number; delayMs?: number };

export interface WebhookReceiver {
  url: string;
  /** The endpoint's signing secret, set once PUT /v1/webhook-endpoint returned it. */
  secret: string | null;
  answer: (request: { id: string; attempt: number; type: string; body: ReceivedWebhook['body'] }) => Answer;
  received: ReceivedWebhook[];
  /** Requests answered 2xx with a valid signature. */
  delivered(): ReceivedWebhook[];
  /** Requests still waiting for their (delayed) answer. */
  inFlight(): number;
}

export async function startWebhookReceiver(
  t: Pick<Test, 'teardown'>,
  answer: WebhookReceiver['answer'] = () => ({ status: 200 }),
): Promise<WebhookReceiver> {
  const attempts = new Map<string, number>();
  let inFlight = 0;
  const receiver: WebhookReceiver = {
    url: '',
    secret: null,
    answer,
    received: [],
    delivered: () => receiver.received.filter((r) => r.signatureValid && r.status >= 200 && r.status < 300),
    inFlight: () => inFlight,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['webhook-id'] ?? '');
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      let signatureValid = false;
      try {
        if (receiver.secret) {
          new Webhook(receiver.secret).verify(raw, req.headers as Record<string, string>);
          signatureValid = true;
        }
      } catch {
        signatureValid = false;
      }
      const body = JSON.parse(raw) as ReceivedWebhook['body'];
      const { status, delayMs = 0 } = signatureValid ? receiver.answer({ id, attempt, type: body.type, body }) : { status: 401 };
      inFlight += 1;
      setTimeout(() => {
        inFlight -= 1;
        receiver.received.push({ id, attempt, status, signatureValid, body, headers: req.headers, receivedAt: Date.now() });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'receiver says no');
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return receiver;
}
