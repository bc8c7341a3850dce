import { randomBytes } from 'node:crypto';

// Simulated Smile Links and the jobs users create through them, in memory.

/** The outcomes the hosted link page offers, as the result code and text SmileID would report. */
export const SMILEID_DECISIONS = {
  approve: { code: '1012', text: 'ID Number Validated', final: true, success: true },
  reject: { code: '1013', text: 'ID Number Not Found', final: true, success: false },
  review: { code: '0814', text: 'Provisional Enroll - Under Review', final: false, success: false },
  error: { code: '1015', text: 'ID Number Service Unavailable', final: true, success: false },
} as const;
export type SmileIdDecision = keyof typeof SMILEID_DECISIONS;

export function isSmileIdDecision(value: unknown): value is SmileIdDecision {
  return typeof value === 'string' && Object.hasOwn(SMILEID_DECISIONS, value);
}

export interface PartnerParams {
  job_id: string;
  user_id: string;
  job_type: string | number;
  [key: string]: unknown;
}

export interface SimulatedJob {
  /** SmileID's internal job number (zero-padded, as in its examples). */
  smileJobId: string;
  resultCode: string;
  resultText: string;
  complete: boolean;
  success: boolean;
  decidedAt: Date;
}

export interface SimulatedLink {
  refId: string;
  name: string;
  userId: string | null;
  partnerParams: PartnerParams;
  idTypes: unknown[];
  callbackUrl: string | null;
  isSingleUse: boolean;
  createdAt: Date;
  expiresAt: Date;
  job: SimulatedJob | null;
}

// SmileID's default when a link names no expiry.
export const DEFAULT_LINK_TTL_MS = 90 * 24 * 60 * 60 * 1000;

export function createLinkStore(now: () => Date = () => new Date()) {
  const links = new Map<string, SimulatedLink>();
  let jobCounter = 0;

  return {
    create(input: Omit<SimulatedLink, 'refId' | 'createdAt' | 'job' | 'expiresAt'> & { expiresAt: Date | null }): SimulatedLink {
      const createdAt = now();
      const link: SimulatedLink = {
        ...input,
        refId: randomBytes(12).toString('hex'),
        createdAt,
        expiresAt: input.expiresAt ?? new Date(createdAt.getTime() + DEFAULT_LINK_TTL_MS),
        job: null,
      };
      links.set(link.refId, link);
      return link;
    },

    get: (refId: string) => links.get(refId),

    isExpired: (link: SimulatedLink) => now().getTime() >= link.expiresAt.getTime(),

    /** The job a partner job_id + user_id names, as job_status looks it up; the latest decided if several links share it. */
    findJob(jobId: string, userId: string): { link: SimulatedLink; job: SimulatedJob } | undefined {
      let found: { link: SimulatedLink; job: SimulatedJob } | undefined;
      for (const link of links.values()) {
        if (link.job === null || link.partnerParams.job_id !== jobId || link.partnerParams.user_id !== userId) continue;
        if (found === undefined || link.job.decidedAt >= found.job.decidedAt) found = { link, job: link.job };
      }
      return found;
    },

    list: () => [...links.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()),

    /** The user submits (first time) or a reviewer changes the result in the portal (later times). */
    decide(refId: string, decision: SmileIdDecision): SimulatedJob | undefined {
      const link = links.get(refId);
      if (link === undefined) return undefined;
      const outcome = SMILEID_DECISIONS[decision];
      const decidedAt = new Date(Math.max(now().getTime(), (link.job?.decidedAt.getTime() ?? 0) + 1));
      link.job = {
        smileJobId: link.job?.smileJobId ?? String(++jobCounter).padStart(10, '0'),
        resultCode: outcome.code,
        resultText: outcome.text,
        complete: outcome.final,
        success: outcome.success,
        decidedAt,
      };
      return link.job;
    },
  };
}

export type LinkStore = ReturnType<typeof createLinkStore>;
