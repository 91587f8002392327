// What keeps Min profil's pages safe in the browser (docs/minprofil.md#sessions): the headers every
// page sends, and the check every form post passes. The CSRF token is a synchroniser token bound to
// the session (an HMAC of the session's id hash under the cookie secret): a page of another site can
// neither read it nor make it, and it dies with the session. Origin and Sec-Fetch-Site are checked
// too, where the browser sends them.

import { createHmac, timingSafeEqual } from 'node:crypto';

/** The Content-Security-Policy of every page: nothing inline, nothing from another host. */
export function contentSecurityPolicy(formTargets: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    // Designsystemet draws its icons with data: SVGs in CSS masks.
    "img-src 'self' data:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    // A form's redirect counts for form-action in browsers: the allowed return addresses.
    `form-action ${["'self'", ...formTargets].join(' ')}`,
  ].join('; ');
}

export function pageHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
  };
}

export function csrfToken(secret: string, sessionIdHash: string): string {
  return createHmac('sha256', secret).update(`minprofil-csrf\n${sessionIdHash}`).digest('base64url');
}

export function csrfTokenMatches(secret: string, sessionIdHash: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length > 200) return false;
  const want = Buffer.from(csrfToken(secret, sessionIdHash));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * Whether a POST's headers say it came from our own pages: `Sec-Fetch-Site` same-origin when the
 * browser sends it, `Origin` our origin when it sends that. (A browser that sends neither is held by
 * the token alone.)
 */
export function sameOriginPost(
  headers: Record<string, string | string[] | undefined>,
  origin: string,
): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const from = headers.origin;
  if (from !== undefined && from !== origin) return false;
  return true;
}
