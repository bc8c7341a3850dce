import type { WebhookChaos } from '../chaos.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendHtml, sendJson, type SandboxLogger, type SandboxRoute } from '../http.ts';
import { IDMETA_PAGES_PATH, OUTCOMES, indexPage, notFoundPage, verifyPage, type Outcome } from './pages.ts';
import {
  ID_CHECK_FIELDS,
  STATUS,
  STATUS_MESSAGE,
  StepNotInTemplateError,
  createIdmetaStore,
  eventId,
  type SimStatus,
  type SimTemplate,
  type SimVerification,
} from './state.ts';
import { IDMETA_RETRY_DELAYS_MS, createIdmetaWebhookSender } from './webhooks.ts';

// IDmeta's API as veriflow uses it (Bearer token, Laravel-style `{ message }` errors), the hosted
// multi-step page, and admin knobs for tests:
//   GET  /api/v1/templates?page=&per_page=   GET /api/v1/templates/:id
//   POST /api/v1/verification/create-verification   POST /api/v1/verification/finalize-verification
//   POST /api/v1/verification/<plan key>   (document, selfie, database_check, philippines/nbiclearance, …)
//   GET  /api/v1/verification/:id
//   GET  /idmeta   GET|POST /idmeta/verify/:id   (hosted flow: complete step, outcome, chaos)
//   POST /idmeta/admin/templates { count }   POST /idmeta/admin/chaos { verification_id | template_id, step?, failures?, delay_ms? }
//   POST /idmeta/admin/outage { enabled }    GET  /idmeta/admin/verifications/:id (per-step counters)
// Webhooks (`X-IDmeta-Signature`: hex HMAC-SHA256 of the body) on every completed step, on
// finalize and on a later change of decision.

export interface IdmetaSimulatorOptions {
  /** Base of the hosted links; a function because the port is known only after listening. */
  publicUrl: () => string;
  apiKey: string;
  webhookSecret: string;
  webhookTarget: string | null;
  retryDelaysMs?: readonly number[] | undefined;
  logger: SandboxLogger;
  /** Shuffles, duplicates, delays or drops first attempts when switched on; off when omitted. */
  chaos?: WebhookChaos | undefined;
}

const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 20;
const UUID = '[0-9a-fA-F-]{36}';

const OUTCOME_STATUS: Record<Outcome, SimStatus> = {
  verified: STATUS.verified,
  review_needed: STATUS.reviewNeeded,
  rejected: STATUS.rejected,
};

