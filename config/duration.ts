const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export class InvalidDurationError extends Error {
  readonly code = 'VF_INVALID_DURATION';
  override readonly name = 'InvalidDurationError';
}

/** `500ms`, `30s`, `5m`, `24h`, `7d` → milliseconds. Timers are configuration so tests run in seconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) throw new InvalidDurationError(`"${text}" is not a duration: use a number and a unit, e.g. 30s, 5m, 24h`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** `1s,5s,15s,1m` → [1000, 5000, 15000, 60000]: a retry schedule, one wait per retry. */
export function parseDurationList(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => part === ''))
    throw new InvalidDurationError(`"${text}" is not a list of durations: use e.g. 1s,5s,15s,1m`);
  return parts.map(parseDuration);
}
