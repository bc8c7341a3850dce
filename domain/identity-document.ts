// The identity-document fields, listed once: the domain type, the columns of
// verification_documents, the activity that merges them and the public JSON all derive from
// this list, so a field cannot be added in one place and forgotten in another.

export const DOCUMENT_FIELDS = [
  /** Normalized class: national_id | passport | driving_license, else the provider's own id-class. */
  'type',
  /** The provider's raw class (Persona `id-class`: id, pp, dl, umid, …). */
  'idClass',
  'number',
  'expiresAt',
  'issuedAt',
  'issuingAuthority',
  'country',
  'firstName',
  'middleName',
  'lastName',
  'birthdate',
  'sex',
  'nationality',
  'address',
] as const;
export type DocumentField = (typeof DOCUMENT_FIELDS)[number];

/** Identity-document data extracted from a provider payload. Every field is nullable: providers omit freely. Dates are text, as providers send them. */
export type DocumentData = Record<DocumentField, string | null>;

/** A document with no field known: what a provider's extraction starts from. */
export const EMPTY_DOCUMENT: Readonly<DocumentData> = Object.freeze(
  Object.fromEntries(DOCUMENT_FIELDS.map((field) => [field, null])) as DocumentData,
);
