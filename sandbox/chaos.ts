// Webhook chaos for every simulator: deliver webhooks shuffled, duplicated, delayed or not at
// all, so the app's ordering, dedupe and fallback polling can be watched working. Switched at
// runtime from the sandbox home page or `POST /_chaos { "mode": "shuffle", "delayMs": 3000 }`.
import { readBody, sendJson, type SandboxRoute } from './http.ts';

export const CHAOS_MODES = ['off', 'shuffle', 'duplicate', 'delay', 'drop'] as const;
export type ChaosMode = (typeof CHAOS_MODES)[number];

export interface ChaosSetting {
  mode: ChaosMode;
  /** delay: every first attempt waits this long; shuffle: each waits a random time up to this. */
  delayMs: number;
}

export class WebhookChaos {
  private setting: ChaosSetting = { mode: 'off', delayMs: 2000 };
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly counts: Record<ChaosMode, number> = { off: 0, shuffle: 0, duplicate: 0, delay: 0, drop: 0 };

  get current(): ChaosSetting {
    return { ...this.setting };
  }

  set(setting: Partial<ChaosSetting>): ChaosSetting {
    if (setting.mode !== undefined && !CHAOS_MODES.includes(setting.mode)) throw new Error(`mode must be one of ${CHAOS_MODES.join(', ')}`);
    if (setting.delayMs !== undefined && !(Number.isFinite(setting.delayMs) && setting.delayMs >= 0 && setting.delayMs <= 600_000))
      throw new Error('delayMs must be 0..600000');
    this.setting = { ...this.setting, ...setting };
    return this.current;
  }

  /**
   * Sends one webhook's first attempt as the mode says. With chaos off it is awaited, so a
   * simulator's batch keeps its order; otherwise it is scheduled and this resolves at once.
   */
  dispatch(send: () => Promise<void>): Promise<void> {
    const { mode, delayMs } = this.setting;
    this.counts[mode] += 1;
    switch (mode) {
      case 'off':
        return send();
      case 'drop':
        return Promise.resolve();
      case 'delay':
        this.later(delayMs, send);
        return Promise.resolve();
      case 'shuffle':
        this.later(Math.random() * delayMs, send);
        return Promise.resolve();
      case 'duplicate':
        this.later(0, send);
        this.later(50 + Math.random() * delayMs, send);
        return Promise.resolve();
    }
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  routes(): SandboxRoute[] {
    return [
      { method: 'GET', path: /^\/_chaos$/, handle: ({ res }) => sendJson(res, 200, { ...this.current, counts: this.counts }) },
      {
        method: 'POST',
        path: /^\/_chaos$/,
        handle: async ({ req, res }) => {
          const raw = (await readBody(req)).toString('utf8');
          // The home page posts a form; scripts post JSON.
          const input = req.headers['content-type']?.startsWith('application/json')
            ? (JSON.parse(raw || '{}') as Partial<ChaosSetting>)
            : Object.fromEntries(new URLSearchParams(raw));
          try {
            const next = this.set({
              ...(input.mode !== undefined ? { mode: input.mode as ChaosMode } : {}),
              ...(input.delayMs !== undefined && String(input.delayMs) !== '' ? { delayMs: Number(input.delayMs) } : {}),
            });
            if (req.headers['content-type']?.startsWith('application/json')) sendJson(res, 200, next);
            else res.writeHead(303, { location: '/' }).end();
          } catch (err) {
            sendJson(res, 400, { error: (err as Error).message });
          }
        },
      },
    ];
  }

  private later(ms: number, send: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void send();
    }, ms);
    this.timers.add(timer);
  }
}
