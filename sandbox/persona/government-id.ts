import { createHash } from 'node:crypto';

// Invented people (no real data) in the shape Persona extracts from an ID card. The person is
// picked from the inquiry id, so the same inquiry always shows the same ID.

/** Persona's government-ID attributes (kebab-case, as in `included[].attributes`). */
export type GovernmentIdAttributes = Record<string, string | null>;

const PEOPLE: readonly GovernmentIdAttributes[] = [
  {
    'name-first': 'Alex',
    'name-middle': 'Jordan',
    'name-last': 'Example',
    birthdate: '1990-04-12',
    sex: 'Female',
    nationality: 'ESP',
    'identification-number': 'X1234567Z',
    'address-street-1': '12 Calle de Ejemplo',
    'address-street-2': 'Piso 3',
    'address-city': 'Madrid',
    'address-subdivision': 'Madrid',
    'address-postal-code': '28001',
    'country-code': 'ES',
    'issuing-authority': 'Ministerio del Interior',
    'issue-date': '2021-06-30',
    'expiration-date': '2031-06-30',
  },
  {
    'name-first': 'Sam',
    'name-middle': null,
    'name-last': 'Sample',
    birthdate: '1985-11-02',
    sex: 'Male',
    nationality: 'USA',
    'identification-number': 'S7654321',
    'address-street-1': '600 Example Street',
    'address-street-2': null,
    'address-city': 'San Francisco',
    'address-subdivision': 'CA',
    'address-postal-code': '94109',
    'country-code': 'US',
    'issuing-authority': 'CA',
    'issue-date': '2022-02-14',
    'expiration-date': '2030-11-02',
  },
  {
    'name-first': 'Maria',
    'name-middle': 'Clara',
    'name-last': 'Placeholder',
    birthdate: '1994-08-21',
    sex: 'Female',
    nationality: 'PHL',
    'identification-number': '0028-1234567-8',
    'address-street-1': '45 Halimbawa Street',
    'address-street-2': 'Barangay Uno',
    'address-city': 'Quezon City',
    'address-subdivision': 'Metro Manila',
    'address-postal-code': '1100',
    'country-code': 'PH',
    'issuing-authority': 'Philippine Statistics Authority',
    'issue-date': '2023-01-09',
    'expiration-date': '2033-01-09',
  },
];

export function inventedGovernmentId(inquiryId: string): GovernmentIdAttributes {
  const index = createHash('sha256').update(inquiryId).digest().readUInt32BE(0) % PEOPLE.length;
  return { 'id-class': 'id', ...PEOPLE[index] };
}
