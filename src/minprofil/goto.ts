// The return address (`gotoUrl`, docs/minprofil.md#return-address): an agency links a citizen to
// Min profil and gets them back after a save or a confirm, but only to an address the operator
// allowed. Anything else is refused with an error page: Min profil is never an open redirector.

/** The allowed URL, normalised, or undefined when `value` matches no pattern of `allowed`. */
export function allowedGotoUrl(value: unknown, allowed: readonly string[]): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2000) return undefined;
  // The URL parser drops tabs, line breaks and outer spaces without a word: an address that holds
  // any is not the one the agency wrote, so it is refused rather than repaired.
  if ([...value].some((c) => c.trim() === '' || c < ' ' || c === '\u007f')) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  // No credentials in it (`https://good@evil`), only http(s).
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password)
    return undefined;
  const href = url.href;
  for (const pattern of allowed) {
    const p = new URL(pattern);
    // An origin alone (`https://nav.no` or `https://nav.no/`) allows every path on it.
    if (p.pathname === '/' && !pattern.endsWith('//')) {
      if (url.origin === p.origin) return href;
      continue;
    }
    // A prefix: the same origin, and the path goes on from the prefix's (at a segment boundary
    // when the prefix ends without a slash, so `/app` allows `/app/x` but not `/apparat`).
    if (url.origin !== p.origin) continue;
    const prefix = p.pathname;
    if (
      prefix.endsWith('/')
        ? url.pathname.startsWith(prefix)
        : url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)
    )
      return href;
  }
  return undefined;
}

/** The origins of the allow list: the CSP's form-action must let a form's redirect go there. */
export function gotoOrigins(allowed: readonly string[]): string[] {
  return [...new Set(allowed.map((p) => new URL(p).origin))];
}
