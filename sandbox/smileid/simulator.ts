import type { WebhookChaos } from '../chaos.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendHtml, sendJson, type SandboxLogger, type SandboxRoute } from '../http.ts';
import { decisionSentPage, expiredPage, LINK_PATH, linkPage, LINKS_INDEX_PATH, linksIndexPage, linkUrl, notFoundPage } from './pages.ts';
import { isSignedBy, signedNow } from './signature.ts';
import { createLinkStore, isSmileIdDecision, type PartnerParams, type SimulatedJob, type SimulatedLink } from './state.ts';
import { createCallbackSender, SMILEID_RETRY_DELAYS_MS } from './webhooks.ts';

// SmileID's v1 REST API as far as veriflow uses it (Smile Links, job status) plus the hosted link
// page. Requests are authenticated the SmileID way: partner_id, timestamp and signature in the
// JSON body. Errors use SmileID's `{ code, error }` shape and its documented codes.

export interface SmileIdSimulatorOptions {
  /** Base of the links; a function because the port is known only after listening. */
  publicUrl: () => string;
  partnerId: string;
  apiKey: string;
  /** Where callbacks go when a link names no callback_url (SmileID's portal default). */
  webhookTarget: string | undefined;
  retryDelaysMs?: readonly number[] | undefined;
  /** Shuffles, duplicates, delays or drops first attempts when switched on; off when omitted. */
  chaos?: WebhookChaos | undefined;
  logger: SandboxLogger;
}

const NOT_AUTHORIZED = { code: '2205', error: "You're not authorized to do that" };
const MISSING_PARAMETER = { code: '2213', error: 'A required parameter is missing' };
const WRONG_TYPE = { code: '2204', error: 'A parameter is of the wrong data type' };
const INVALID_JSON = { code: '2203', error: 'Invalid JSON' };

