// The shipped Prometheus alerting rules (ops/prometheus/rules/*.yml) and Grafana dashboards
// (ops/grafana/*.json), every file of both directories: well-formed, the alerts issue 14 and
// seed 003 ask for are there, and every series they select exists at the /metrics of a running
// API and a running worker from the moment they start (label values are pre-initialised at zero).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { parseDocument } from 'yaml';
import { parseEnv } from '../../config/env.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { startApiProcess } from '../helpers/api-process.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { isPrometheusDuration, matches, parseExposition, selectorsOf, type Sample, type Selector } from '../helpers/promql.ts';
import { eventually } from '../helpers/stack.ts';
import { startTestTemporal } from '../helpers/temporal.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RULES_DIR = join(ROOT, 'ops/prometheus/rules');
const DASHBOARDS_DIR = join(ROOT, 'ops/grafana');
const SEVERITIES = ['critical', 'warning', 'info'];
const START_TIMEOUT_MS = 180_000;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface Query {
  where: string;
  expr: string;
}

function filesIn(dir: string, extension: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith(extension))
        .sort()
        .map((name) => join(dir, name))
    : [];
}

const ruleFiles = filesIn(RULES_DIR, '.yml');
const dashboardFiles = filesIn(DASHBOARDS_DIR, '.json');

function loadRules(file: string): { rules: Rule[]; errors: string[] } {
  const document = parseDocument(readFileSync(file, 'utf8'));
  const groups = (document.toJS() as { groups?: { name?: string; rules?: Rule[] }[] } | null)?.groups ?? [];
  return { rules: groups.flatMap((group) => group.rules ?? []), errors: document.errors.map((e) => e.message) };
}

/** Every `expr` of a dashboard (panels, rows' nested panels, targets), wherever Grafana nests it. */
function dashboardExprs(node: unknown, path: string): Query[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => dashboardExprs(item, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'expr' && typeof value === 'string' ? [{ where: path, expr: value }] : dashboardExprs(value, `${path}.${key}`),
  );
}

const rules = ruleFiles.flatMap((file) => loadRules(file).rules.map((rule) => ({ file: file.slice(ROOT.length), rule })));
const alerts = rules.filter(({ rule }) => rule.alert);
const recorded = new Set(rules.flatMap(({ rule }) => (rule.record ? [rule.record] : [])));
const queries: Query[] = [
  ...rules.map(({ file, rule }) => ({ where: `${file} ${rule.alert ?? rule.record}`, expr: rule.expr })),
  ...dashboardFiles.flatMap((file) => dashboardExprs(JSON.parse(readFileSync(file, 'utf8')), file.slice(ROOT.length))),
];

t.test('rules files: valid YAML, every rule has an expression, every alert a duration, a severity and a runbook', async (t) => {
  t.ok(ruleFiles.includes(join(RULES_DIR, 'veriflow.yml')), 'ops/prometheus/rules/veriflow.yml is shipped');
  for (const file of ruleFiles) {
    const { rules: fileRules, errors } = loadRules(file);
    t.same(errors, [], `${file.slice(ROOT.length)} parses`);
    t.ok(fileRules.length > 0, `${file.slice(ROOT.length)} has rules in groups`);
  }
  const names = alerts.map(({ rule }) => rule.alert);
  t.same(
    names.filter((name, i) => names.indexOf(name) !== i),
    [],
    'alert names are unique across files',
  );
  for (const { file, rule } of rules) {
    const name = `${file} ${rule.alert ?? rule.record ?? '(unnamed)'}`;
    t.ok(Boolean(rule.alert) !== Boolean(rule.record), `${name}: either an alert or a recording rule`);
    t.ok(typeof rule.expr === 'string' && rule.expr.trim(), `${name}: has an expr`);
    if (rule.record) t.match(rule.record, /^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/, `${name}: recorded as level:metric:operations`);
    if (!rule.alert) continue;
    t.ok(rule.for && isPrometheusDuration(rule.for), `${name}: for: ${rule.for} is a duration (no alert on a single scrape)`);
    t.ok(SEVERITIES.includes(rule.labels?.severity ?? ''), `${name}: severity ${rule.labels?.severity} is one of ${SEVERITIES.join(', ')}`);
    for (const annotation of ['summary', 'description', 'runbook'])
      t.ok(rule.annotations?.[annotation]?.trim(), `${name}: has a ${annotation} annotation`);
  }
});

