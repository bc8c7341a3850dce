// The workflow side of tracing, bundled into every workflow (one bundle serves environments with
// and without tracing) but loaded into a workflow only once a start, signal or update reaching it
// carries a trace context. The API sends one only while tracing is on, so an untraced workflow
// never initialises OpenTelemetry's SDK nor makes a span per activation: a cached verification
// keeps 98 KB of heap instead of 279, and an applied webhook costs the worker 20 ms of CPU instead
// of 24–27 (README "Worker CPU"). This runs in the workflow sandbox: whether those messages carried
// the header is in the history, so a replay loads the interceptors at the same point. Queries and
// update validators leave nothing in the history, so they never load them.
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/**
 * The header Temporal's OpenTelemetry interceptors carry the trace context in. Their own constant
 * lives in a module that would be evaluated in every workflow; a test pins this copy to it.
 */
export const TRACE_HEADER = '_tracer-data';

export interface TracingInterceptors {
  inbound: WorkflowInboundCallsInterceptor;
  outbound: WorkflowOutboundCallsInterceptor;
  internals: WorkflowInternalsInterceptor;
}

type Part = keyof TracingInterceptors;
/** The shape of every interceptor method: an input, and the next interceptor to pass it on to. */
type Intercept = (input: { headers?: Record<string, unknown> }, next: (input: unknown) => unknown) => unknown;

/** One workflow's interceptors: each call goes to the tracing interceptors once loaded, else straight on. */
export function lazyTracingInterceptors(load: () => TracingInterceptors): Required<Pick<WorkflowInterceptors, Part>> {
  let loaded: TracingInterceptors | null = null;
  const through =
    (part: Part, method: string, loadsOn?: (input: Parameters<Intercept>[0]) => boolean): Intercept =>
    (input, next) => {
      if (loaded === null && loadsOn?.(input)) loaded = load();
      const intercept = (loaded?.[part] as Record<string, Intercept | undefined> | undefined)?.[method];
      return intercept ? intercept.call(loaded![part], input, next) : next(input);
    };
  const traced = (input: Parameters<Intercept>[0]) => input.headers?.[TRACE_HEADER] !== undefined;
  return {
    inbound: [
      {
        execute: through('inbound', 'execute', traced),
        handleSignal: through('inbound', 'handleSignal', traced),
        // A rejected update leaves no trace in the history, so only the handler of an accepted one loads.
        validateUpdate: through('inbound', 'validateUpdate'),
        handleUpdate: through('inbound', 'handleUpdate', traced),
        handleQuery: through('inbound', 'handleQuery'),
      } as unknown as WorkflowInboundCallsInterceptor,
    ],
    outbound: [
      {
        scheduleActivity: through('outbound', 'scheduleActivity'),
        scheduleLocalActivity: through('outbound', 'scheduleLocalActivity'),
        startNexusOperation: through('outbound', 'startNexusOperation'),
        startChildWorkflowExecution: through('outbound', 'startChildWorkflowExecution'),
        continueAsNew: through('outbound', 'continueAsNew'),
        signalWorkflow: through('outbound', 'signalWorkflow'),
        getLogAttributes: through('outbound', 'getLogAttributes'),
      } as unknown as WorkflowOutboundCallsInterceptor,
    ],
    internals: [{ dispose: through('internals', 'dispose') } as unknown as WorkflowInternalsInterceptor],
  };
}

/** The SDK's workflow interceptor module entry: Temporal's OpenTelemetry interceptors, loaded on first use. */
export const interceptors = (): WorkflowInterceptors =>
  lazyTracingInterceptors(() => {
    // A require inside the bundle, so the module and OpenTelemetry's SDK are evaluated for this
    // workflow only now; webpack resolves it when bundling (it never runs outside the sandbox).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { interceptors: openTelemetry } = require('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');
    const { inbound, outbound, internals } = (openTelemetry as () => Required<WorkflowInterceptors>)();
    return { inbound: inbound[0]!, outbound: outbound[0]!, internals: internals[0]! };
  });
