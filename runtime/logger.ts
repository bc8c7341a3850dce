import { pino, type Logger } from 'pino';
import type { Env } from '../config/env.js';

/**
 * JSON logs with the correlation id as a field. Request and response bodies are never logged
 * (they carry personal data); fields that could, are redacted if someone logs them anyway.
 */
export function createLogger(env: Pick<Env, 'LOG_LEVEL'>, name = 'veriflow'): Logger {
  return pino({
    name,
    level: env.LOG_LEVEL,
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.applicant', '*.document', '*.payload'], censor: '[redacted]' },
  });
}
