// What the write path does to a person before it is stored, shared by the writer and the import's
// worker threads (pure code: no driver, no I/O).

import type { Person } from '../person/person.js';
import { renderPerson } from '../answer/answer.render.js';
import type { RenderedPerson } from '../answer/answer.render.js';

/**
 * Whether `p`'s certificate is the current one of its mailbox provider: then it is the provider's,
 * not the person's own, and is not stored with the person, so the provider's next certificate
 * shows for the person too. (Imports and synced feeds carry the effective certificate.)
 */
function inheritsProviderCertificate(p: Person, providerCertificates: ReadonlyMap<string, string>): boolean {
  return (
    p.sertifikat !== undefined &&
    p.digital_post !== undefined &&
    providerCertificates.get(p.digital_post.postkasseleverandoeradresse) === p.sertifikat
  );
}

/** A person as the register stores it, given the providers' current certificates (orgno -> base64). */
export function renderForWrite(p: Person, providerCertificates: ReadonlyMap<string, string>): RenderedPerson {
  const rendered = renderPerson(p);
  // The certificate is a fragment of its own, rendered from nothing else: dropping it afterwards is
  // rendering the person without it (and cheaper than copying the person without it first).
  return inheritsProviderCertificate(p, providerCertificates) ? { ...rendered, sertifikat: null } : rendered;
}
