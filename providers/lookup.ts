/**
 * A lookup-table entry for a key that came from a provider. A plain `table[key]` would answer
 * Object.prototype's members for `__proto__`, `constructor`, `toString`, …; only own entries count.
 */
export function ownEntry<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
