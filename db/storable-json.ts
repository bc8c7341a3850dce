// Postgres text and jsonb cannot hold NUL, and jsonb rejects a UTF-16 surrogate without its pair
// (JSON text like "\ud83d" is valid JSON but not valid Unicode). These helpers find such strings
// (to refuse a client's input, naming the field) or replace them (to store a provider's signed
// payload, which must never be refused).

/** A lone high surrogate, or a low surrogate with no high one before it. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NUL = /\u0000/g;

function storableString(text: string): string {
  return text.replace(NUL, '\ufffd').replace(UNPAIRED_SURROGATE, '\ufffd');
}

function isStorable(text: string): boolean {
  return storableString(text) === text;
}

/** A copy of a parsed JSON value that Postgres stores: NUL and unpaired surrogates (in keys too) become U+FFFD. */
export function storableJson<T>(value: T): T {
  if (typeof value === 'string') return storableString(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => storableJson(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableString(key), storableJson(item)])) as T;
  }
  return value;
}

/** The dotted path (`metadata.note`, `items[2]`) of the first string Postgres cannot store, or null. */
export function unstorableTextPath(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return isStorable(value) ? null : path || '(body)';
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unstorableTextPath(item, `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      // The path is shown to the client: the offending key is printed with U+FFFD in it.
      const at = path ? `${path}.${storableString(key)}` : storableString(key);
      if (!isStorable(key)) return at;
      const found = unstorableTextPath(item, at);
      if (found) return found;
    }
  }
  return null;
}
