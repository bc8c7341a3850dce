// The Web UI's "Stack Trace" tab queries a running workflow for where it waits. The SDK captures a
// stack for every promise workflow code creates to answer it, 40–55% of the worker's workflow
// CPU, so WORKFLOW_STACK_TRACES turns it off (the default in production) and on.
import t from 'tap';
import { createVerification } from '../helpers/versioning.ts';
import { startStack } from '../helpers/stack.ts';
import { getStateQuery } from '../../workflows/messages.ts';

t.test('stack traces on: the query names the verification workflow source', async (t) => {
  const stack = await startStack(t, { worker: false });
  await stack.startWorker({ tuning: { workflowStackTraces: true } });
  const { handle } = await createVerification(stack, 'persona', 'stack-traces-on');
  const trace = await handle.query<string>('__stack_trace');
  t.match(trace, /workflows\/verification(-run)?\.ts:\d+/, 'source-mapped to the workflow code');
});

t.test('stack traces off: the verification runs and answers its queries, the stack-trace query fails', async (t) => {
  const stack = await startStack(t, { worker: false });
  await stack.startWorker({ tuning: { workflowStackTraces: false } });
  const { handle, sessionUrl } = await createVerification(stack, 'persona', 'stack-traces-off');
  t.ok(sessionUrl, 'the workflow opened the session');
  const state = await handle.query(getStateQuery);
  t.ok(state, 'the workflow answers its own queries');
  // The reason travels as an encrypted failure message (wiring/failure-converter.ts): the query fails.
  await t.rejects(handle.query('__stack_trace'), 'the stack-trace query fails');
});