t.test('dashboards: valid JSON with a title, a unique uid and panels that query something', async (t) => {
  t.ok(dashboardFiles.includes(join(DASHBOARDS_DIR, 'veriflow.json')), 'ops/grafana/veriflow.json is shipped');
  const uids: string[] = [];
  for (const file of dashboardFiles) {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { title?: string; uid?: string; panels?: unknown[] };
    t.ok(dashboard.title, `${file.slice(ROOT.length)} has a title`);
    t.ok(dashboard.uid && !uids.includes(dashboard.uid), `${file.slice(ROOT.length)} has a unique uid`);
    uids.push(dashboard.uid ?? '');
    t.ok(dashboardExprs(dashboard, '').length > 0, `${file.slice(ROOT.length)} has panels with queries`);
  }
});

t.test('every expression: balanced brackets, ranges that are durations, selectors with a metric name', async (t) => {
  for (const { where, expr } of queries) t.doesNotThrow(() => selectorsOf(expr), where);
});

t.test('the checks themselves catch what promtool would, and a missing label value', async (t) => {
  t.same(selectorsOf('histogram_quantile(0.99, sum by (le) (rate(a_bucket{x=~"p|q"}[5m]))) > 2.5'), [
    { metric: 'a_bucket', matchers: [{ label: 'x', op: '=~', value: 'p|q' }] },
  ]);
  t.same(
    selectorsOf('sum(rate(a[$__rate_interval])) / on (job) group_left b:c:d offset 5m').map((s) => s.metric),
    ['a', 'b:c:d'],
  );
  t.throws(() => selectorsOf('sum(rate(a[5m])'), /unbalanced/);
  t.throws(() => selectorsOf('rate(a[5q])'), /not a duration/);
  t.throws(() => selectorsOf('{__name__="a"}'), /without a metric name/);
  t.notOk(isPrometheusDuration('5 minutes'));
  const samples = [{ name: 'a_bucket', labels: { x: 'p', le: '+Inf' }, value: 0 }];
  t.same(missingSeries(selectorsOf('a_bucket{x=~"p|q"}')[0]!, samples), ['a_bucket{x="q"}'], 'each alternative needs its own series');
  t.same(missingSeries(selectorsOf('a_bucket{x="p"}')[0]!, samples), []);
  t.same(missingSeries(selectorsOf('a_count')[0]!, samples).length, 1);
});

/** The alert that selects `metric`, so the checks below do not depend on alert names. */
function alertOn(metric: string) {
  const uses = (expr: string): boolean =>
    selectorsOf(expr).some(
      (s) => s.metric === metric || (recorded.has(s.metric) && uses(rules.find(({ rule }) => rule.record === s.metric)!.rule.expr)),
    );
  return alerts.find(({ rule }) => uses(rule.expr))?.rule;
}

