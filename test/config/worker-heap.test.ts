import t from 'tap';
import { workflowCacheHeapProblem } from '../../config/worker-heap.ts';

t.test('a cache fits a heap of about 1 MB per cached verification and 60 MB besides', async (t) => {
  t.equal(workflowCacheHeapProblem(100, 240), null, 'the default cache in the production heap (192 MB old + 48 MB young)');
  t.equal(workflowCacheHeapProblem(180, 240), null, 'exactly at the limit');
  t.equal(workflowCacheHeapProblem(0, 64), null, 'no cache');
  t.match(
    workflowCacheHeapProblem(181, 240),
    /^WORKER_MAX_CACHED_WORKFLOWS: 181 cached verifications need about 241 MB .* limit is 240 MB .* at least 241 MB, or lower WORKER_MAX_CACHED_WORKFLOWS to 180\.$/,
  );
  t.match(workflowCacheHeapProblem(100, 50), /lower WORKER_MAX_CACHED_WORKFLOWS to 0\.$/, 'never a negative cache');
});
