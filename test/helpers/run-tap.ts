// Both suite runners (`npm test`, `npm run test:cluster`) start a Temporal server, then hand tap
// its address: this is the handing over.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TAP = join(ROOT, 'node_modules', '.bin', 'tap');

async function exitOf(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; signal: string | null }> {
  const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  return { code: code ?? 1, signal };
}

/**
 * Runs tap from the project root with these arguments and extra environment; resolves with its exit code (1 when killed).
 * tap builds its test class for the plugins package.json configures only during the first run after
 * an install, and that run still starts every file with the default plugins' loaders (a ts-node
 * loader among them): building first (a few seconds) makes every run, a fresh CI clone's too, use the configured set.
 */
export async function runTap(args: string[], env: Record<string, string>): Promise<{ code: number; signal: string | null }> {
  const withEnv = { ...process.env, ...env };
  const build = await exitOf(TAP, ['build'], withEnv);
  if (build.code !== 0) return build;
  return exitOf(TAP, args, withEnv);
}
