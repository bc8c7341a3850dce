import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { page } from './html.js';
import { findRoute, RequestBodyTooLargeError, sendHtml, sendJson, type SandboxLogger, type SandboxRoute } from './http.js';
import { inquiryRows } from './persona/pages.js';
import { createPersonaSimulator } from './persona/simulator.js';
import { createStripeSimulator } from './stripe/simulator.js';
import { createSmileIdSimulator } from './smileid/simulator.js';

// Provider simulators on one HTTP server: real HTTP, real signatures, hosted-flow pages. Nothing
// here imports the app, so a bug shared by the app and its simulator cannot hide.

export interface SandboxOptions {
  port?: number;
  host?: string;
  /** Base URL for links the sandbox hands out (one-time links); defaults to where it listens. */
  publicUrl?: string;
  /** Where each simulated provider sends its webhooks, e.g. `http://127.0.0.1:3000/webhooks/persona`. */
  webhookTargets: { persona: string; stripe?: string; smileid?: string };
  /** A provider without secrets is not simulated (its routes answer 404). */
  secrets: { persona: { apiKey: string; webhookSecret: string }; stripe?: { secretKey: string; webhookSecret: string }; smileid?: { partnerId: string; apiKey: string } };
  /**
   * Webhook attempts, as the wait in ms before each: entry 0 is the first attempt (sent at once),
   * the rest are retries; the length bounds the attempts. Persona's schedule by default.
   */
  webhookRetryDelaysMs?: readonly number[];
  logger?: SandboxLogger;
}

export interface Sandbox {
  url: string;
  close(): Promise<void>;
}

const silentLogger: SandboxLogger = { info: () => undefined, warn: () => undefined };

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  let url = '';
  const persona = createPersonaSimulator({
    publicUrl: () => options.publicUrl?.replace(/\/+$/, '') ?? url,
    apiKey: options.secrets.persona.apiKey,
    webhookSecret: options.secrets.persona.webhookSecret,
    webhookTarget: options.webhookTargets.persona,
    retryDelaysMs: options.webhookRetryDelaysMs,
    logger,
  });
  const stripeSecrets = options.secrets.stripe;
  const stripe =
    stripeSecrets === undefined
      ? null
      : createStripeSimulator({
          publicUrl: () => options.publicUrl?.replace(/\/+$/, '') ?? url,
          secretKey: stripeSecrets.secretKey,
          webhookSecret: stripeSecrets.webhookSecret,
          webhookTarget: options.webhookTargets.stripe ?? null,
          retryDelaysMs: options.webhookRetryDelaysMs,
          logger,
        });
  const smileidSecrets = options.secrets.smileid;
  const smileid =
    smileidSecrets === undefined
      ? null
      : createSmileIdSimulator({
          publicUrl: () => options.publicUrl?.replace(/\/+$/, '') ?? url,
          partnerId: smileidSecrets.partnerId,
          apiKey: smileidSecrets.apiKey,
          webhookTarget: options.webhookTargets.smileid,
          retryDelaysMs: options.webhookRetryDelaysMs,
          logger,
        });

  const routes: SandboxRoute[] = [
    { method: 'GET', path: /^\/health$/, handle: ({ res }) => sendJson(res, 200, { status: 'ok' }) },
    { method: 'GET', path: /^\/$/, handle: ({ res }) => sendHtml(res, 200, indexPage(persona.inquiries(), stripe?.accountRows() ?? null)) },
    ...persona.routes,
    ...(stripe?.routes ?? []),
    ...(smileid?.routes ?? []),
  ];

  const server = createServer((req, res) => {
    const requestUrl = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const found = findRoute(routes, req.method ?? 'GET', requestUrl.pathname);
    if (found === null) {
      sendJson(res, 404, { errors: [{ title: 'Not found' }] });
      return;
    }
    Promise.resolve(found.route.handle({ req, res, url: requestUrl, params: found.params })).catch((error: unknown) => {
      const tooLarge = error instanceof RequestBodyTooLargeError;
      if (!tooLarge) logger.warn({ err: error, path: requestUrl.pathname }, 'sandbox: request failed');
      if (!res.headersSent) sendJson(res, tooLarge ? 413 : 500, { errors: [{ title: tooLarge ? 'Payload too large' : 'Sandbox error' }] });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // A wildcard bind is not an address a browser can open.
  const linkHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  url = `http://${linkHost}:${port}`;
  logger.info({ url }, 'sandbox listening');

  return {
    url,
    async close() {
      await persona.close();
      await stripe?.close();
      await smileid?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function indexPage(inquiries: Parameters<typeof inquiryRows>[0], stripeAccountRows: string | null): string {
  return page(
    'veriflow sandbox',
    `<h1>veriflow sandbox</h1>
  <p class="lead">Simulated providers. Persona inquiries created through <code>POST /api/v1/inquiries</code> appear here; open one to decide it.</p>
  <h2>Persona inquiries</h2>
  <table>
    <thead><tr><th>Inquiry</th><th>Reference</th><th>Status</th><th>Created</th></tr></thead>
    <tbody>
${inquiryRows(inquiries)}
    </tbody>
  </table>${
    stripeAccountRows === null
      ? ''
      : `
  <h2>Stripe Connect accounts</h2>
  <table>
    <thead><tr><th>Account</th><th>Verification</th><th>Phase</th><th>Created</th></tr></thead>
    <tbody>
${stripeAccountRows}
    </tbody>
  </table>`
  }`,
  );
}
