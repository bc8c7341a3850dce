// OpenTelemetry tracing: one trace per webhook, from the HTTP request through the Temporal signal,
// the workflow task and the activities to the provider's HTTP call. Off unless
// OTEL_EXPORTER_OTLP_ENDPOINT is set: then no tracer provider, no HTTP instrumentation and no
// Temporal client or activity interceptors exist. OpenTelemetry's registration is process-wide
// (global provider, patched `http`, diagnostics channels), so this module holds it once.
import { createRequire } from 'node:module';
import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { Env } from '../config/env.ts';
import { sourceOrCompiled } from './module-path.ts';

const require = createRequire(import.meta.url);

/**
 * Workflow interceptor module bundled with the workflow code (scripts/build.ts, the worker's own
 * bundling, tests): it opens the workflow's spans from the trace header of each start and signal.
 * Always bundled, since a prebuilt bundle cannot depend on the runtime environment; loaded into a
 * workflow only once a message carries a trace header (workflow-tracing.ts).
 */
export const WORKFLOW_TRACING_MODULES = [sourceOrCompiled(new URL('./workflow-tracing.ts', import.meta.url))];

interface ActiveTracing {
  provider: NodeTracerProvider;
  spanProcessor: SpanProcessor;
  resource: Resource;
}

let active: ActiveTracing | null = null;

/** Query strings can carry a signed link's token or a filter with personal data: spans get the path only. */
function withoutQuery(url: string): string {
  return url.split('?')[0]!;
}

/**
 * Registers the process's tracer provider (W3C trace context, AsyncLocalStorage context) and the
 * HTTP instrumentations: inbound requests (node:http server, under fastify) and undici requests
 * (the provider clients), through undici's diagnostics channels. Once per process.
 */
export function startTracing({ serviceName, spanProcessor }: { serviceName: string; spanProcessor: SpanProcessor }): void {
  if (active) throw new Error('Tracing is process-wide and already started');
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Outbound calls go through undici; only the server side of node:http is traced.
        disableOutgoingRequestInstrumentation: true,
        ignoreIncomingRequestHook: (request) => request.url === '/metrics' || request.url?.startsWith('/health') === true,
        startIncomingSpanHook: (request) => {
          const path = withoutQuery(request.url ?? '/');
          return { 'http.target': path, 'http.url': `http://${request.headers.host ?? 'localhost'}${path}` };
        },
      }),
      new UndiciInstrumentation({
        startSpanHook: (request) => ({ 'url.full': withoutQuery(`${request.origin}${request.path}`), 'url.query': '' }),
      }),
    ],
  });
  // The http instrumentation patches the module when it is next required; under ESM the app
  // imported it already (fastify's Server shares the patched prototype), so require it once now.
  require('node:http');
  active = { provider, spanProcessor, resource };
}

/** Tracing for a production process: on when OTEL_EXPORTER_OTLP_ENDPOINT is set, spans batched to `<endpoint>/v1/traces`. */
export function startTracingFromEnv(env: Pick<Env, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>, serviceName: string): void {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return;
  const url = new URL('v1/traces', env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/?$/, '/')).toString();
  startTracing({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter({ url })),
  });
}

/**
 * Names the request's server span after its route (`POST /webhooks/:provider`, `http.route`)
 * instead of the bare method; the http instrumentation reads it when the response ends.
 */
export function recordHttpRoute(route: string | undefined): void {
  const request = getRPCMetadata(context.active());
  if (route && request?.type === RPCType.HTTP) request.route = route;
}

/** Flushes the spans still batched (at shutdown). */
export async function stopTracing(): Promise<void> {
  await active?.provider.shutdown();
}

/** The Temporal client's: starts and signals carry the caller's trace context in a header. */
export function tracingClientInterceptors(): WorkflowClientInterceptor[] {
  return active ? [new OpenTelemetryWorkflowClientInterceptor()] : [];
}

/** The worker's: activity spans continue the workflow's trace. */
export function tracingActivityInterceptors(): ActivityInterceptorsFactory[] {
  return active
    ? [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ]
    : [];
}

/**
 * The sink workflow spans leave the sandbox through. The workflow interceptors are in every
 * bundle, so the sink is always registered; without tracing it drops the spans.
 */
export function tracingSinks(): InjectedSinks<OpenTelemetrySinks> {
  return {
    exporter: active ? makeWorkflowExporter(active.spanProcessor, active.resource) : { export: { fn: () => undefined } },
  };
}
