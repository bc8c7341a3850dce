// The bench's helper processes (sandbox, Postgres proxy) report what they counted over a tiny
// HTTP endpoint, and announce themselves with one JSON line on stdout when ready.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

export async function serveStats(read: () => object): Promise<{ server: Server; url: string }> {
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(read()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

export function announce(ready: object): void {
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

export async function readStats<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}
