// A Server-Sent Events client for tests: opens a stream, parses `event:` messages as they come,
// and lets the test await the next one (with a loud timeout) or close the stream.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';

export interface SseMessage {
  event: string;
  id: string;
  data: any;
}

export interface OpenStream {
  status: number;
  contentType: string;
  /** The body of a non-stream answer (problem+json), parsed. */
  body: any;
  /** Resolves once the server has ended the response. */
  ended: Promise<void>;
  messages: SseMessage[];
  /** The next message not yet taken, at most `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseMessage>;
  close(): void;
}

/** The complete `event:` messages at the front of `buffer` (comments skipped) and what is left of it. */
export function takeSseMessages(buffer: string): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = [];
  let rest = buffer;
  let end;
  while ((end = rest.indexOf('\n\n')) >= 0) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    const fields = Object.fromEntries(
      block
        .split('\n')
        .filter((l) => !l.startsWith(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
    );
    if (fields.event) messages.push({ event: fields.event, id: fields.id ?? '', data: JSON.parse(fields.data ?? 'null') });
  }
  return { messages, rest };
}

/**
 * Opens `url` and resolves once the response headers (and, for a non-stream answer, its body) are
 * in. A server that sends no headers within `headersTimeoutMs` gets status 0 (and the request is destroyed).
 */
export function openStream(url: string, headers: Record<string, string>, headersTimeoutMs = 5000): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const silent = setTimeout(() => {
      req.destroy();
      resolve({
        status: 0,
        contentType: '',
        body: { error: `no response headers within ${headersTimeoutMs} ms` },
        ended: Promise.resolve(),
        messages: [],
        next: () => Promise.reject(new Error('no response')),
        close: () => undefined,
      });
    }, headersTimeoutMs);
    const req: ClientRequest = httpRequest(url, { headers }, (res: IncomingMessage) => {
      clearTimeout(silent);
      const contentType = String(res.headers['content-type']);
      const messages: SseMessage[] = [];
      const waiting: Array<(m: SseMessage) => void> = [];
      let taken = 0;
      let buffer = '';
      const ended = new Promise<void>((done) => {
        res.on('end', done);
        res.on('close', done);
      });
      res.setEncoding('utf8');
      if (!contentType.startsWith('text/event-stream')) {
        res.on('data', (chunk: string) => (buffer += chunk));
        void ended.then(() => resolve(stream(JSON.parse(buffer || 'null'))));
        return;
      }
      res.on('data', (chunk: string) => {
        const parsed = takeSseMessages(buffer + chunk);
        buffer = parsed.rest;
        for (const message of parsed.messages) {
          messages.push(message);
          waiting.shift()?.(message);
        }
      });
      resolve(stream(null));

      function stream(body: unknown): OpenStream {
        return {
          status: res.statusCode ?? 0,
          contentType,
          body,
          ended,
          messages,
          next(timeoutMs = 5000) {
            const index = taken++;
            if (messages[index]) return Promise.resolve(messages[index]);
            return new Promise((found, fail) => {
              const timer = setTimeout(() => fail(new Error(`no SSE message #${index + 1} within ${timeoutMs} ms`)), timeoutMs);
              waiting.push((m) => {
                clearTimeout(timer);
                found(m);
              });
            });
          },
          close: () => req.destroy(),
        };
      }
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET' || !req.destroyed) reject(err);
    });
    req.end();
  });
}
