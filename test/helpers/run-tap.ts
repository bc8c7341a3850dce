// Both suite runners (`npm test`, `npm run test:cluster`) start a Temporal server, then hand tap
// its address: this is the handing over.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs tap from the project root with these arguments and extra environment; resolves with its exit code (1 when killed). */
export async function runTap(args: string[], env: Record<string, string>): Promise<{ code: number; signal: string | null }> {
  const tap = spawn(join(ROOT, 'node_modules', '.bin', 'tap'), args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  const [code, signal] = (await once(tap, 'exit')) as [number | null, string | null];
  return { code: code ?? 1, signal };
}
