import { checkEncryptionCertificate } from '../certificate/certificate-check.js';
import { ConflictError, InvalidValueError, NotFoundError } from '../errors/errors.js';
import { isValidOrganisationNumber } from '../identifier/identifier.js';
import { PersonWriter } from '../register/person.writer.js';
import type { Database } from '../store/database.js';
import { ProviderRepository } from './provider.repository.js';
import type { MailboxProvider } from './provider.repository.js';

function checkOrgno(orgno: string): void {
  if (!isValidOrganisationNumber(orgno)) {
    throw new InvalidValueError('the organisation number must be 9 digits with a valid check digit (mod 11)');
  }
}

const CERTIFICATE_PROBLEM_TEXT = {
  NOT_A_CERTIFICATE: 'is not an X.509 certificate',
  EXPIRED: 'has expired',
  NOT_YET_VALID: 'is not valid yet',
  NOT_FOR_ENCRYPTION: 'is not usable for encryption (an RSA key with keyEncipherment or dataEncipherment)',
} as const;

/** Providers' certificates encrypt digital post: they must be usable for that today. */
function checkCertificate(certificate: string): void {
  const check = checkEncryptionCertificate(certificate, new Date());
  if (!check.ok) throw new InvalidValueError(`the certificate ${CERTIFICATE_PROBLEM_TEXT[check.reason]}`);
}

/** The operator's side of mailbox providers and the print certificate (`krr providers`, `krr print`). */
export class ProviderService {
  private readonly providers: ProviderRepository;

  constructor(private readonly db: Database) {
    this.providers = new ProviderRepository(db);
  }

  list(): Promise<MailboxProvider[]> {
    return this.providers.list();
  }

  async add(provider: MailboxProvider): Promise<void> {
    checkOrgno(provider.orgno);
    if (!provider.name.trim()) throw new InvalidValueError('the provider needs a name');
    checkCertificate(provider.certificate);
    await this.db.transaction(async (tx) => {
      if (await this.providers.find(provider.orgno, tx)) {
        throw new ConflictError(
          `provider ${provider.orgno} is registered already; use "krr providers update"`,
        );
      }
      await this.providers.save(provider, tx);
    });
  }

  /**
   * A new certificate shows at once for every person who uses the provider's: they are not
   * rewritten, but get new change ids in the same transaction, so the feed carries the new one.
   */
  async updateCertificate(orgno: string, certificate: string, name?: string): Promise<void> {
    checkOrgno(orgno);
    checkCertificate(certificate);
    await new PersonWriter(this.db).session(async (session) => {
      const existing = await this.providers.find(orgno, session.tx);
      if (!existing) throw new NotFoundError(`no provider ${orgno} is registered`);
      await this.providers.save({ orgno, name: name ?? existing.name, certificate }, session.tx);
      if (certificate !== existing.certificate) await session.providerCertificateChanged(orgno);
    });
  }

  async remove(orgno: string): Promise<void> {
    checkOrgno(orgno);
    await this.db.transaction(async (tx) => {
      const users = await this.providers.personsUsing(orgno, tx);
      if (users > 0)
        throw new ConflictError(`provider ${orgno} still has ${users} person(s) with a mailbox there`);
      if (!(await this.providers.remove(orgno, tx)))
        throw new NotFoundError(`no provider ${orgno} is registered`);
    });
  }

  async setPrintCertificate(orgno: string, certificate: string): Promise<void> {
    checkOrgno(orgno);
    checkCertificate(certificate);
    await this.providers.setPrintCertificate({ orgno, certificate });
  }
}