export function createIdmetaSimulator(options: IdmetaSimulatorOptions) {
  const store = createIdmetaStore();
  const webhooks = createIdmetaWebhookSender({
    target: options.webhookTarget,
    secret: options.webhookSecret,
    retryDelaysMs: options.retryDelaysMs ?? IDMETA_RETRY_DELAYS_MS,
    logger: options.logger,
    chaos: options.chaos,
  });

  /** Bearer auth, then the outage knob; false once answered. */
  function admitted(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
      sendJson(res, 401, { message: 'Unauthenticated.' });
      return false;
    }
    if (store.outage) {
      res
        .writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' })
        .end(JSON.stringify({ message: 'Service temporarily unavailable' }));
      return false;
    }
    return true;
  }

  function templateJson(template: SimTemplate) {
    return {
      id: template.id,
      company_id: 1,
      name: template.name,
      plans: template.plans.map((p) => ({ key: p.key, name: p.name })),
      is_active: template.isActive,
      webhook_url: options.webhookTarget,
      created_at: template.createdAt.toISOString(),
      updated_at: template.updatedAt.toISOString(),
    };
  }

  function verificationJson(v: SimVerification) {
    return {
      id: v.id,
      user_id: 1,
      company_id: 1,
      template_id: v.templateId,
      status: v.status,
      status_message: STATUS_MESSAGE[v.status],
      verification_date: v.createdAt.toISOString(),
      verification_started_at: v.createdAt.toISOString(),
      verification_ended_at: v.endedAt?.toISOString() ?? null,
      updated_at: v.updatedAt.toISOString(),
      metadata: v.metadata,
      verification_data: v.steps.filter((s) => s.completed).map((s) => ({ plan: s.key, status: s.status, data: s.data })),
      verification_url: `${options.publicUrl()}${IDMETA_PAGES_PATH}/verify/${v.id}`,
    };
  }

  function notify(event: string, v: SimVerification): void {
    const id = eventId();
    const { id: vid, template_id, status, status_message, metadata } = verificationJson(v);
    const body = JSON.stringify({
      event_id: id,
      event,
      created_at: new Date().toISOString(),
      verification: { id: vid, template_id, status, status_message, metadata },
    });
    webhooks.send({ eventId: id, event, body });
  }

  function finalizeAndNotify(v: SimVerification): string[] {
    const { missing, changed } = store.finalize(v);
    if (changed && v.finalized) notify('verification.finalized', v);
    return missing;
  }

  const routes: SandboxRoute[] = [
    {
      method: 'GET',
      path: /^\/api\/v1\/templates$/,
      handle({ req, res, url }) {
        if (!admitted(req, res)) return;
        const perPage = clamp(Number(url.searchParams.get('per_page') ?? DEFAULT_PER_PAGE), 1, MAX_PER_PAGE);
        const all = store.templates();
        const lastPage = Math.max(1, Math.ceil(all.length / perPage));
        const page = clamp(Number(url.searchParams.get('page') ?? 1), 1, Number.MAX_SAFE_INTEGER);
        const data = all.slice((page - 1) * perPage, page * perPage).map(templateJson);
        sendJson(res, 200, { data, meta: { current_page: page, last_page: lastPage, per_page: perPage, total: all.length } });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/v1\/templates\/([^/]+)$/,
      handle({ req, res, params }) {
        if (!admitted(req, res)) return;
        const template = store.template(Number(params[0]));
        if (template === undefined) sendJson(res, 404, { message: 'Template not found' });
        else sendJson(res, 200, { data: templateJson(template) });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/v1\/verification\/create-verification$/,
      async handle({ req, res }) {
        if (!admitted(req, res)) return;
        const body = await jsonBody(req);
        const template = store.template(Number(body?.template_id));
        if (body === null || body.template_id === undefined) return sendJson(res, 422, { message: 'The template id field is required.' });
        if (template === undefined || !template.isActive)
          return sendJson(res, 404, { message: `Template ${String(body.template_id)} not found` });
        const key = idempotencyKey(req);
        const replayed = key === null ? undefined : store.answeredFor(`create:${key}`);
        if (replayed !== undefined) return sendJson(res, 200, replayed);
        const verification = store.create(template, isObject(body.metadata) ? body.metadata : null);
        const answer = {
          message: 'Verification created successfully',
          verification: verificationJson(verification),
          template: templateJson(template),
        };
        if (key !== null) store.remember(`create:${key}`, answer);
        options.logger.info({ verificationId: verification.id, templateId: template.id }, 'idmeta sandbox: verification created');
        sendJson(res, 200, answer);
      },
    },
    {
      method: 'POST',
      path: /^\/api\/v1\/verification\/finalize-verification$/,
      async handle({ req, res }) {
        if (!admitted(req, res)) return;
        const body = await jsonBody(req);
        const verification = store.get(String(body?.verification_id ?? ''));
        if (verification === undefined) return sendJson(res, 404, { message: 'Verification not found' });
        verification.finalizeCalls += 1;
        const missing = finalizeAndNotify(verification);
        sendJson(res, 200, {
          message: verification.finalized ? 'Verification finalized successfully' : 'Verification is incomplete',
          verification: verificationJson(verification),
          missing_plans: missing,
          status: verification.status,
          status_message: STATUS_MESSAGE[verification.status],
          finalized: verification.finalized,
        });
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/api/v1/verification/(${UUID})$`),
      handle({ req, res, params }) {
        if (!admitted(req, res)) return;
        const verification = store.get(params[0] ?? '');
        if (verification === undefined) sendJson(res, 404, { message: 'Verification not found' });
        else sendJson(res, 200, { verification: verificationJson(verification) });
      },
    },
    {
      // One plan (step) of the verification's template; the key is the rest of the path.
      method: 'POST',
      path: /^\/api\/v1\/verification\/([a-z0-9_-]+(?:\/[a-z0-9_-]+)*)$/,
      async handle({ req, res, params }) {
        if (!admitted(req, res)) return;
        const key = params[0] ?? '';
        const body = await jsonBody(req);
        const verification = store.get(String(body?.verification_id ?? ''));
        if (verification === undefined) return sendJson(res, 404, { message: 'Verification not found' });
        const step = verification.steps.find((s) => s.key === key);
        if (step === undefined) return sendJson(res, 422, { message: `Plan ${key} is not part of template ${verification.templateId}` });
        step.calls += 1;
        const idemKey = idempotencyKey(req);
        const replayed = idemKey === null ? undefined : store.answeredFor(`step:${verification.id}:${key}:${idemKey}`);
        if (replayed !== undefined) {
          step.successes += 1;
          return sendJson(res, 200, replayed);
        }
        if (step.failuresLeft > 0) {
          step.failuresLeft -= 1;
          step.failures += 1;
          res
            .writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' })
            .end(JSON.stringify({ message: 'Service temporarily unavailable' }));
          return;
        }
        const numberField = ID_CHECK_FIELDS[key];
        if (numberField !== undefined && !step.completed && (typeof body?.[numberField] !== 'string' || body[numberField] === '')) {
          return sendJson(res, 422, { message: `The ${numberField} field is required.`, request_status: 2 });
        }
        if (verification.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, verification.delayMs));
        // A step the user already completed on the hosted page answers with its result; it does not run again.
        if (store.complete(verification, step, 'api', body ?? {})) notify('verification.step_completed', verification);
        step.successes += 1;
        const answer = { status: true, message: 'OK', request_status: 1, plan: key, verification_status: step.status, result: step.data };
        if (idemKey !== null) store.remember(`step:${verification.id}:${key}:${idemKey}`, answer);
        sendJson(res, 200, answer);
      },
    },
    {
      method: 'GET',
      path: /^\/idmeta\/?$/,
      handle({ res }) {
        sendHtml(res, 200, indexPage(store.templates(), store.list(), store.outage));
      },
    },
    {
      method: 'GET',
      path: /^\/idmeta\/verify\/([^/]+)$/,
      handle({ res, params }) {
        const verification = store.get(params[0] ?? '');
        if (verification === undefined) sendHtml(res, 404, notFoundPage('This verification link is not valid.'));
        else sendHtml(res, 200, verifyPage(verification));
      },
    },
    {
      method: 'POST',
      path: /^\/idmeta\/verify\/([^/]+)$/,
      async handle({ req, res, params }) {
        const verification = store.get(params[0] ?? '');
        if (verification === undefined) return sendHtml(res, 404, notFoundPage('This verification link is not valid.'));
        const form = new URLSearchParams((await readBody(req)).toString('utf8'));
        const action = form.get('action');
        if (action === 'complete_step') {
          const next = verification.steps.find((s) => !s.completed);
          if (next !== undefined && store.complete(verification, next, 'hosted', hostedFields(next.key)))
            notify('verification.step_completed', verification);
          return sendHtml(
            res,
            200,
            verifyPage(verification, next === undefined ? 'Every step is already completed.' : `${next.name} completed.`),
          );
        }
        if (action === 'decide') {
          const outcome = OUTCOMES.find((o) => o.value === form.get('outcome'))?.value;
          if (outcome === undefined) return sendHtml(res, 400, notFoundPage(`Unknown outcome ${JSON.stringify(form.get('outcome'))}.`));
          decide(verification, OUTCOME_STATUS[outcome]);
          return sendHtml(
            res,
            200,
            verifyPage(verification, `Outcome sent: ${outcome}. IDmeta notifies the integration with signed webhooks.`),
          );
        }
        if (action === 'chaos') {
          const step = form.get('step') ?? '';
          try {
            store.applyChaos(verification, { failures: { [step]: Number(form.get('failures') ?? 0) } });
          } catch (error) {
            if (error instanceof StepNotInTemplateError) return sendHtml(res, 400, notFoundPage(error.message));
            throw error;
          }
          return sendHtml(res, 200, verifyPage(verification, `The next ${Number(form.get('failures') ?? 0)} calls of ${step} answer 503.`));
        }
        sendHtml(res, 400, notFoundPage(`Unknown action ${JSON.stringify(action)}.`));
      },
    },
    {
      method: 'POST',
      path: /^\/idmeta\/admin\/templates$/,
      async handle({ req, res }) {
        const count = Number((await jsonBody(req))?.count);
        if (!Number.isInteger(count) || count < 0 || count > 100_000)
          return sendJson(res, 400, { message: 'count must be an integer from 0 to 100000' });
        store.setTemplateCount(count);
        sendJson(res, 200, { templates: store.templates().length });
      },
    },
    {
      method: 'POST',
      path: /^\/idmeta\/admin\/chaos$/,
      async handle({ req, res }) {
        const body = await jsonBody(req);
        if (body === null) return sendJson(res, 400, { message: 'JSON body required' });
        const failures = typeof body.step === 'string' ? { [body.step]: Number(body.failures ?? 0) } : undefined;
        const chaos = {
          ...(failures === undefined ? {} : { failures }),
          ...(body.delay_ms === undefined ? {} : { delayMs: Number(body.delay_ms) }),
        };
        if (typeof body.verification_id === 'string') {
          const verification = store.get(body.verification_id);
          if (verification === undefined) return sendJson(res, 404, { message: 'Verification not found' });
          try {
            store.applyChaos(verification, chaos);
          } catch (error) {
            if (error instanceof StepNotInTemplateError) return sendJson(res, 422, { message: error.message });
            throw error;
          }
          return sendJson(res, 200, { verification_id: verification.id, armed: chaos });
        }
        const template = body.template_id === undefined ? undefined : store.template(Number(body.template_id));
        if (template !== undefined) {
          const unknown = Object.keys(chaos.failures ?? {}).find((key) => !template.plans.some((p) => p.key === key));
          if (unknown !== undefined) return sendJson(res, 422, { message: `Plan ${unknown} is not part of template ${template.id}` });
          store.armTemplateChaos(template.id, chaos);
          return sendJson(res, 200, { template_id: template.id, armed: chaos });
        }
        sendJson(res, 400, { message: 'Name an existing verification_id or template_id' });
      },
    },
    {
      method: 'POST',
      path: /^\/idmeta\/admin\/outage$/,
      async handle({ req, res }) {
        store.setOutage((await jsonBody(req))?.enabled === true);
        sendJson(res, 200, { outage: store.outage });
      },
    },
    {
      method: 'GET',
      path: /^\/idmeta\/admin\/verifications\/([^/]+)$/,
      handle({ res, params }) {
        const v = store.get(params[0] ?? '');
        if (v === undefined) return sendJson(res, 404, { message: 'Verification not found' });
        sendJson(res, 200, {
          id: v.id,
          template_id: v.templateId,
          status: v.status,
          status_message: STATUS_MESSAGE[v.status],
          finalized: v.finalized,
          finalize_calls: v.finalizeCalls,
          steps: v.steps.map((s) => ({
            key: s.key,
            completed: s.completed,
            completed_by: s.completedBy,
            status: s.status,
            calls: s.calls,
            failures: s.failures,
            successes: s.successes,
            executions: s.executions,
            failures_left: s.failuresLeft,
          })),
          webhooks: webhooks
            .sent()
            .filter((w) => w.body.includes(v.id))
            .map((w) => w.event),
        });
      },
    },
  ];

  /** An outcome from the hosted page: the user finishes the remaining steps, then the flow is finalized. */
  function decide(verification: SimVerification, decision: SimStatus): void {
    if (verification.finalized) {
      if (store.redecide(verification, decision)) notify('verification.status_changed', verification);
      return;
    }
    verification.decision = decision;
    for (const step of verification.steps) {
      if (store.complete(verification, step, 'hosted', hostedFields(step.key))) notify('verification.step_completed', verification);
    }
    finalizeAndNotify(verification);
  }

  return {
    routes,
    close: () => webhooks.close(),
  };
}

/** What the user "enters" on the hosted page for an ID check. */
function hostedFields(key: string): Record<string, unknown> {
  const field = ID_CHECK_FIELDS[key];
  return field === undefined ? {} : { [field]: 'HOSTED-0001', firstName: 'JUAN', lastName: 'DELA CRUZ' };
}

function idempotencyKey(req: IncomingMessage): string | null {
  const value = req.headers['idempotency-key'];
  return typeof value === 'string' && value !== '' ? value : null;
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  try {
    const parsed: unknown = JSON.parse((await readBody(req)).toString('utf8'));
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.floor(value))) : min;
}
