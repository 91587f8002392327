// Relative timestamps in a test-data person (docs/testdata.md#relative-timestamps): a signed
// ISO-8601 duration from the register's now ("-P17M": confirmed 17 months ago) becomes the
// absolute timestamp before the person is checked as any import line is. Pure code.

import type { FieldProblem } from '../person/person.js';
import { addDuration, looksLikeDuration, parseDuration } from '../time/duration.js';
import { formatOslo } from '../time/oslo-time.js';
import type { EpochMs } from '../time/oslo-time.js';

const TOP_TIMES = ['reservasjonstidspunkt', 'reservasjon_oppdatert', 'spraak_oppdatert'];
const CONTACT_TIMES = [
  'epostadresse_oppdatert',
  'epostadresse_sist_verifisert',
  'mobiltelefonnummer_oppdatert',
  'mobiltelefonnummer_sist_verifisert',
];

/** The years an instant may have: those parseInstant takes, short of its last. */
const FIRST_MS = Date.UTC(1900, 0, 2);
const LAST_MS = Date.UTC(2199, 11, 31);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `body` with every timestamp given as a duration replaced by the instant it names, in the wire's
 * form; problems for a duration that does not parse or leaves the years 1900 to 2199 (and the
 * value left out). Anything else is left as it is, for the person's own checks.
 */
export function resolveRelativeTimes(
  body: unknown,
  now: EpochMs,
): { readonly value: unknown; readonly problems: readonly FieldProblem[] } {
  if (!isPlainObject(body)) return { value: body, problems: [] };
  const problems: FieldProblem[] = [];
  const resolve = (obj: Record<string, unknown>, keys: readonly string[], base: string) => {
    const out = { ...obj };
    for (const key of keys) {
      const v = obj[key];
      if (typeof v !== 'string' || !looksLikeDuration(v)) continue;
      const d = parseDuration(v);
      const t = d ? addDuration(now, d) : undefined;
      if (t === undefined || !(t >= FIRST_MS && t <= LAST_MS)) {
        problems.push({
          pointer: `${base}/${key}`,
          detail:
            t === undefined
              ? `${key} must be an ISO-8601 date-time with an offset, or a signed ISO-8601 duration from now of whole numbers (-P17M, -P2Y3DT4H)`
              : `${key} names a time outside the years 1900 to 2199`,
        });
        // Left out, so that the person's own checks do not name it a second time.
        delete out[key];
        continue;
      }
      out[key] = formatOslo(t);
    }
    return out;
  };
  const value = resolve(body, TOP_TIMES, '');
  if (isPlainObject(body.kontaktinformasjon))
    value.kontaktinformasjon = resolve(body.kontaktinformasjon, CONTACT_TIMES, '/kontaktinformasjon');
  return { value, problems };
}
