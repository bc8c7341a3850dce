// Which calls load a workflow's tracing interceptors, and where each call goes before and after:
// lazyTracingInterceptors with a recording stand-in for Temporal's OpenTelemetry interceptors.
import { createRequire } from 'node:module';
import t from 'tap';
import { lazyTracingInterceptors, TRACE_HEADER, type TracingInterceptors } from '../../wiring/workflow-tracing.ts';

function recording() {
  const calls: string[] = [];
  let loads = 0;
  const traced = (name: string) => (input: unknown, next: (input: unknown) => unknown) => {
    calls.push(`traced ${name}`);
    return next(input);
  };
  const load = (): TracingInterceptors => {
    loads += 1;
    return {
      inbound: {
        execute: traced('execute'),
        handleSignal: traced('handleSignal'),
        validateUpdate: traced('validateUpdate'),
        handleUpdate: traced('handleUpdate'),
        handleQuery: traced('handleQuery'),
      },
      outbound: { scheduleActivity: traced('scheduleActivity'), getLogAttributes: traced('getLogAttributes') },
      internals: { dispose: traced('dispose') },
    } as unknown as TracingInterceptors;
  };
  const { inbound, outbound, internals } = lazyTracingInterceptors(load);
  const call = (part: object, method: string, headers: Record<string, unknown> = {}) =>
    (part as Record<string, (input: unknown, next: (input: unknown) => unknown) => unknown>)[method]!({ headers }, (input) => {
      calls.push(`next ${method}`);
      return input;
    });
  return { calls, loads: () => loads, inbound: inbound[0]!, outbound: outbound[0]!, internals: internals[0]!, call };
}

const header = { [TRACE_HEADER]: { data: 'a trace context' } };

t.test('without a trace header every call goes straight on and nothing is loaded', async (t) => {
  const w = recording();
  const calls = [
    ['inbound', 'execute'],
    ['inbound', 'handleSignal'],
    ['inbound', 'handleUpdate'],
    ['outbound', 'scheduleActivity'],
    ['outbound', 'getLogAttributes'],
    ['internals', 'dispose'],
  ] as const;
  for (const [part, method] of calls) w.call(w[part], method);
  t.equal(w.loads(), 0);
  t.same(
    w.calls,
    calls.map(([, method]) => `next ${method}`),
  );
});

t.test('a traced signal loads them once, for that signal and every call after it', async (t) => {
  const w = recording();
  w.call(w.inbound, 'execute');
  w.call(w.inbound, 'handleSignal', header);
  w.call(w.outbound, 'scheduleActivity');
  w.call(w.inbound, 'handleSignal');
  w.call(w.inbound, 'handleSignal', header);
  t.equal(w.loads(), 1);
  t.same(w.calls, [
    'next execute',
    'traced handleSignal',
    'next handleSignal',
    'traced scheduleActivity',
    'next scheduleActivity',
    'traced handleSignal',
    'next handleSignal',
    'traced handleSignal',
    'next handleSignal',
  ]);
});

t.test('a traced start or accepted update loads them', async (t) => {
  for (const method of ['execute', 'handleUpdate']) {
    const w = recording();
    w.call(w.inbound, method, header);
    t.equal(w.loads(), 1, method);
    t.same(w.calls, [`traced ${method}`, `next ${method}`], method);
  }
});

t.test('queries and update validators leave nothing in the history, so they never load them', async (t) => {
  const w = recording();
  w.call(w.inbound, 'handleQuery', header);
  w.call(w.inbound, 'validateUpdate', header);
  t.equal(w.loads(), 0);
  t.same(w.calls, ['next handleQuery', 'next validateUpdate']);
  // Once something that is in the history has loaded them, queries are traced too.
  w.call(w.inbound, 'handleSignal', header);
  w.call(w.inbound, 'handleQuery');
  t.same(w.calls.slice(2), ['traced handleSignal', 'next handleSignal', 'traced handleQuery', 'next handleQuery']);
});

t.test('the header is the one the OpenTelemetry interceptors write', async (t) => {
  const instrumentation = createRequire(import.meta.url)('@temporalio/interceptors-opentelemetry/lib/instrumentation');
  t.equal(TRACE_HEADER, instrumentation.TRACE_HEADER);
});
