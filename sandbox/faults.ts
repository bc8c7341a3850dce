// Fault injection for the simulated provider APIs, so the app's retry and failure handling can
// be driven from a test or the browser: queue faults for requests whose path matches, and each
// matching request consumes the next one.
//   POST   /_faults { "path": "^/api/v1/inquiries", "faults": [{ "status": 429, "retryAfter": 1 }, { "kind": "reset" }] }
//   GET    /_faults    what is still queued
//   DELETE /_faults    clear everything
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, type SandboxRoute } from './http.ts';

export type Fault =
  /** Answer with this status (and a Retry-After in seconds when given) instead of the real answer. */
  | { kind?: 'status'; status: number; retryAfter?: number }
  /** Destroy the connection without an answer. */
  | { kind: 'reset' }
  /** Hold the request this long before answering normally (a slow or hanging provider). */
  | { kind: 'delay'; ms: number };

interface QueuedFaults {
  path: RegExp;
  source: string;
  faults: Fault[];
}

export class FaultInjector {
  private readonly queues: QueuedFaults[] = [];

  /** Applies the next fault for this request. Returns true when the request has been answered (or dropped). */
  async intercept(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    const queue = this.queues.find((q) => q.faults.length > 0 && q.path.test(pathname));
    const fault = queue?.faults.shift();
    if (!fault) return false;
    if (fault.kind === 'reset') {
      req.socket.destroy();
      return true;
    }
    if (fault.kind === 'delay') {
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
      return false;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
    res.writeHead(fault.status, headers).end(JSON.stringify({ errors: [{ title: `Injected fault: HTTP ${fault.status}` }] }));
    return true;
  }

  routes(): SandboxRoute[] {
    return [
      {
        method: 'POST',
        path: /^\/_faults$/,
        handle: async ({ req, res }) => {
          const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as { path?: string; faults?: Fault[] };
          if (typeof body.path !== 'string' || !Array.isArray(body.faults)) {
            sendJson(res, 400, { error: 'expected { path: <regex>, faults: [...] }' });
            return;
          }
          this.queues.push({ path: new RegExp(body.path), source: body.path, faults: [...body.faults] });
          sendJson(res, 201, { queued: body.faults.length });
        },
      },
      {
        method: 'GET',
        path: /^\/_faults$/,
        handle: ({ res }) =>
          sendJson(
            res,
            200,
            this.queues.map((q) => ({ path: q.source, remaining: q.faults })),
          ),
      },
      {
        method: 'DELETE',
        path: /^\/_faults$/,
        handle: ({ res }) => {
          this.queues.length = 0;
          sendJson(res, 200, { cleared: true });
        },
      },
    ];
  }
}
