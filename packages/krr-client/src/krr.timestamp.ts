// KRR's timestamps: `YYYY-MM-DDTHH:mm:ss±HH` (Oslo local time, an hours-only offset, the repository's
// docs/lookup.md#timestamps), which `Date.parse` does not read. The feed and lookups send them for
// every `_oppdatert` and `_sist_verifisert`: what a consumer checks the 18-month rule against.

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

/** The instant of a KRR timestamp (any ISO-8601 date-time with an offset or Z); undefined when it is none. */
export function parseKrrTimestamp(text: string): Date | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, z, sign, oh, om] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  const check = new Date(local);
  if (
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s ?? 0) > 59
  ) {
    return undefined;
  }
  const offsetMinutes = z ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om ?? 0));
  return new Date(local - offsetMinutes * 60_000);
}
