import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import t from 'tap';
import { extractPersonaDocument } from '../../providers/persona/documents.ts';

interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
}
interface InquiryDocument {
  data: Resource;
  included: Resource[];
}

function loadPayload(): InquiryDocument {
  const event = JSON.parse(readFileSync(new URL('../fixtures/persona/inquiry-approved.json', import.meta.url), 'utf8'));
  return event.data.attributes.payload as InquiryDocument;
}

t.test('extracts the current government ID from a seed-000-shaped payload', async (tt) => {
  tt.same(extractPersonaDocument(loadPayload()), {
    type: 'national_id',
    idClass: 'id',
    number: 'X1234567Z',
    expiresAt: '2031-06-30',
    issuedAt: '2021-06-30',
    issuingAuthority: 'Ministerio del Interior',
    country: 'ES',
    firstName: 'Alex',
    middleName: 'Jordan',
    lastName: 'Example',
    birthdate: '1990-04-12',
    sex: 'Female',
    nationality: 'ES',
    address: '12 Example Street, Apt 3, Madrid, Madrid, 28001',
  });
});

t.test('without current-government-id, the most recent government ID wins', async (tt) => {
  const payload = loadPayload();
  delete (payload.data.attributes.fields as Record<string, unknown>)['current-government-id'];
  const document = extractPersonaDocument(payload);
  tt.equal(document?.firstName, 'ALEX', 'the verification created last (10:03:35)');
  tt.equal(document?.nationality, 'ESP', 'its own nationality');
  tt.equal(document?.address, null, 'it read no address');
});

t.test('a current-government-id that is not in included falls back too', async (tt) => {
  const payload = loadPayload();
  const fields = payload.data.attributes.fields as Record<string, { value: unknown }>;
  fields['current-government-id'] = { value: { id: 'doc_missing', type: 'Document::GovernmentId' } };
  tt.equal(extractPersonaDocument(payload)?.firstName, 'ALEX');
});

t.test('without dates, the last government ID listed wins', async (tt) => {
  const document = extractPersonaDocument({
    data: { type: 'inquiry', id: 'inq_1', attributes: {} },
    included: [
      { type: 'verification/government-id', id: 'ver_1', attributes: { 'id-class': 'dl' } },
      { type: 'document/government-id', id: 'doc_2', attributes: { 'id-class': 'pp' } },
      { type: 'verification/selfie', id: 'ver_3', attributes: { 'id-class': 'id' } },
    ],
  });
  tt.equal(document?.type, 'passport');
});

t.test('id-class mapping: id, pp, dl normalized; others kept raw', async (tt) => {
  const typeFor = (idClass: unknown) =>
    extractPersonaDocument({ included: [{ type: 'verification/government-id', id: 'ver_1', attributes: { 'id-class': idClass } }] });
  tt.match(typeFor('id'), { type: 'national_id', idClass: 'id' });
  tt.match(typeFor('pp'), { type: 'passport', idClass: 'pp' });
  tt.match(typeFor('dl'), { type: 'driving_license', idClass: 'dl' });
  tt.match(typeFor('umid'), { type: 'umid', idClass: 'umid' });
  tt.match(typeFor(null), { type: null, idClass: null });
  // Keys of Object.prototype are provider text like any other, never the prototype's members.
  for (const idClass of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    tt.equal(typeFor(idClass)?.type, idClass, `id-class ${idClass} is kept raw`);
  }
});

t.test('country falls back to issuing-country, then the selected country field', async (tt) => {
  const withAttributes = (attributes: Record<string, unknown>) =>
    extractPersonaDocument({
      data: { type: 'inquiry', id: 'inq_1', attributes: { fields: { 'selected-country-code': { value: 'PH' } } } },
      included: [{ type: 'document/government-id', id: 'doc_1', attributes }],
    });
  tt.match(withAttributes({ 'country-code': 'ES', 'issuing-country': 'FR' }), { country: 'ES', nationality: 'ES' });
  tt.match(withAttributes({ 'issuing-country': 'FR' }), { country: 'FR', nationality: 'FR' });
  tt.match(withAttributes({}), { country: 'PH', nationality: 'PH' });
  tt.match(withAttributes({ nationality: 'PHL' }), { country: 'PH', nationality: 'PHL' });
});

t.test('address joins the parts present, skipping blanks', async (tt) => {
  const document = extractPersonaDocument({
    included: [
      {
        type: 'verification/government-id',
        id: 'ver_1',
        attributes: {
          'address-street-1': '600 Example Ave',
          'address-street-2': '  ',
          'address-city': 'Springfield',
          'address-postal-code': 94109,
        },
      },
    ],
  });
  tt.equal(document?.address, '600 Example Ave, Springfield, 94109');
});

t.test('no government ID: null', async (tt) => {
  tt.equal(extractPersonaDocument({ data: { type: 'inquiry', id: 'inq_1', attributes: {} }, included: [] }), null);
  tt.equal(extractPersonaDocument({ included: [{ type: 'verification/selfie', id: 'ver_1', attributes: {} }] }), null);
});

t.test('odd shapes never throw', async (tt) => {
  for (const odd of [null, undefined, 42, 'x', [], { included: 'x' }, { included: [null, 1, { type: 7 }] }, { data: [] }]) {
    tt.doesNotThrow(() => extractPersonaDocument(odd), JSON.stringify(odd) ?? 'undefined');
  }
  fc.assert(
    fc.property(fc.anything(), fc.array(fc.anything()), (data, included) => {
      extractPersonaDocument({ data, included });
      extractPersonaDocument({
        data: { type: 'inquiry', id: 'inq_1', attributes: { fields: data } },
        included: included.map((attributes) => ({ type: 'verification/government-id', id: 'ver_1', attributes })),
      });
    }),
  );
});
