// Verified access tokens, remembered by their exact text until they expire: a client sends the
// same token with every request for its lifetime, and an RSA signature check per request costs
// more than answering a one-person lookup.

import { decodeJwt } from 'jose';
import type { AccessToken } from '../access/access-token.js';
import type { TokenVerifier } from './token-verifier.js';

const DEFAULT_MAX_ENTRIES = 1000;

export class VerifiedTokenCache {
  private readonly entries = new Map<string, { token: AccessToken; expiresAt: number }>();

  constructor(
    private readonly verifier: Pick<TokenVerifier, 'verify'>,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The verifier's answer for `token`, from memory while the token has not expired. Only tokens
   * that passed verification are kept, and only until their `exp` (no clock-skew allowance), so a
   * cached answer is never more lenient than verifying again.
   */
  async verify(token: string): Promise<AccessToken> {
    const hit = this.entries.get(token);
    if (hit) {
      if (this.now() < hit.expiresAt) return hit.token;
      this.entries.delete(token);
    }
    const verified = await this.verifier.verify(token);
    const exp = decodeJwt(token).exp;
    if (typeof exp === 'number') {
      if (this.entries.size >= this.maxEntries) {
        // The oldest entry goes (insertion order): a small bound, not an LRU.
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      this.entries.set(token, { token: verified, expiresAt: exp * 1000 });
    }
    return verified;
  }
}
