// A workflow bundle loaded into the SDK's own executor for it, as the worker builds one per
// workflow thread (reuseV8Context), without a server: what modules its workflows share and what
// creating one costs can be observed there. The executor is SDK-internal (see the worker patch).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { ReusableVMWorkflowCreator } = require('@temporalio/worker/lib/workflow/reusable-vm.js');

export interface ReusableContext {
  /** The V8 context's globals, its module cache among them. */
  context: { __webpack_module_cache__: Record<string, unknown> };
  createWorkflow(options: object): Promise<unknown>;
  destroy(): Promise<void>;
}

/** Nothing here maps stack traces, so the source map the SDK requires may be empty. */
const EMPTY_SOURCE_MAP = JSON.stringify({ version: 3, sources: [], names: [], mappings: '' });

export function reusableContext(code: string): Promise<ReusableContext> {
  return ReusableVMWorkflowCreator.create({ code, filename: 'workflow-bundle.js', sourceMap: EMPTY_SOURCE_MAP }, 5000, new Set());
}
