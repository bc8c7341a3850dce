import t from 'tap';
import {
  mapSmileIdResult,
  normalizeSmileIdCode,
  readSmileIdResult,
  SMILEID_RESULT_CODES,
  SMILEID_V3_STATUSES,
} from '../../providers/smileid/result-codes.ts';

// providers.md, SmileID section: every listed code and its unified status.
const TABLE: [code: string, status: string][] = [
  ['1012', 'approved'],
  ['1020', 'approved'],
  ['1021', 'approved'],
  ['1013', 'declined'],
  ['1022', 'declined'],
  ['1023', 'declined'],
  ['1014', 'error'],
  ['1015', 'error'],
  ['1016', 'error'],
  ['1210', 'approved'],
  ['0814', 'needs_review'],
  ['0001', 'declined'],
  ['0903', 'declined'],
  ['0907', 'declined'],
  ['clear', 'approved'],
  ['block', 'declined'],
  ['attention', 'needs_review'],
  ['error', 'error'],
  ['processing', 'in_progress'],
  ['not_found', 'pending'],
];

t.test('every result code and v3 status in providers.md maps as documented; providerStatus is the code', async (t) => {
  for (const [code, status] of TABLE) {
    const mapped = mapSmileIdResult(code);
    t.equal(mapped.status, status, `${code} -> ${status}`);
    t.equal(mapped.providerStatus, code, `${code} is kept as providerStatus`);
    t.equal(
      mapped.reasons.length === 0,
      status === 'approved' || status === 'in_progress' || status === 'pending',
      `${code}: reasons only when not approved`,
    );
  }
  t.equal(
    Object.keys(SMILEID_RESULT_CODES).length + Object.keys(SMILEID_V3_STATUSES).length,
    TABLE.length,
    'the table has nothing undocumented',
  );
  t.same(mapSmileIdResult('0907').reasons, ['possible_spoof']);
  t.same(mapSmileIdResult('1015').reasons, ['no_job_result']);
  t.same(mapSmileIdResult('0814').reasons, ['provisional_under_review']);
});

t.test('an unknown code is needs_review, never approved', async (t) => {
  for (const code of ['9999', '1011', '1200', '0000', 'approved', 'Clear-ish', '']) {
    const mapped = mapSmileIdResult(code);
    t.equal(mapped.status, 'needs_review', `${JSON.stringify(code)} -> needs_review`);
    t.same(mapped.reasons, ['unknown_result_code']);
  }
  t.equal(mapSmileIdResult('9999').providerStatus, '9999', 'the unknown code is kept');
  t.equal(mapSmileIdResult('').providerStatus, 'unknown');
});

t.test('codes that lost their leading zeros, and v3 statuses in any case, still map', async (t) => {
  t.equal(normalizeSmileIdCode(814), '0814');
  t.equal(normalizeSmileIdCode('814'), '0814');
  t.equal(normalizeSmileIdCode(' 1012 '), '1012');
  t.equal(normalizeSmileIdCode(1.5), null);
  t.equal(normalizeSmileIdCode(null), null);
  t.equal(mapSmileIdResult('1').providerStatus, '0001');
  t.equal(mapSmileIdResult('1').status, 'declined');
  t.same(mapSmileIdResult('CLEAR'), { providerStatus: 'clear', status: 'approved', reasons: [] });
});

t.test('readSmileIdResult: ResultCode first, else a v3 status, else nothing', async (t) => {
  t.equal(readSmileIdResult({ ResultCode: '1012', status: 'block' })?.status, 'approved');
  t.equal(readSmileIdResult({ ResultCode: 1210 })?.providerStatus, '1210');
  t.equal(readSmileIdResult({ status: 'attention' })?.status, 'needs_review');
  t.equal(readSmileIdResult({ status: 'whatever' }), null);
  t.equal(readSmileIdResult({ ResultText: 'Enroll User' }), null);
});
