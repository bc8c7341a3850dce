// What a sandbox logged, for tests that wait on its deliveries: a retry schedule that has run
// out logs `… giving up`, after which no more attempts of that delivery can arrive. Waiting on
// that line replaces a fixed sleep before counting what a receiver got.
import type { SandboxLogger } from '../../sandbox/http.ts';

export interface SandboxLog {
  logger: SandboxLogger;
  /** How many logged messages match. */
  count(message: RegExp): number;
}

export function sandboxLog(): SandboxLog {
  const messages: string[] = [];
  const record = (_details: object, message: string) => void messages.push(message);
  return {
    logger: { info: record, warn: record },
    count: (message) => messages.filter((m) => message.test(m)).length,
  };
}
