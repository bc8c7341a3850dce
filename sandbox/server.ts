import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { page, type VerificationLink } from './html.ts';
import { findRoute, RequestBodyTooLargeError, sendHtml, sendJson, type SandboxLogger, type SandboxRoute } from './http.ts';
import { inquiryRows } from './persona/pages.ts';
import { CHAOS_MODES, WebhookChaos, type ChaosSetting } from './chaos.ts';
import { FaultInjector } from './faults.ts';
import { createPersonaSimulator } from './persona/simulator.ts';
import { createStripeSimulator } from './stripe/simulator.ts';
import { createSmileIdSimulator } from './smileid/simulator.ts';
import { createIdmetaSimulator } from './idmeta/simulator.ts';

// Provider simulators on one HTTP server: real HTTP, real signatures, hosted-flow pages. Nothing
// here imports the app, so a bug shared by the app and its simulator cannot hide.

export interface SandboxOptions {
  port?: number;
  host?: string;
  /** Base URL for links the sandbox hands out (one-time links); defaults to where it listens. */
  publicUrl?: string;
  /** Where each simulated provider sends its webhooks, e.g. `http://127.0.0.1:3000/webhooks/persona`. */
  webhookTargets: { persona?: string; stripe?: string; smileid?: string; idmeta?: string };
  /** A provider without secrets is not simulated (its routes answer 404). */
  secrets: {
    persona?: { apiKey: string; webhookSecret: string };
    stripe?: { secretKey: string; webhookSecret: string };
    smileid?: { partnerId: string; apiKey: string };
    idmeta?: { apiKey: string; webhookSecret: string };
  };
  /**
   * Webhook attempts, as the wait in ms before each: entry 0 is the first attempt (sent at once),
   * the rest are retries; the length bounds the attempts. Persona's schedule by default.
   */
  webhookRetryDelaysMs?: readonly number[];
  logger?: SandboxLogger;
  /** Where veriflow shows a verification, by id: the home page links each session there. */
  verificationLink?: VerificationLink;
  /** More pages on the same server (e.g. the mail catcher's GET /mail in `npm run dev`). */
  extraRoutes?: readonly SandboxRoute[];
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
  const chaos = new WebhookChaos();
  // What every simulator shares: where it is reached, how its webhooks retry, the chaos switches, the log.
  const common = {
    publicUrl: () => options.publicUrl?.replace(/\/+$/, '') ?? url,
    retryDelaysMs: options.webhookRetryDelaysMs,
    chaos,
    logger,
  };
  const personaSecrets = options.secrets.persona;
  const persona =
    personaSecrets === undefined
      ? null
      : createPersonaSimulator({
          ...common,
          apiKey: personaSecrets.apiKey,
          webhookSecret: personaSecrets.webhookSecret,
          webhookTarget: options.webhookTargets.persona ?? '',
        });
  const stripeSecrets = options.secrets.stripe;
  const stripe =
    stripeSecrets === undefined
      ? null
      : createStripeSimulator({
          ...common,
          secretKey: stripeSecrets.secretKey,
          webhookSecret: stripeSecrets.webhookSecret,
          webhookTarget: options.webhookTargets.stripe ?? null,
        });
  const smileidSecrets = options.secrets.smileid;
  const smileid =
    smileidSecrets === undefined
      ? null
      : createSmileIdSimulator({
          ...common,
          partnerId: smileidSecrets.partnerId,
          apiKey: smileidSecrets.apiKey,
          webhookTarget: options.webhookTargets.smileid,
        });
  const idmetaSecrets = options.secrets.idmeta;
  const idmeta =
    idmetaSecrets === undefined
      ? null
      : createIdmetaSimulator({
          ...common,
          apiKey: idmetaSecrets.apiKey,
          webhookSecret: idmetaSecrets.webhookSecret,
          webhookTarget: options.webhookTargets.idmeta ?? null,
        });

  const faults = new FaultInjector();
  const routes: SandboxRoute[] = [
    ...faults.routes(),
    ...chaos.routes(),
    { method: 'GET', path: /^\/health$/, handle: ({ res }) => sendJson(res, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: /^\/$/,
      handle: ({ res }) =>
        sendHtml(
          res,
          200,
          indexPage(
            persona === null ? null : inquiryRows(persona.inquiries(), options.verificationLink),
            stripe?.accountRows(options.verificationLink) ?? null,
            chaos.current,
          ),
        ),
    },
    ...(persona?.routes ?? []),
    ...(stripe?.routes ?? []),
    ...(smileid?.routes ?? []),
    ...(idmeta?.routes ?? []),
    ...(options.extraRoutes ?? []),
  ];

  const server = createServer((req, res) => {
    const requestUrl = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const found = findRoute(routes, req.method ?? 'GET', requestUrl.pathname);
    if (found === null) {
      sendJson(res, 404, { errors: [{ title: 'Not found' }] });
      return;
    }
    const handled = faults
      .intercept(req, res, requestUrl.pathname)
      .then((answered) => answered || found.route.handle({ req, res, url: requestUrl, params: found.params }));
    handled.catch((error: unknown) => {
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
      chaos.close();
      await persona?.close();
      await stripe?.close();
      await smileid?.close();
      await idmeta?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function chaosControl(setting: ChaosSetting): string {
  const buttons = CHAOS_MODES.map(
    (mode) =>
      `<button type="submit" name="mode" value="${mode}" data-testid="chaos-${mode}"${mode === setting.mode ? ' aria-pressed="true" class="approve"' : ''}>${mode}</button>`,
  ).join(' ');
  return `<h2>Webhook chaos</h2>
  <p>Applies to every simulator's webhooks from now on: <strong data-testid="chaos-mode">${setting.mode}</strong>. Shuffle and delay wait up to the delay; drop sends nothing (fallback polling recovers it).</p>
  <form class="actions" method="post" action="/_chaos">
    <label>Delay (ms) <input name="delayMs" type="number" min="0" max="600000" value="${setting.delayMs}"></label>
    ${buttons}
  </form>`;
}

function indexPage(personaInquiryRows: string | null, stripeAccountRows: string | null, chaos: ChaosSetting): string {
  return page(
    'veriflow sandbox',
    `<h1>veriflow sandbox</h1>
  <p class="lead">Simulated providers. Sessions created through their APIs appear here; open one to decide it, or its reference to see the verification in veriflow.</p>
  ${chaosControl(chaos)}${
    personaInquiryRows === null
      ? ''
      : `
  <h2>Persona inquiries</h2>
  <table>
    <thead><tr><th>Inquiry</th><th>Verification</th><th>Status</th><th>Created</th></tr></thead>
    <tbody>
${personaInquiryRows}
    </tbody>
  </table>`
  }${
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
