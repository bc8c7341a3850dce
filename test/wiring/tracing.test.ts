// Tracing from the environment: off without OTEL_EXPORTER_OTLP_ENDPOINT (no interceptors, no
// recording tracer), on with it, exporting OTLP/HTTP protobuf to <endpoint>/v1/traces with the
// service name. Tracing is process-wide, so "off" is checked before "on" in this one process.
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import t from 'tap';
import { parseEnv } from '../../config/env.ts';
import { startTracingFromEnv, stopTracing, tracingActivityInterceptors, tracingClientInterceptors } from '../../wiring/tracing.ts';

t.test('without OTEL_EXPORTER_OTLP_ENDPOINT nothing is traced', async (t) => {
  startTracingFromEnv(parseEnv({}), 'veriflow-test');
  t.same(tracingClientInterceptors(), [], 'no client interceptor: signals carry no trace header');
  t.same(tracingActivityInterceptors(), [], 'no activity interceptor');
  t.equal(trace.getTracer('test').startSpan('probe').isRecording(), false, 'spans are not recorded');
});

t.test('with it, spans are exported over OTLP to <endpoint>/v1/traces under OTEL_SERVICE_NAME', async (t) => {
  const received: { method?: string; url?: string; type?: string; body: Buffer }[] = [];
  const collector = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method, url: request.url, type: request.headers['content-type'], body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  t.teardown(() => collector.close());
  const { port } = collector.address() as AddressInfo;

  const env = parseEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/otlp`, OTEL_SERVICE_NAME: 'veriflow-traced' });
  startTracingFromEnv(env, 'veriflow-test');
  t.equal(tracingClientInterceptors().length, 1, 'the Temporal client interceptor is on');
  t.equal(tracingActivityInterceptors().length, 1, 'the activity interceptors are on');
  const span = trace.getTracer('test').startSpan('probe');
  t.equal(span.isRecording(), true);
  span.end();
  await stopTracing();

  t.equal(received.length, 1, 'one batch exported at shutdown');
  t.match(received[0], { method: 'POST', url: '/otlp/v1/traces', type: 'application/x-protobuf' });
  const body = received[0]!.body.toString('latin1');
  t.ok(body.includes('veriflow-traced') && body.includes('probe'), 'the batch holds the span and the service name');
});
