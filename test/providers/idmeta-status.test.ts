import t from 'tap';
import {
  IDMETA_STATUS,
  mapIdmetaStatus,
  overallIdmetaStatus,
  readIdmetaRequestStatus,
  readIdmetaStatusCode,
} from '../../providers/idmeta/status.ts';

t.test('every IDmeta status maps to the unified status providers.md gives', async (t) => {
  const table: [number, string, string][] = [
    [1, 'REJECTED', 'declined'],
    [2, 'REVIEW_NEEDED', 'needs_review'],
    [3, 'VERIFIED', 'approved'],
    [4, 'INCOMPLETE', 'pending'],
    [5, 'IN_PROGRESS', 'in_progress'],
    [6, 'FAILED', 'error'],
    [99, 'EMPTY', 'created'],
  ];
  for (const [code, providerStatus, status] of table) {
    t.match(mapIdmetaStatus(code), { code, providerStatus, status }, `${code} -> ${status}`);
    t.match(mapIdmetaStatus(String(code)), { code, status }, `"${code}" (string) -> ${status}`);
  }
  t.same(mapIdmetaStatus(6)?.reasons, ['provider_failed'], 'a failed verification says why');
});

t.test('unknown or malformed codes map to nothing, never to a guess', async (t) => {
  for (const value of [0, 7, 42, 100, -1, 3.5, '3a', '', null, undefined, true, {}]) {
    t.equal(mapIdmetaStatus(value), null, JSON.stringify(value) ?? 'undefined');
  }
  t.equal(readIdmetaStatusCode(' 3 '), 3, 'whitespace around a numeric string is fine');
});

t.test('overall status: Rejected takes precedence over Review Needed, Review over Verified', async (t) => {
  const { rejected, reviewNeeded, verified, incomplete, inProgress, failed, empty } = IDMETA_STATUS;
  t.equal(overallIdmetaStatus([verified, reviewNeeded, rejected]), rejected, 'one rejected component rejects the verification');
  t.equal(overallIdmetaStatus([rejected, reviewNeeded]), rejected, 'order does not matter');
  t.equal(overallIdmetaStatus([verified, reviewNeeded, verified]), reviewNeeded, 'review needed when nothing is rejected');
  t.equal(overallIdmetaStatus([verified, verified, verified]), verified, 'verified only when every component passed');
  t.equal(overallIdmetaStatus([verified, inProgress]), inProgress, 'a component still processing keeps it in progress');
  t.equal(overallIdmetaStatus([verified, empty]), incomplete, 'a step that never ran makes it incomplete');
  t.equal(overallIdmetaStatus([verified, failed]), failed);
  t.equal(overallIdmetaStatus([reviewNeeded, failed]), reviewNeeded, 'a person should look before a technical failure counts');
  t.equal(overallIdmetaStatus([verified, 'weird']), reviewNeeded, 'an unknown component status is never approved');
  t.equal(overallIdmetaStatus([]), empty);
});

t.test('request status codes: 0 pending, 1 success, 2 failed, and their names', async (t) => {
  t.equal(readIdmetaRequestStatus(0), 0);
  t.equal(readIdmetaRequestStatus(1), 1);
  t.equal(readIdmetaRequestStatus(2), 2);
  t.equal(readIdmetaRequestStatus('SUCCESS'), 1);
  t.equal(readIdmetaRequestStatus('pending'), 0);
  t.equal(readIdmetaRequestStatus('FAILED'), 2);
  t.equal(readIdmetaRequestStatus('2'), 2);
  t.equal(readIdmetaRequestStatus(3), null);
  t.equal(readIdmetaRequestStatus(undefined), null);
  for (const name of ['__proto__', 'constructor', 'valueOf']) t.equal(readIdmetaRequestStatus(name), null, `${name} is not a status`);
});
