// `npm run build`: the production artefacts in dist/. TypeScript compiled once by tsc, the
// migrations copied beside the compiled migrator, and the workflow code bundled once into
// dist/workflow-bundle.js (the `production` sample's pattern), so a production process starts
// with `node dist/…`: no type stripping, no TypeScript compiler and no webpack at start-up.
import { spawn } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { bundleWorkflows, WORKFLOW_BUNDLE_FILE } from '../wiring/worker-root.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--out-dir` lets a test build a private copy; it must stay inside the project so the compiled
// files resolve node_modules as dist/ does.
const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
const dist = `${resolve(root, values['out-dir'])}/`;

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  await rm(dist, { recursive: true, force: true });
  console.log('build: compiling TypeScript (tsconfig.build.json)…');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dist]);
  await mkdir(`${dist}db`, { recursive: true });
  await cp(`${root}db/migrations`, `${dist}db/migrations`, { recursive: true });
  console.log('build: bundling workflow code…');
  // As every worker bundles from source (wiring/worker-root.ts): the same failure converter as
  // the workers' data converter, so workflow errors are encrypted too, and the tracing
  // interceptors. The compiled worker loads this bundle instead of bundling itself.
  const { code } = await bundleWorkflows('WARN');
  await writeFile(`${dist}${WORKFLOW_BUNDLE_FILE}`, code);
  console.log(
    `build: ${dist} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (node ${values['out-dir']}/api/server.js, node ${values['out-dir']}/worker.js)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
