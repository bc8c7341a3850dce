// What parseEnv says of a configuration: its refusal message, or '(accepted)'.
import { InvalidConfigError, parseEnv } from '../../config/env.ts';

export function refusal(env: Record<string, string>): string {
  try {
    parseEnv(env);
  } catch (err) {
    if (err instanceof InvalidConfigError) return err.message;
    throw err;
  }
  return '(accepted)';
}
