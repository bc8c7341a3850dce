// The worker's reusable V8 context shares the modules of workflows/shared-modules.ts between its
// workflows instead of initialising them for each one. Observed as the SDK sees it: a module the
// context loaded before any workflow existed is in its module cache with no workflow running.
import t from 'tap';
import { reusableContext } from '../helpers/reusable-context.ts';
import { workflowBundle } from '../helpers/stack.ts';

/** Webpack's id of every module of a package in the bundle (development mode: its path). */
function moduleIds(code: string, pathPrefix: string): string[] {
  const ids = [...code.matchAll(/^\/\*\*\*\/ "(\.\/[^"]+)"/gm)].map((m) => m[1]!);
  return ids.filter((id) => id.startsWith(pathPrefix));
}

t.test('every workflow of a thread shares one instance of the semantic conventions', async (t) => {
  const { code } = await workflowBundle();
  const creator = await reusableContext(code);
  t.teardown(() => creator.destroy());
  const sharedCache = creator.context.__webpack_module_cache__;

  const semanticConventions = moduleIds(code, './node_modules/@opentelemetry/semantic-conventions/');
  t.ok(semanticConventions.length > 0, 'the tracing interceptors bundle the semantic conventions');
  for (const id of semanticConventions) t.ok(sharedCache[id], `${id} is loaded once, for every workflow`);

  // The check can tell: a workflow's own modules are not in the shared cache.
  const ownModules = moduleIds(code, './workflows/').filter((id) => id !== './workflows/shared-modules.ts');
  t.ok(ownModules.length > 0, 'the bundle has workflow modules of its own');
  for (const id of ownModules) t.notOk(sharedCache[id], `${id} is each workflow's own`);
});
