// The person table's written columns, in ONE place: the single-batch upsert (json_to_recordset),
// the bulk import (COPY rows, the staging table, the merge) and its change test are all generated
// from this list, so a new rendered column is one more entry here. Pure code: no driver, no I/O
// (import workers load it).

import type { RenderedPerson } from './person.render.js';

export interface PersonColumn {
  /** The SQL column of `person`. */
  readonly name: string;
  readonly type: 'text' | 'boolean' | 'bigint';
  readonly value: (p: RenderedPerson) => string | number | boolean | null;
  /**
   * Whether a different value is a change of the person (a new change id). Columns derived from
   * compared ones (the duplicate keys) need not be compared themselves.
   */
  readonly compared: boolean;
}

export const PERSON_COLUMNS: readonly PersonColumn[] = [
  { name: 'personidentifikator', type: 'text', value: (p) => p.personidentifikator, compared: false },
  { name: 'status', type: 'text', value: (p) => p.status, compared: true },
  { name: 'reserved', type: 'boolean', value: (p) => p.reserved, compared: true },
  { name: 'varsling_basis', type: 'bigint', value: (p) => p.varslingBasis, compared: true },
  { name: 'base', type: 'text', value: (p) => p.base, compared: true },
  { name: 'epost', type: 'text', value: (p) => p.epost, compared: true },
  { name: 'mobil', type: 'text', value: (p) => p.mobil, compared: true },
  { name: 'epost_key', type: 'text', value: (p) => p.epostKey, compared: false },
  { name: 'mobil_key', type: 'text', value: (p) => p.mobilKey, compared: false },
  { name: 'digital_post', type: 'text', value: (p) => p.digitalPost, compared: true },
  { name: 'sertifikat', type: 'text', value: (p) => p.sertifikat, compared: true },
  { name: 'spraak', type: 'text', value: (p) => p.spraak, compared: true },
  { name: 'mailbox_provider', type: 'text', value: (p) => p.mailboxProvider, compared: true },
];

/** `a, b, c` of every written column. */
export const PERSON_COLUMN_LIST = PERSON_COLUMNS.map((c) => c.name).join(', ');

/** `a = excluded.a, ...` / `a = s.a, ...`: every written column but the key, taken from `source`. */
export function assignFrom(source: string): string {
  return PERSON_COLUMNS.filter((c) => c.name !== 'personidentifikator')
    .map((c) => `${c.name} = ${source}.${c.name}`)
    .join(', ');
}

/** `(t.a, t.b) is distinct from (s.a, s.b)` over the compared columns: whether the person changed. */
export function changedBetween(target: string, source: string): string {
  const compared = PERSON_COLUMNS.filter((c) => c.compared);
  return `(${compared.map((c) => `${target}.${c.name}`).join(', ')}) is distinct from (${compared
    .map((c) => `${source}.${c.name}`)
    .join(', ')})`;
}

// COPY's text format: a backslash starts an escape, and tab, newline and carriage return separate
// values and rows. JSON fragments hold no raw control characters, but may hold backslashes.
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

function copyValue(v: string | number | boolean | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'string')
    return COPY_SPECIAL.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : v;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return String(v);
}

/** One row of `COPY person (PERSON_COLUMN_LIST) FROM ...` in the text format, with its newline. */
export function copyRow(p: RenderedPerson): string {
  let row = '';
  for (let i = 0; i < PERSON_COLUMNS.length; i++) {
    if (i > 0) row += '\t';
    row += copyValue(PERSON_COLUMNS[i]!.value(p));
  }
  return `${row}\n`;
}
