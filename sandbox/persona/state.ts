import { randomBytes } from 'node:crypto';
import { inventedGovernmentId, type GovernmentIdAttributes } from './government-id.ts';

// The simulated inquiries, in memory, and the status changes Persona would make to them.

export const PERSONA_DECISIONS = ['approved', 'declined', 'needs_review'] as const;
export type PersonaDecision = (typeof PERSONA_DECISIONS)[number];
export type SimulatedInquiryStatus = 'created' | 'completed' | PersonaDecision;

export function isPersonaDecision(value: unknown): value is PersonaDecision {
  return typeof value === 'string' && (PERSONA_DECISIONS as readonly string[]).includes(value);
}

export interface SimulatedGovernmentId {
  verificationId: string;
  documentId: string;
  createdAt: Date;
  completedAt: Date;
  attributes: GovernmentIdAttributes;
}

export interface SimulatedInquiry {
  id: string;
  referenceId: string | null;
  templateId: string;
  status: SimulatedInquiryStatus;
  oneTimeLinkCode: string;
  createdAt: Date;
  expiresAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  decisionedAt: Date | null;
  markedForReviewAt: Date | null;
  governmentId: SimulatedGovernmentId | null;
}

/** A status change worth a webhook: the event name and the inquiry as it was right after. */
export interface InquiryTransition {
  eventName: string;
  at: Date;
  inquiry: SimulatedInquiry;
}

const DECISION_EVENT: Record<PersonaDecision, string> = {
  approved: 'inquiry.approved',
  declined: 'inquiry.declined',
  needs_review: 'inquiry.marked-for-review',
};

// Persona's default: an inquiry and its one-time link expire 24 h after creation.
const INQUIRY_TTL_MS = 24 * 60 * 60 * 1000;

/** Persona-looking ids: a prefix and 24 base62 characters. */
export function personaId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `${prefix}_${[...randomBytes(24)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}

export function createInquiryStore(now: () => Date = () => new Date()) {
  const inquiries = new Map<string, SimulatedInquiry>();
  const byIdempotencyKey = new Map<string, string>();
  let lastTime = 0;

  // Strictly increasing, so events made in the same millisecond still order by created-at.
  function tick(): Date {
    lastTime = Math.max(now().getTime(), lastTime + 1);
    return new Date(lastTime);
  }

  return {
    tick,

    /** Same idempotency key, same inquiry (`created: false`), as Persona does. */
    create(input: { templateId: string; referenceId: string | null; idempotencyKey: string | null }) {
      const known = input.idempotencyKey === null ? undefined : byIdempotencyKey.get(input.idempotencyKey);
      const existing = known === undefined ? undefined : inquiries.get(known);
      if (existing !== undefined) return { inquiry: existing, created: false };

      const createdAt = tick();
      const inquiry: SimulatedInquiry = {
        id: personaId('inq'),
        referenceId: input.referenceId,
        templateId: input.templateId,
        status: 'created',
        oneTimeLinkCode: personaId('otl'),
        createdAt,
        expiresAt: new Date(createdAt.getTime() + INQUIRY_TTL_MS),
        startedAt: null,
        completedAt: null,
        decisionedAt: null,
        markedForReviewAt: null,
        governmentId: null,
      };
      inquiries.set(inquiry.id, inquiry);
      if (input.idempotencyKey !== null) byIdempotencyKey.set(input.idempotencyKey, inquiry.id);
      return { inquiry, created: true };
    },

    get: (id: string) => inquiries.get(id),

    list: () => [...inquiries.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()),

    /**
     * The user finishes the flow (first time only: inquiry.completed, with the ID read), then the
     * decision lands. Deciding again is a reviewer changing it in Persona's dashboard.
     */
    decide(id: string, decision: PersonaDecision): InquiryTransition[] {
      const inquiry = inquiries.get(id);
      if (inquiry === undefined) return [];
      const transitions: InquiryTransition[] = [];

      if (inquiry.completedAt === null) {
        const startedAt = tick();
        const completedAt = tick();
        inquiry.startedAt = startedAt;
        inquiry.completedAt = completedAt;
        inquiry.status = 'completed';
        inquiry.governmentId = {
          verificationId: personaId('ver'),
          documentId: personaId('doc'),
          createdAt: startedAt,
          completedAt,
          attributes: inventedGovernmentId(inquiry.id),
        };
        transitions.push({ eventName: 'inquiry.completed', at: tick(), inquiry: structuredClone(inquiry) });
      }

      const decidedAt = tick();
      inquiry.status = decision;
      if (decision === 'needs_review') inquiry.markedForReviewAt = decidedAt;
      else inquiry.decisionedAt = decidedAt;
      transitions.push({ eventName: DECISION_EVENT[decision], at: tick(), inquiry: structuredClone(inquiry) });
      return transitions;
    },
  };
}

export type InquiryStore = ReturnType<typeof createInquiryStore>;
