// One webhook, one trace: the HTTP request that carries it, the Temporal signal the API sends, the
// workflow's handling of that signal, the provider read it schedules, the activity running it and
// the HTTP call to the provider all share one trace id, each span parented by the one before. The
// API's log lines for that request carry the trace id. Spans are collected in memory.
import { Writable } from 'node:stream';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import t, { type Test } from 'tap';
import { createLogger } from '../../wiring/logger.ts';
import { startTracing } from '../../wiring/tracing.ts';
import { personaEventBody, signPersona } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';

// Before the stack: its Temporal client and worker take their interceptors from the running tracing.
const spans = new InMemorySpanExporter();
startTracing({ serviceName: 'veriflow-test', spanProcessor: new SimpleSpanProcessor(spans) });

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ LOG_LEVEL: 'info' }, 'veriflow', sink) };
}

/** The one span of the trace that matches; the test fails listing the trace's spans if there is not exactly one. */
function only(t: Test, inTrace: ReadableSpan[], what: string, match: (span: ReadableSpan) => boolean): ReadableSpan | undefined {
  const found = inTrace.filter(match);
  t.equal(found.length, 1, `one ${what} span`, { found: found.map((s) => s.name), inTrace: inTrace.map((s) => s.name) });
  return found[0];
}

t.test('a Persona webhook is one trace from the HTTP request to the provider call', async (t) => {
  const { lines, logger } = logCapture();
  const stack = await startStack(t, { logger });
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: 'traced' }, { prefer: 'wait=15' });
  t.equal(created.status, 201);
  const verificationId: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;

  // The test's own span is the trace's root: the spans of other requests (the sandbox's webhooks,
  // the creation above) are in traces of their own.
  const { body } = personaEventBody({
    name: 'inquiry.completed',
    createdAt: new Date(),
    inquiryId,
    referenceId: verificationId,
    status: 'completed',
  });
  const traceId = await trace.getTracer('test').startActiveSpan('send webhook', async (root) => {
    const response = await fetch(`${stack.apiUrl}/webhooks/persona`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'persona-signature': signPersona(body) },
      body,
    });
    t.equal(response.status, 200, await response.text());
    root.end();
    return root.spanContext().traceId;
  });

  const providerCall = (span: ReadableSpan) =>
    span.kind === SpanKind.CLIENT && String(span.attributes['url.full']).endsWith(`/api/v1/inquiries/${inquiryId}`);
  const named = (name: string) => (span: ReadableSpan) => span.name === name;
  // A workflow span reaches the exporter when it ends, in the workflow task after the activity it
  // opened returned: wait for the last of them, the persisting of what the event decided.
  const inTrace = await eventually(
    async () => spans.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId),
    (found) => [providerCall, named('StartActivity:fetchProviderState'), named('StartActivity:recordEvents')].every((m) => found.some(m)),
  );

  const request = only(
    t,
    inTrace,
    'HTTP request',
    (s) => s.kind === SpanKind.SERVER && s.attributes['http.target'] === '/webhooks/persona',
  );
  const signal = only(t, inTrace, 'signal', named('SignalWorkflow:providerEvent'));
  const handled = only(t, inTrace, 'workflow signal handling', named('HandleSignal:providerEvent'));
  const scheduled = only(t, inTrace, 'activity scheduling', named('StartActivity:fetchProviderState'));
  const activity = only(t, inTrace, 'activity', named('RunActivity:fetchProviderState'));
  const call = only(t, inTrace, 'provider HTTP call', providerCall);
  const chain = [request, signal, handled, scheduled, activity, call];
  for (const [i, child] of chain.entries())
    if (i > 0) t.equal(child?.parentSpanId, chain[i - 1]?.spanContext().spanId, `${child?.name} is a child of ${chain[i - 1]?.name}`);
  const recording = only(t, inTrace, 'persisting', named('StartActivity:recordEvents'));
  t.equal(recording?.parentSpanId, handled?.spanContext().spanId, 'the event is persisted in the same trace, under the signal handling');
  t.equal(request?.name, 'POST /webhooks/:provider', 'the request span is named after its route');
  t.equal(handled?.attributes.workflowId, `verification-${verificationId}`, 'the workflow span names its workflow');
  t.equal(call?.attributes['url.query'], '', 'no query string in the provider call span');

  const requestLines = lines.filter((line) => (line.req as { url?: string } | undefined)?.url === '/webhooks/persona');
  t.ok(requestLines.length > 0, 'the request was logged');
  t.ok(
    requestLines.every((line) => line.trace_id === traceId && typeof line.span_id === 'string'),
    'its log lines carry the trace id',
    { requestLines },
  );
});
