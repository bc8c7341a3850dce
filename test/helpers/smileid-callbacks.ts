// SmileID callbacks built and signed by the test itself, with the official smile-identity-core
// Signature: the signature covers the timestamp and partner id only, so the body says whatever
// the caller wants.
import { Signature } from 'smile-identity-core';
import { SMILEID_SECRETS } from './stack.ts';

/** A callback body signed with our partner's real key, claiming `resultCode` for `jobId`. */
export function signedCallback(jobId: string, resultCode: string, smileJobId = '0000099999'): string {
  const timestamp = new Date().toISOString();
  const { signature } = new Signature(SMILEID_SECRETS.partnerId, SMILEID_SECRETS.apiKey).generate_signature(timestamp);
  return JSON.stringify({
    ResultCode: resultCode,
    ResultText: 'Claimed by the sender',
    SmileJobID: smileJobId,
    PartnerParams: { job_id: jobId, user_id: jobId, job_type: 1 },
    timestamp,
    signature,
  });
}