export function createSmileIdSimulator(options: SmileIdSimulatorOptions) {
  const store = createLinkStore();
  const callbacks = createCallbackSender({
    partnerId: options.partnerId,
    apiKey: options.apiKey,
    retryDelaysMs: options.retryDelaysMs ?? SMILEID_RETRY_DELAYS_MS,
    logger: options.logger,
    chaos: options.chaos,
  });

  /** The signed JSON body of an API request, or null after answering the error. */
  async function authenticatedBody(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | null> {
    const body = parseObject((await readBody(req)).toString('utf8'));
    if (body === null) {
      sendJson(res, 400, INVALID_JSON);
      return null;
    }
    if (body.partner_id !== options.partnerId || !isSignedBy(options.partnerId, options.apiKey, body.timestamp, body.signature)) {
      sendJson(res, 401, NOT_AUTHORIZED);
      return null;
    }
    return body;
  }

  function callbackResult(link: SimulatedLink, job: SimulatedJob): Record<string, unknown> {
    return {
      ResultCode: job.resultCode,
      ResultText: job.resultText,
      ResultType: 'ID Verification',
      SmileJobID: job.smileJobId,
      PartnerParams: link.partnerParams,
      IsFinalResult: String(job.complete),
      ConfidenceValue: job.success ? '100' : '0',
      Source: 'Smile Links',
    };
  }

  const routes: SandboxRoute[] = [
    {
      method: 'POST',
      path: /^\/v1\/smile_links$/,
      async handle({ req, res }) {
        const body = await authenticatedBody(req, res);
        if (body === null) return;
        const partnerParams = readPartnerParams(body.partner_params);
        const name = text(body.name);
        if (partnerParams === null || name === null || !Array.isArray(body.id_types) || body.id_types.length === 0) {
          sendJson(res, 400, MISSING_PARAMETER);
          return;
        }
        const expiresAt = body.expires_at === undefined || body.expires_at === null ? null : new Date(String(body.expires_at));
        const callbackUrl = body.callback_url === undefined || body.callback_url === null ? null : text(body.callback_url);
        if (
          (expiresAt !== null && Number.isNaN(expiresAt.getTime())) ||
          (body.callback_url != null && (callbackUrl === null || !URL.canParse(callbackUrl)))
        ) {
          sendJson(res, 400, WRONG_TYPE);
          return;
        }
        const link = store.create({
          name,
          userId: text(body.user_id),
          partnerParams,
          idTypes: body.id_types as unknown[],
          callbackUrl,
          isSingleUse: body.is_single_use === true,
          expiresAt,
        });
        options.logger.info({ refId: link.refId, jobId: partnerParams.job_id }, 'smileid sandbox: link created');
        sendJson(res, 201, { link: linkUrl(options.publicUrl(), link), ref_id: link.refId });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/job_status$/,
      async handle({ req, res }) {
        const body = await authenticatedBody(req, res);
        if (body === null) return;
        const jobId = text(body.job_id);
        const userId = text(body.user_id);
        if (jobId === null || userId === null) {
          sendJson(res, 400, MISSING_PARAMETER);
          return;
        }
        const found = store.findJob(jobId, userId);
        if (found === undefined) {
          // Before the user submits on the link there is no job for this job_id.
          sendJson(res, 404, { error: `No job found for job_id ${jobId} and user_id ${userId}` });
          return;
        }
        sendJson(res, 200, {
          ...signedNow(options.partnerId, options.apiKey),
          job_complete: found.job.complete,
          job_success: found.job.success,
          result: callbackResult(found.link, found.job),
          history: body.history === true ? [] : undefined,
          image_links: body.image_links === true ? {} : undefined,
        });
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${LINKS_INDEX_PATH}$`),
      handle: ({ res }) => sendHtml(res, 200, linksIndexPage(store.list())),
    },
    {
      method: 'GET',
      path: new RegExp(`^${LINK_PATH}/([^/]+)$`),
      handle({ res, params }) {
        const link = store.get(params[0] ?? '');
        if (link === undefined) sendHtml(res, 404, notFoundPage('This Smile Link is not valid.'));
        else if (store.isExpired(link)) sendHtml(res, 410, expiredPage(link));
        else sendHtml(res, 200, linkPage(link));
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^${LINK_PATH}/([^/]+)$`),
      async handle({ req, res, params }) {
        const decision = new URLSearchParams((await readBody(req)).toString('utf8')).get('decision');
        const link = store.get(params[0] ?? '');
        if (link === undefined) {
          sendHtml(res, 404, notFoundPage('This Smile Link is not valid.'));
          return;
        }
        if (store.isExpired(link)) {
          sendHtml(res, 410, expiredPage(link));
          return;
        }
        if (!isSmileIdDecision(decision)) {
          sendHtml(res, 400, notFoundPage(`Unknown decision ${JSON.stringify(decision)}.`));
          return;
        }
        const job = store.decide(link.refId, decision);
        if (job === undefined) return;
        // The link's callback_url wins, as with SmileID; the configured target stands in for the portal default.
        const target = link.callbackUrl ?? options.webhookTarget;
        if (target === undefined) options.logger.warn({ refId: link.refId }, 'smileid sandbox: no callback URL, result not sent');
        else callbacks.send({ target, refId: link.refId, result: callbackResult(link, job) });
        options.logger.info({ refId: link.refId, decision, resultCode: job.resultCode }, 'smileid sandbox: result decided');
        sendHtml(res, 200, decisionSentPage(link, decision));
      },
    },
  ];

  return {
    routes,
    links: () => store.list(),
    close: () => callbacks.close(),
  };
}

function parseObject(raw: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(raw);
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** partner_params with the three keys SmileID requires (job_type may be a number or a string). */
function readPartnerParams(value: unknown): PartnerParams | null {
  if (!isObject(value)) return null;
  const jobId = text(value.job_id);
  const userId = text(value.user_id);
  const jobType = value.job_type;
  if (jobId === null || userId === null || !((typeof jobType === 'number' && Number.isFinite(jobType)) || text(jobType) !== null))
    return null;
  return { ...value, job_id: jobId, user_id: userId, job_type: jobType as string | number };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
