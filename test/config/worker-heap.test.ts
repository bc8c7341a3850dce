import t from 'tap';
import { workflowCacheHeapProblem } from '../../config/worker-heap.ts';

// bench/cached-workflow-heap.ts: each cached verification keeps ~280 KB alive in the workflow
// thread, ~30 MB besides; the rule keeps what stays alive under about two thirds of the limit.
t.test('a cache fits a heap of 400 KB per cached verification and 60 MB besides', async (t) => {
  t.equal(workflowCacheHeapProblem(100, 176), null, 'the default cache in the production heap (128 MB old + 48 MB young)');
  t.equal(workflowCacheHeapProblem(460, 240), null, 'at the limit');
  t.equal(workflowCacheHeapProblem(0, 64), null, 'no cache');
  t.match(
    workflowCacheHeapProblem(461, 240),
    /^WORKER_MAX_CACHED_WORKFLOWS: 461 cached verifications need about 241 MB .* limit is 240 MB .* at least 241 MB, or lower WORKER_MAX_CACHED_WORKFLOWS to 460\.$/,
  );
  t.match(
    workflowCacheHeapProblem(1500, 240),
    /need about 646 MB/,
    'what ran out of heap 33 s into the scale phase (1,500 cached, --max-old-space-size=192) is refused',
  );
  t.match(workflowCacheHeapProblem(100, 50), /lower WORKER_MAX_CACHED_WORKFLOWS to 0\.$/, 'never a negative cache');
});
