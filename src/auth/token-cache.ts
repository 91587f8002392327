// Verified access tokens, remembered by their exact text (docs/tokens.md#verified-token-cache): a
// client sends the same token with every request for its lifetime, and an RSA signature check per
// request costs more than answering a one-person lookup. A remembered verification is never more
// lenient than verifying again: it ends at the token's `exp`, when the key set that verified it is
// due for a refresh or has been replaced (so a key the issuer withdrew stops working here when it
// stops working elsewhere), and after MAX_REMEMBER_MS whatever the token says.

import { decodeJwt } from 'jose';
import type { AccessToken } from '../access/access-token.js';
import type { KeySetLease, TokenVerifier } from './token-verifier.js';

const DEFAULT_MAX_ENTRIES = 1000;
/** A verification is remembered at most this long (5 minutes), however far off the token's exp. */
export const MAX_REMEMBER_MS = 5 * 60_000;

interface Entry {
  readonly token: AccessToken;
  readonly keys: KeySetLease;
  readonly expiresAt: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly verifier: Pick<TokenVerifier, 'verifyLeased'>,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  /** The verifier's answer for `token`, from memory while the remembered verification holds. */
  async verify(token: string): Promise<AccessToken> {
    const hit = this.entries.get(token);
    if (hit) {
      if (this.now() < hit.expiresAt && hit.keys.current()) return hit.token;
      this.entries.delete(token);
    }
    const verified = await this.verifier.verifyLeased(token);
    const exp = decodeJwt(token).exp;
    if (typeof exp === 'number') {
      // Until exp (without the clock skew), the key set's refresh, or the bound, whichever is first.
      const expiresAt = Math.min(exp * 1000, verified.keys.freshUntil, this.now() + MAX_REMEMBER_MS);
      if (this.now() < expiresAt) {
        if (this.entries.size >= this.maxEntries) {
          // The oldest entry goes (insertion order): a small bound, not an LRU.
          const oldest = this.entries.keys().next();
          if (!oldest.done) this.entries.delete(oldest.value);
        }
        this.entries.set(token, { token: verified.token, keys: verified.keys, expiresAt });
      }
    }
    return verified.token;
  }
}
