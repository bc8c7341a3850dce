// The failure converter of every veriflow worker and client, by module path: the SDK loads it
// with require() on the Node side and bundles it into the workflow sandbox, so workflow code and
// activities encode failures the same way.
import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces move into an encoded payload, so the payload codec encrypts
 * them too: an error message quoting personal data never reaches Temporal in clear text.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
