// A workflow that no traced message reached makes no spans: the tracing interceptors are loaded
// into it only once a start, signal or update carries a trace context (wiring/workflow-tracing.ts).
// Observed at the sink workflow spans leave the sandbox through, over the recorded histories,
// whose starts and signals carry none, and over one of them given a traced start or a traced
// signal while it runs.
import { Worker } from '@temporalio/worker';
import t, { type Test } from 'tap';
import { TRACE_HEADER } from '../../wiring/workflow-tracing.ts';
import { loadRecordedHistories, replayWorkerOptions, type RecordedHistory } from '../helpers/recorded-histories.ts';

type Attributes = { header?: { fields?: Record<string, unknown> } };
type HistoryEvent = { eventType: string } & Record<string, Attributes | string>;

async function spansExported(t: Test, histories: RecordedHistory[]): Promise<number> {
  let spans = 0;
  const options = {
    ...(await replayWorkerOptions()),
    sinks: {
      exporter: { export: { fn: (_info: unknown, exported: unknown[]) => void (spans += exported.length), callDuringReplay: true } },
    },
  };
  for await (const result of Worker.runReplayHistories(options, histories))
    t.equal(result.error, undefined, `${result.workflowId} replays`, result.error ? { error: String(result.error) } : {});
  return spans;
}

/** The history with a trace context on its first event of `eventType`, as the API sends it while tracing is on. */
function withTraceContextOn(recorded: RecordedHistory, eventType: string, attributes: string): RecordedHistory {
  const history = structuredClone(recorded.history) as { events: HistoryEvent[] };
  const event = history.events.find((e) => e.eventType === eventType)!;
  const carrier = { traceparent: '00-10acde75170b3eb1ad402149e5375ca1-2d6e97a8564c417d-01' };
  (event[attributes] as Attributes).header = {
    fields: {
      [TRACE_HEADER]: {
        metadata: { encoding: Buffer.from('json/plain').toString('base64') },
        data: Buffer.from(JSON.stringify(carrier)).toString('base64'),
      },
    },
  };
  return { workflowId: `${recorded.workflowId}-traced`, history };
}

t.test('workflows whose starts and signals carry no trace context export no span', async (t) => {
  const histories = await loadRecordedHistories();
  t.equal(await spansExported(t, histories), 0);
});

t.test('a workflow started with a trace context exports its spans', async (t) => {
  const approve = (await loadRecordedHistories()).find((h) => h.workflowId === 'approve')!;
  const traced = withTraceContextOn(approve, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', 'workflowExecutionStartedEventAttributes');
  t.ok((await spansExported(t, [traced])) > 0, 'the check can tell: the traced start loads the interceptors');
});

t.test('a traced signal to a running untraced workflow loads them there, and the history still replays', async (t) => {
  const approve = (await loadRecordedHistories()).find((h) => h.workflowId === 'approve')!;
  const traced = withTraceContextOn(approve, 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', 'workflowExecutionSignaledEventAttributes');
  t.ok((await spansExported(t, [traced])) > 0, 'spans from the signal on');
});
