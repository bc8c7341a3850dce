// The default outbound webhook retry schedule, defined once: in milliseconds for the workflows
// (a fallback for inputs written before the schedule was configurable), as OUTBOUND_RETRY_SCHEDULE
// spells it for the environment's default, and in words for the API's documentation.

/** The wait before each retry; after the last the delivery is dead. 1 s, 5 s, 15 s, then growing: over 24 h in all. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS: readonly number[] = [
  1_000, 5_000, 15_000, 60_000, 300_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000, 28_800_000,
];

const UNITS: readonly [unit: string, ms: number][] = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** `ms` in the largest unit that divides it (`90000` → `90s`, `3600000` → `1h`); `separator` goes between number and unit. */
export function durationText(ms: number, separator = ''): string {
  const [unit, size] = UNITS.find(([, size]) => ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${separator}${unit}`;
}

/** The default as OUTBOUND_RETRY_SCHEDULE takes it: `1s,5s,15s,…`. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS.map((ms) => durationText(ms)).join(',');

/** The default for people: `1 s, 5 s, 15 s, …`. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE_TEXT = DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS.map((ms) => durationText(ms, ' ')).join(', ');
