import type { SimulatedInquiry } from './state.ts';

// Persona's JSON:API shapes (API version 2023-01-05, kebab-case keys) for the simulated objects.

type Json = Record<string, unknown>;

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** `{ data: inquiry, included: [government ID verification and document] }`, as GET /inquiries/:id answers. */
export function inquiryDocument(inquiry: SimulatedInquiry): { data: Json; included: Json[] } {
  return { data: inquiryResource(inquiry), included: governmentIdResources(inquiry) };
}

/** Persona's webhook body for one event. */
export function eventBody(input: { eventId: string; eventName: string; at: Date; inquiry: SimulatedInquiry }): Json {
  return {
    data: {
      type: 'event',
      id: input.eventId,
      attributes: {
        name: input.eventName,
        payload: inquiryDocument(input.inquiry),
        'created-at': input.at.toISOString(),
        'redacted-at': null,
      },
    },
  };
}

function inquiryResource(inquiry: SimulatedInquiry): Json {
  const governmentId = inquiry.governmentId;
  const person = governmentId?.attributes ?? {};
  return {
    type: 'inquiry',
    id: inquiry.id,
    attributes: {
      status: inquiry.status,
      'reference-id': inquiry.referenceId,
      note: null,
      tags: [],
      creator: 'API',
      'reviewer-comment': null,
      'created-at': iso(inquiry.createdAt),
      'started-at': iso(inquiry.startedAt),
      'expires-at': iso(inquiry.expiresAt),
      'completed-at': iso(inquiry.completedAt),
      'failed-at': null,
      'marked-for-review-at': iso(inquiry.markedForReviewAt),
      'decisioned-at': iso(inquiry.decisionedAt),
      'expired-at': null,
      'redacted-at': null,
      'previous-step-name': governmentId === null ? null : 'verification_government_id',
      'next-step-name': governmentId === null ? 'start' : 'success',
      'name-first': person['name-first'] ?? null,
      'name-middle': person['name-middle'] ?? null,
      'name-last': person['name-last'] ?? null,
      birthdate: person.birthdate ?? null,
      fields: {
        'selected-country-code': { type: 'string', value: person['country-code'] ?? null },
        'selected-id-class': { type: 'string', value: person['id-class'] ?? null },
        'current-government-id': {
          type: 'government_id',
          value: governmentId === null ? null : { id: governmentId.documentId, type: 'Document::GovernmentId' },
        },
      },
    },
    relationships: {
      'inquiry-template': { data: { type: 'inquiry-template', id: inquiry.templateId } },
      reports: { data: [] },
      verifications: {
        data: governmentId === null ? [] : [{ type: 'verification/government-id', id: governmentId.verificationId }],
      },
      documents: { data: governmentId === null ? [] : [{ type: 'document/government-id', id: governmentId.documentId }] },
    },
  };
}

function governmentIdResources(inquiry: SimulatedInquiry): Json[] {
  const governmentId = inquiry.governmentId;
  if (governmentId === null) return [];
  const inquiryRef = { data: { type: 'inquiry', id: inquiry.id } };
  return [
    {
      type: 'verification/government-id',
      id: governmentId.verificationId,
      attributes: {
        status: 'passed',
        'created-at': iso(governmentId.createdAt),
        'submitted-at': iso(governmentId.createdAt),
        'completed-at': iso(governmentId.completedAt),
        'capture-method': 'upload',
        ...governmentId.attributes,
        checks: [
          { name: 'id_expired_detection', status: 'passed', reasons: [], requirement: 'required', metadata: {} },
          { name: 'id_fabrication_detection', status: 'passed', reasons: [], requirement: 'required', metadata: {} },
        ],
      },
      relationships: {
        inquiry: inquiryRef,
        document: { data: { type: 'document/government-id', id: governmentId.documentId } },
      },
    },
    {
      type: 'document/government-id',
      id: governmentId.documentId,
      attributes: {
        status: 'processed',
        'created-at': iso(governmentId.createdAt),
        'processed-at': iso(governmentId.completedAt),
        kind: 'government_id',
        ...governmentId.attributes,
      },
      relationships: { inquiry: inquiryRef },
    },
  ];
}
