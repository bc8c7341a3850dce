import t from 'tap';
import { PERSONA_INQUIRY_STATUSES, mapPersonaStatus, personaStatusForEvent, resolvePersonaStatus } from '../../providers/persona/status.ts';

t.test('maps every Persona inquiry status as providers.md says', async (tt) => {
  const expected = {
    created: { status: 'created', reasons: [] },
    pending: { status: 'in_progress', reasons: [] },
    completed: { status: 'in_progress', reasons: [] },
    needs_review: { status: 'needs_review', reasons: [] },
    approved: { status: 'approved', reasons: [] },
    declined: { status: 'declined', reasons: [] },
    failed: { status: 'declined', reasons: ['failed'] },
    expired: { status: 'expired', reasons: [] },
  };
  tt.same(Object.keys(expected).sort(), [...PERSONA_INQUIRY_STATUSES].sort(), 'the table covers every status');
  for (const [status, mapping] of Object.entries(expected)) tt.same(mapPersonaStatus(status), mapping, status);
});

t.test('unknown statuses map to null, never to a decision', async (tt) => {
  for (const status of ['', 'APPROVED', 'transitioned', 'needs-review', 'constructor', '__proto__']) {
    tt.equal(mapPersonaStatus(status), null, JSON.stringify(status));
  }
});

t.test('reasons are a fresh array each time', async (tt) => {
  mapPersonaStatus('failed')?.reasons.push('mutated');
  tt.same(mapPersonaStatus('failed')?.reasons, ['failed']);
});

t.test('maps every inquiry event name to its status', async (tt) => {
  const expected = {
    'inquiry.created': 'created',
    'inquiry.started': 'pending',
    'inquiry.completed': 'completed',
    'inquiry.failed': 'failed',
    'inquiry.expired': 'expired',
    'inquiry.approved': 'approved',
    'inquiry.declined': 'declined',
    'inquiry.marked-for-review': 'needs_review',
  };
  for (const [event, status] of Object.entries(expected)) tt.equal(personaStatusForEvent(event), status, event);
  for (const event of ['inquiry.transitioned', 'inquiry.redacted', 'verification.passed', 'toString', '']) {
    tt.equal(personaStatusForEvent(event), null, `${JSON.stringify(event)} names no status`);
  }
});

t.test("the payload's status wins over the event name", async (tt) => {
  tt.equal(resolvePersonaStatus({ eventName: 'inquiry.completed', payloadStatus: 'approved' }), 'approved');
  tt.equal(resolvePersonaStatus({ eventName: 'inquiry.transitioned', payloadStatus: 'needs_review' }), 'needs_review');
  tt.equal(resolvePersonaStatus({ eventName: 'inquiry.approved', payloadStatus: undefined }), 'approved', 'falls back to the name');
  tt.equal(
    resolvePersonaStatus({ eventName: 'inquiry.declined', payloadStatus: 'brand_new_status' }),
    'declined',
    'an unknown payload status falls back to the name',
  );
  tt.equal(resolvePersonaStatus({ eventName: 'inquiry.transitioned', payloadStatus: null }), null, 'nothing to go on');
  tt.equal(resolvePersonaStatus({ eventName: null, payloadStatus: 42 }), null);
});
