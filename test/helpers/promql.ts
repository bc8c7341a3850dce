// Just enough PromQL and Prometheus text format to check shipped alert rules and dashboards
// without promtool: which series selectors an expression uses, whether its brackets balance and
// its durations parse, and which series a /metrics page exposes.

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  metric: string;
  matchers: Matcher[];
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Aggregations and binary keywords: identifiers that are not metric names. */
const KEYWORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);
/** Keywords whose parenthesised argument is a list of label names, not an expression. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
/** Grafana's range variables, replaced before the query reaches Prometheus. */
const GRAFANA_RANGES = new Set(['$__rate_interval', '$__interval', '$__range']);

const TOKEN = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\{[^}]*\}|\[[^\]]*\]|\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-z]*|[a-zA-Z_:][a-zA-Z0-9_:]*|\S/g;
const MATCHER = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;

export function isPrometheusDuration(value: string): boolean {
  return DURATION.test(value);
}

function parseMatchers(body: string): Matcher[] {
  const inner = body.slice(1, -1).trim();
  const matchers: Matcher[] = [];
  MATCHER.lastIndex = 0;
  while (MATCHER.lastIndex < inner.length) {
    const start = MATCHER.lastIndex;
    const match = MATCHER.exec(inner);
    if (!match) throw new Error(`cannot parse label matchers at "${inner.slice(start)}" in ${body}`);
    matchers.push({ label: match[1]!, op: match[2] as Matcher['op'], value: match[3]!.replace(/\\(.)/g, '$1') });
  }
  return matchers;
}

/**
 * The series selectors of an expression, and an error for what promtool would reject cheaply:
 * unbalanced parentheses, a range that is not a duration, a selector without a metric name.
 */
export function selectorsOf(expr: string): Selector[] {
  const tokens: string[] = expr.replace(/#.*$/gm, '').match(TOKEN) ?? [];
  const selectors: Selector[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i]!;
    const next = tokens[i + 1];
    if (token === '(') depth += 1;
    else if (token === ')') {
      depth -= 1;
      if (depth < 0) throw new Error(`unbalanced ')' in ${expr}`);
    } else if (token.startsWith('[')) {
      const range = token.slice(1, -1).split(':')[0]!.trim();
      if (!isPrometheusDuration(range) && !GRAFANA_RANGES.has(range)) throw new Error(`range [${range}] is not a duration in ${expr}`);
    } else if (token.startsWith('{')) {
      throw new Error(`a selector without a metric name (${token}) in ${expr}`);
    } else if (/^[a-zA-Z_:]/.test(token)) {
      if (LABEL_LISTS.has(token) && next === '(') {
        const close = tokens.indexOf(')', i);
        if (close < 0) throw new Error(`unbalanced '(' after ${token} in ${expr}`);
        i = close;
      } else if (KEYWORDS.has(token.toLowerCase()) || next === '(') {
        // An aggregation, a binary keyword or a function call.
      } else if (next?.startsWith('{')) {
        selectors.push({ metric: token, matchers: parseMatchers(next) });
        i += 1;
      } else {
        selectors.push({ metric: token, matchers: [] });
      }
    }
  }
  if (depth !== 0) throw new Error(`unbalanced '(' in ${expr}`);
  return selectors;
}

/** The samples of a Prometheus text-format page (comments dropped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, label, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[label!] = value!.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Whether a series has the selector's name and satisfies all its matchers (regexes fully anchored, as in PromQL). */
export function matches(selector: Selector, sample: Sample): boolean {
  if (sample.name !== selector.metric) return false;
  return selector.matchers.every(({ label, op, value }) => {
    const actual = sample.labels[label] ?? '';
    if (op === '=') return actual === value;
    if (op === '!=') return actual !== value;
    const regex = new RegExp(`^(?:${value})$`);
    return op === '=~' ? regex.test(actual) : !regex.test(actual);
  });
}
