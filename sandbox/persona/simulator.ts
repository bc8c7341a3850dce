import type { ServerResponse } from 'node:http';
import type { WebhookChaos } from '../chaos.ts';
import { readBody, sendHtml, sendJson, type SandboxLogger, type SandboxRoute } from '../http.ts';
import { decisionSentPage, notFoundPage, VERIFY_PATH, verifyPage } from './pages.ts';
import { eventBody, inquiryDocument } from './resources.ts';
import { createInquiryStore, isPersonaDecision, personaId, type SimulatedInquiry } from './state.ts';
import { createWebhookSender, PERSONA_RETRY_DELAYS_MS } from './webhooks.ts';

export interface PersonaSimulatorOptions {
  /** Base of the one-time links; a function because the port is known only after listening. */
  publicUrl: () => string;
  apiKey: string;
  webhookSecret: string;
  webhookTarget: string;
  retryDelaysMs?: readonly number[] | undefined;
  logger: SandboxLogger;
  /** Shuffles, duplicates, delays or drops first attempts when switched on; off when omitted. */
  chaos?: WebhookChaos | undefined;
}

export function createPersonaSimulator(options: PersonaSimulatorOptions) {
  const store = createInquiryStore();
  const webhooks = createWebhookSender({
    target: options.webhookTarget,
    secret: options.webhookSecret,
    retryDelaysMs: options.retryDelaysMs ?? PERSONA_RETRY_DELAYS_MS,
    logger: options.logger,
    chaos: options.chaos,
  });

  function authorized(authorization: string | undefined, res: ServerResponse): boolean {
    if (authorization === `Bearer ${options.apiKey}`) return true;
    sendJson(res, 401, { errors: [{ title: 'Must be authenticated to access this endpoint' }] });
    return false;
  }

  function oneTimeLink(inquiry: SimulatedInquiry): string {
    const query = new URLSearchParams({ 'inquiry-id': inquiry.id, code: inquiry.oneTimeLinkCode });
    return `${options.publicUrl()}${VERIFY_PATH}?${query}`;
  }

  const routes: SandboxRoute[] = [
    {
      method: 'POST',
      path: /^\/api\/v1\/inquiries$/,
      async handle({ req, res }) {
        if (!authorized(req.headers.authorization, res)) return;
        const attributes = createAttributes(await readBody(req));
        const templateId = text(attributes?.['inquiry-template-id']) ?? text(attributes?.['template-id']);
        if (templateId === null) {
          sendJson(res, 400, { errors: [{ title: 'Bad Request', details: 'data.attributes.inquiry-template-id is required' }] });
          return;
        }
        const idempotencyKey = req.headers['idempotency-key'];
        const { inquiry, created } = store.create({
          templateId,
          referenceId: text(attributes?.['reference-id']),
          idempotencyKey: typeof idempotencyKey === 'string' && idempotencyKey !== '' ? idempotencyKey : null,
        });
        if (created) options.logger.info({ inquiryId: inquiry.id }, 'persona sandbox: inquiry created');
        sendJson(res, 201, { ...inquiryDocument(inquiry), meta: { 'one-time-link': oneTimeLink(inquiry) } });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/v1\/inquiries\/([^/]+)$/,
      handle({ req, res, params }) {
        if (!authorized(req.headers.authorization, res)) return;
        const inquiry = store.get(params[0] ?? '');
        if (inquiry === undefined) sendJson(res, 404, { errors: [{ title: 'Record not found' }] });
        else sendJson(res, 200, inquiryDocument(inquiry));
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${VERIFY_PATH}$`),
      handle({ res, url }) {
        const inquiry = store.get(url.searchParams.get('inquiry-id') ?? '');
        if (inquiry === undefined) sendHtml(res, 404, notFoundPage('This verification link is not valid.'));
        else sendHtml(res, 200, verifyPage(inquiry));
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^${VERIFY_PATH}$`),
      async handle({ req, res }) {
        const form = new URLSearchParams((await readBody(req)).toString('utf8'));
        const inquiryId = form.get('inquiry-id') ?? '';
        const decision = form.get('decision');
        const inquiry = store.get(inquiryId);
        if (inquiry === undefined) {
          sendHtml(res, 404, notFoundPage('This verification link is not valid.'));
          return;
        }
        if (!isPersonaDecision(decision)) {
          sendHtml(res, 400, notFoundPage(`Unknown decision ${JSON.stringify(decision)}.`));
          return;
        }
        const transitions = store.decide(inquiry.id, decision);
        webhooks.send(
          transitions.map((transition) => {
            const eventId = personaId('evt');
            return { eventId, eventName: transition.eventName, body: JSON.stringify(eventBody({ eventId, ...transition })) };
          }),
        );
        options.logger.info({ inquiryId: inquiry.id, decision }, 'persona sandbox: decision made');
        sendHtml(res, 200, decisionSentPage(inquiry, decision));
      },
    },
  ];

  return {
    routes,
    inquiries: () => store.list(),
    close: () => webhooks.close(),
  };
}

/** `data.attributes` of a create request, or null when the body is not that shape. */
function createAttributes(body: Buffer): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const data = isObject(parsed) ? parsed.data : undefined;
    return isObject(data) && isObject(data.attributes) ? data.attributes : null;
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
