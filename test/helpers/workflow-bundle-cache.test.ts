import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import { cachedWorkflowBundle, type BundleFn } from './workflow-bundle-cache.ts';

// A stand-in for bundleWorkflowCode: the cache only reads the inline source map webpack appends
// (its `sources` are the bundled files' absolute paths), so a fake bundle is a code line and a map.
function fakeBundler(sources: string[]): BundleFn & { calls: number } {
  const bundler = Object.assign(
    async () => {
      bundler.calls += 1;
      const map = Buffer.from(JSON.stringify({ version: 3, sources: [...sources, 'webpack/bootstrap'], mappings: '' })).toString('base64');
      return { code: `/* bundle #${bundler.calls} */\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${map}\n` };
    },
    { calls: 0 },
  );
  return bundler;
}

async function fixture(t: Pick<Test, 'teardown'>) {
  const dir = await mkdtemp(join(tmpdir(), 'vf-bundle-cache-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const source = join(dir, 'workflow.ts');
  await writeFile(source, 'export const a = 1;\n');
  // Older than any bundle started now: the cache refuses sources written while it bundles.
  const past = new Date(Date.now() - 60_000);
  await utimes(source, past, past);
  return { cacheDir: join(dir, 'cache'), source, past };
}

const options = { workflowsPath: '/x/workflows/index.ts' };

t.test('the second call with unchanged sources reads the bundle the first one wrote', async (t) => {
  const { cacheDir, source } = await fixture(t);
  const bundle = fakeBundler([source]);
  const first = await cachedWorkflowBundle(options, { cacheDir, bundle });
  const second = await cachedWorkflowBundle(options, { cacheDir, bundle });
  t.equal(bundle.calls, 1, 'bundled once');
  t.equal(second.code, first.code);
});

t.test('a changed source is bundled again', async (t) => {
  const { cacheDir, source, past } = await fixture(t);
  const bundle = fakeBundler([source]);
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  await writeFile(source, 'export const a = 2;\n');
  await utimes(source, past, past);
  const again = await cachedWorkflowBundle(options, { cacheDir, bundle });
  t.equal(bundle.calls, 2);
  t.match(again.code, 'bundle #2');
  t.match((await cachedWorkflowBundle(options, { cacheDir, bundle })).code, 'bundle #2', 'and that bundle is cached');
  t.equal(bundle.calls, 2);
});

t.test('a removed source is bundled again', async (t) => {
  const { cacheDir, source } = await fixture(t);
  const bundle = fakeBundler([source]);
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  await rm(source);
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  t.equal(bundle.calls, 2);
});

t.test('a dependency counts by its package.json: the sources its own source map names need not exist', async (t) => {
  const { cacheDir, source, past } = await fixture(t);
  const packageDir = join(dirname(source), 'node_modules', '@scope', 'dep');
  await mkdir(packageDir, { recursive: true });
  const packageJson = join(packageDir, 'package.json');
  await writeFile(packageJson, '{"version":"1.0.0"}');
  await utimes(packageJson, past, past);
  const bundle = fakeBundler([source, join(packageDir, 'src', 'not-shipped.ts')]);
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  t.equal(bundle.calls, 1, 'cached');
  await writeFile(packageJson, '{"version":"1.0.1"}');
  await utimes(packageJson, past, past);
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  t.equal(bundle.calls, 2, 'another version of the dependency is bundled again');
});

t.test('other bundle options have a cache entry of their own', async (t) => {
  const { cacheDir, source } = await fixture(t);
  const bundle = fakeBundler([source]);
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  await cachedWorkflowBundle({ ...options, workflowInterceptorModules: ['/x/interceptors.js'] }, { cacheDir, bundle });
  t.equal(bundle.calls, 2);
});

t.test('a source written while bundling is not cached against that bundle', async (t) => {
  const { cacheDir, source } = await fixture(t);
  await utimes(source, new Date(), new Date(Date.now() + 60_000));
  const bundle = fakeBundler([source]);
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  t.equal(bundle.calls, 2);
});

t.test('an unreadable cache entry (a torn write, a different format) is bundled again and replaced', async (t) => {
  const { cacheDir, source } = await fixture(t);
  const bundle = fakeBundler([source]);
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  const [entry] = await readdir(cacheDir);
  await writeFile(join(cacheDir, entry!), '{"code": "trunc');
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  t.equal(bundle.calls, 2);
});

t.test('parallel callers (tap jobs) each get a whole bundle and leave one entry, no temporary files', async (t) => {
  const { cacheDir, source } = await fixture(t);
  const bundle = fakeBundler([source]);
  const results = await Promise.all([1, 2, 3, 4].map(() => cachedWorkflowBundle(options, { cacheDir, bundle })));
  for (const result of results) t.match(result.code, /^\/\* bundle #\d \*\//);
  t.equal((await readdir(cacheDir)).length, 1);
});

t.test('a bundle without a source map is used but not cached (nothing to check it against)', async (t) => {
  const { cacheDir } = await fixture(t);
  let calls = 0;
  const bundle: BundleFn = async () => ({ code: `/* ${++calls} */` });
  await cachedWorkflowBundle(options, { cacheDir, bundle });
  t.same(await cachedWorkflowBundle(options, { cacheDir, bundle }), { code: '/* 2 */' });
});