t.test('the alerts asked for: failure rate over 5% (seed 003), sweeper backlog, undeliverable rows, worker absence and heap', async (t) => {
  const failureRate = alertOn('veriflow_webhooks_received_total');
  t.ok(failureRate, 'an alert on the webhook processing failure rate');
  t.match(failureRate?.expr, /> 0\.05\b/, 'fires above 5%');
  t.match(failureRate?.annotations?.description, /5%/, 'its description defines the rate');
  t.ok(alertOn('veriflow_sweeper_backlog'), 'an alert on the sweeper backlog');
  const undeliverable = alertOn('veriflow_webhooks_undeliverable_total');
  t.ok(undeliverable, 'an alert on undeliverable webhook rows');
  t.match(undeliverable?.annotations?.runbook, 'npm run webhooks -- undeliverable', 'its runbook names the operator command');
  t.ok(alertOn('veriflow_task_queue_pollers'), 'an alert when no worker polls the task queue');
  const heap = alertOn('veriflow_workflow_thread_heap_bytes');
  t.ok(heap, "an alert when a workflow thread's heap nears its limit (the sticky cache lives there)");
  t.match(heap?.annotations?.runbook, 'WORKER_MAX_CACHED_WORKFLOWS', 'its runbook names the setting that sizes it');
});

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return parseExposition(await response.text());
}

/** The API's count of workers polling its task queue, or undefined when it does not report one. */
function pollers(samples: Sample[]): number | undefined {
  return samples.find((s) => s.name === 'veriflow_task_queue_pollers')?.value;
}

/** The production worker entry (worker.ts), its metrics served on `metricsPort`. */
function startWorker(t: Test, env: Record<string, string>, metricsPort: number): { output: () => string } {
  const child = spawn(process.execPath, [join(ROOT, 'worker.ts')], {
    env: { ...process.env, ...env, METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  return { output: () => stderr.join('').slice(-2000) };
}

/** A selector's series: it must exist, and each alternative of a `=~"a|b"` matcher must have its own. */
function missingSeries(selector: Selector, samples: Sample[]): string[] {
  if (!samples.some((sample) => matches(selector, sample))) return [JSON.stringify(selector)];
  return selector.matchers
    .filter(({ op, value }) => op === '=~' && /^[\w|]+$/.test(value))
    .flatMap(({ label, value }) =>
      value
        .split('|')
        .map((alternative) => ({ ...selector, matchers: [{ label, op: '=' as const, value: alternative }] }))
        .filter((one) => !samples.some((sample) => matches(one, sample)))
        .map((one) => `${one.metric}{${label}="${one.matchers[0]!.value}"}`),
    );
}

t.test('every series the rules and dashboards select exists at /metrics of a fresh API and worker', async (t) => {
  const [temporal, database, apiPort, metricsPort] = await Promise.all([
    startTestTemporal(t),
    createTestDatabase(t),
    pickFreePort(),
    pickFreePort(),
  ]);
  const env = parseEnv({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: `alerts-${apiPort}`,
  });
  const api = await startApiProcess(t, env, { PORT: String(apiPort) });
  t.equal(pollers(await scrape(`${api.url}/metrics`)), 0, 'the API reports the pollers of its task queue: none yet');

  const childEnv = Object.fromEntries(Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
  const worker = startWorker(t, childEnv, metricsPort);
  const polled = await eventually(
    async () => pollers(await scrape(`${api.url}/metrics`)) ?? 0,
    (n) => n >= 1,
    { timeoutMs: START_TIMEOUT_MS, intervalMs: 500 },
  );
  t.ok(polled >= 1, `once the worker polls: veriflow_task_queue_pollers ${polled}`, polled >= 1 ? {} : { worker: worker.output() });

  const apiSamples = await scrape(`${api.url}/metrics`);
  const workerSamples = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
  const samples = [...apiSamples, ...workerSamples];
  t.comment(`series: API ${apiSamples.length}, worker ${workerSamples.length}; queries ${queries.length}`);
  for (const { where, expr } of queries) {
    const selectors = selectorsOf(expr);
    const undefinedRecords = selectors.filter((s) => s.metric.includes(':') && !recorded.has(s.metric)).map((s) => s.metric);
    t.same(undefinedRecords, [], `${where}: every recorded series it uses is recorded by a rule`);
    const missing = selectors.filter((s) => !recorded.has(s.metric)).flatMap((s) => missingSeries(s, samples));
    t.same(missing, [], `${where}: every series it selects exists`);
  }
});
