// fast-check properties as tap assertions.
import fc from 'fast-check';
import type { Test } from 'tap';

/** One assertion per property; on failure the message carries fast-check's shrunk counterexample. */
export function assertProperty(t: Test, property: fc.IPropertyWithHooks<unknown>, numRuns = 500): void {
  const details = fc.check(property, { numRuns });
  t.notOk(
    details.failed,
    `holds for ${details.numRuns} runs`,
    details.failed ? { counterexample: fc.stringify(details.counterexample), error: String(details.errorInstance) } : {},
  );
}
