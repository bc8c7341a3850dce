import type { VerificationLink } from '../html.ts';
import type { WebhookChaos } from '../chaos.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Stripe from 'stripe';
import { readBody, sendHtml, sendJson, type SandboxLogger, type SandboxRoute } from '../http.ts';
import { parseStripeForm } from './form.ts';
import { accountRows, actionSentPage, ONBOARDING_PATH, onboardingPage, stripeNotFoundPage } from './pages.ts';
import { createAccountStore, isStripeAction, stripeId, StripeRequestError, type AccountChange, type SimulatedAccount } from './state.ts';
import { createStripeWebhookSender, STRIPE_RETRY_DELAYS_MS } from './webhooks.ts';

export interface StripeSimulatorOptions {
  /** Base of the account links; a function because the port is known only after listening. */
  publicUrl: () => string;
  secretKey: string;
  webhookSecret: string;
  /** null: accounts change but no webhook is sent. */
  webhookTarget: string | null;
  retryDelaysMs?: readonly number[] | undefined;
  /** Shuffles, duplicates, delays or drops first attempts when switched on; off when omitted. */
  chaos?: WebhookChaos | undefined;
  logger: SandboxLogger;
}

// The version the official package is generated for; used when a request names none.
const DEFAULT_API_VERSION: string = Stripe.API_VERSION;

export function createStripeSimulator(options: StripeSimulatorOptions) {
  const store = createAccountStore();
  const webhooks = createStripeWebhookSender({
    target: options.webhookTarget,
    secret: options.webhookSecret,
    retryDelaysMs: options.retryDelaysMs ?? STRIPE_RETRY_DELAYS_MS,
    logger: options.logger,
    chaos: options.chaos,
  });

  /** Writes Stripe's error shape; true when the request may proceed. */
  function authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const key = presentedKey(req.headers.authorization);
    if (key === options.secretKey) return true;
    const message =
      key === null
        ? "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
        : `Invalid API Key provided: ${maskKey(key)}`;
    respond(req, res, 401, { error: { message, type: 'invalid_request_error' } });
    return false;
  }

  function respond(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    extraHeaders: Record<string, string> = {},
  ): void {
    res.setHeader('request-id', stripeId('req', 14));
    res.setHeader('stripe-version', apiVersionOf(req));
    for (const [name, value] of Object.entries(extraHeaders)) res.setHeader(name, value);
    sendJson(res, status, body);
  }

  function fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    if (!(error instanceof StripeRequestError)) throw error;
    respond(req, res, error.status, { error: error.body });
  }

  function sendAccountUpdated(change: AccountChange): void {
    const eventId = stripeId('evt', 24);
    const event = {
      id: eventId,
      object: 'event',
      // Connect: events about a connected account name it at the top level.
      account: change.account.id,
      api_version: DEFAULT_API_VERSION,
      created: change.created,
      data: { object: change.account, previous_attributes: change.previousAttributes },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'account.updated',
    };
    webhooks.send({ eventId, eventType: event.type, body: JSON.stringify(event) });
  }

  const routes: SandboxRoute[] = [
    {
      method: 'POST',
      path: /^\/v1\/accounts$/,
      async handle({ req, res }) {
        if (!authorized(req, res)) return;
        const params = parseStripeForm((await readBody(req)).toString('utf8'));
        const key = req.headers['idempotency-key'];
        try {
          const { account, replayed } = store.create(params, typeof key === 'string' && key !== '' ? key : null);
          if (!replayed) options.logger.info({ accountId: account.id }, 'stripe sandbox: account created');
          respond(req, res, 200, account.object, replayed ? { 'idempotent-replayed': 'true' } : {});
        } catch (error) {
          fail(req, res, error);
        }
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/accounts\/([^/]+)$/,
      handle({ req, res, params }) {
        if (!authorized(req, res)) return;
        const account = store.get(params[0] ?? '');
        if (account === undefined) {
          respond(req, res, 404, {
            error: {
              code: 'resource_missing',
              message: `No such account: '${params[0] ?? ''}'`,
              param: 'account',
              type: 'invalid_request_error',
            },
          });
        } else respond(req, res, 200, account.object);
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/account_links$/,
      async handle({ req, res }) {
        if (!authorized(req, res)) return;
        const params = parseStripeForm((await readBody(req)).toString('utf8'));
        try {
          const link = store.createLink(params);
          const url = `${options.publicUrl()}${ONBOARDING_PATH}/${encodeURIComponent(link.accountId)}?${new URLSearchParams({ link: link.id })}`;
          respond(req, res, 200, { object: 'account_link', created: link.createdAt, expires_at: link.expiresAt, url });
        } catch (error) {
          fail(req, res, error);
        }
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${ONBOARDING_PATH}/([^/]+)$`),
      handle({ res, url, params }) {
        const account = store.get(params[0] ?? '');
        if (account === undefined) {
          sendHtml(res, 404, stripeNotFoundPage('This onboarding link is not valid.'));
          return;
        }
        // Without `link` this is the sandbox's dashboard view of the account.
        const linkId = url.searchParams.get('link');
        if (linkId !== null) {
          const opened = store.openLink(account.id, linkId);
          if (opened === null) {
            sendHtml(res, 404, stripeNotFoundPage('This onboarding link is not valid.'));
            return;
          }
          if (!opened.usable) {
            // Stripe's behaviour for an expired or already visited link: back to the platform for a new one.
            res.writeHead(302, { location: opened.link.refreshUrl }).end();
            return;
          }
        }
        sendHtml(res, 200, onboardingPage(account));
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^${ONBOARDING_PATH}/([^/]+)$`),
      async handle({ req, res, params }) {
        const form = new URLSearchParams((await readBody(req)).toString('utf8'));
        const account = store.get(params[0] ?? '');
        if (account === undefined) {
          sendHtml(res, 404, stripeNotFoundPage('This onboarding link is not valid.'));
          return;
        }
        const action = form.get('action');
        if (!isStripeAction(action)) {
          sendHtml(res, 400, stripeNotFoundPage(`Unknown action ${JSON.stringify(action)}.`));
          return;
        }
        let change: AccountChange | null;
        try {
          change = store.act(account.id, action, store.eventTime());
        } catch (error) {
          if (!(error instanceof StripeRequestError)) throw error;
          sendHtml(res, error.status, stripeNotFoundPage(error.message));
          return;
        }
        if (change !== null) sendAccountUpdated(change);
        options.logger.info({ accountId: account.id, action }, 'stripe sandbox: account updated');
        sendHtml(res, 200, actionSentPage(account, action, store.returnUrlOf(account.id)));
      },
    },
  ];

  return {
    routes,
    accounts: (): SimulatedAccount[] => store.list(),
    accountRows: (verificationLink?: VerificationLink) => accountRows(store.list(), verificationLink),
    close: () => webhooks.close(),
  };
}

export type StripeSimulator = ReturnType<typeof createStripeSimulator>;

/** Stripe takes the key as a Bearer token or as the Basic-auth user name. */
function presentedKey(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer !== null) return bearer[1]!;
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
  if (basic !== null) return Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] ?? null;
  return null;
}

function maskKey(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, key.indexOf('_', 3) + 1 || 3)}****${key.slice(-4)}`;
}

function apiVersionOf(req: IncomingMessage): string {
  const version = req.headers['stripe-version'];
  return typeof version === 'string' && version !== '' ? version : DEFAULT_API_VERSION;
}
