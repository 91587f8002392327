// What the write path does to a person before it is stored, shared by the writer and the import's
// worker threads (pure code: no driver, no I/O).

import type { Person } from './person.js';
import { renderPerson } from './person.render.js';
import type { RenderedPerson } from './person.render.js';

/**
 * A certificate equal to the current one of the person's mailbox provider is the provider's, not
 * the person's own: it is not stored with the person, so the provider's next certificate shows
 * for the person too. (Imports and synced feeds carry the effective certificate.)
 */
export function withoutProviderCertificate(
  p: Person,
  providerCertificates: ReadonlyMap<string, string>,
): Person {
  if (!p.sertifikat || !p.digital_post) return p;
  if (providerCertificates.get(p.digital_post.postkasseleverandoeradresse) !== p.sertifikat) return p;
  const { sertifikat: _inherited, ...rest } = p;
  return rest;
}

/** A person as the register stores it, given the providers' current certificates (orgno -> base64). */
export function renderForWrite(p: Person, providerCertificates: ReadonlyMap<string, string>): RenderedPerson {
  return renderPerson(withoutProviderCertificate(p, providerCertificates));
}
