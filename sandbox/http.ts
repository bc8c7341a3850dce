import type { IncomingMessage, ServerResponse } from 'node:http';

// Just enough HTTP plumbing for the simulators: a route table and body/response helpers.
// Plain node:http keeps the sandbox free of anything our app also depends on for serving.

export interface SandboxRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Captures of the route's pattern, in order. */
  params: string[];
}

export interface SandboxRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: RegExp;
  handle(request: SandboxRequest): Promise<void> | void;
}

export interface SandboxLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

const MAX_BODY_BYTES = 1024 * 1024;

export class RequestBodyTooLargeError extends Error {
  readonly code = 'SANDBOX_BODY_TOO_LARGE';
  override readonly name = 'RequestBodyTooLargeError';
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new RequestBodyTooLargeError(`Request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(html);
}

export function findRoute(routes: readonly SandboxRoute[], method: string, pathname: string) {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.path.exec(pathname);
    if (match !== null) return { route, params: match.slice(1).map((param) => decodePathParam(param ?? '')) };
  }
  return null;
}

/** A malformed escape (`%zz`) is kept as typed: it then matches nothing, instead of crashing the server. */
function decodePathParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}
