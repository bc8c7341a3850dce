// Stripe's request bodies are form-encoded with bracket nesting: `metadata[verification_id]=…`,
// `capabilities[transfers][requested]=true`. Parsed here with our own code (never the app's).

export type FormObject = { [key: string]: string | FormObject };

const KEY = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;

/** Nested object of the form; a key that is not bracket syntax, or conflicts with another, is kept flat. */
export function parseStripeForm(body: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const match = KEY.exec(rawKey);
    const path = match === null ? [rawKey] : [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)];
    let node = root;
    for (const [index, segment] of path.entries()) {
      if (index === path.length - 1) {
        node[segment] = value;
        break;
      }
      const next = node[segment];
      if (typeof next === 'object') node = next;
      else node = node[segment] = {};
    }
  }
  return root;
}

export function formText(value: string | FormObject | undefined): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
