// The mailbox providers' operations (docs/mailbox.md#operations): kanVelge, opprettOgVelg, oppdater, slett.
// A provider acts only on mailboxes at itself; every successful change is one register change.

import type { AuditRepository } from '../audit/audit.repository.js';
import type { AccessToken } from '../access/access-token.js';
import { checkEncryptionCertificate } from '../certificate/certificate-check.js';
import { checkPersonIdentifier, isValidOrganisationNumber } from '../identifier/identifier.js';
import type { IdentifierRules } from '../identifier/identifier.js';
import type { Person } from '../person/person.js';
import { isValidMailboxAddress } from '../person/person.js';
import { recordOf } from '../answer/answer.render.js';
import type { PersonRepository } from '../register/person.repository.js';
import type { PersonWriter, PersonWriteSession } from '../register/person.writer.js';

/** The answer codes (docs/mailbox.md#beskrivelse-codes). */
export const BESKRIVELSER = [
  'RESERVERT',
  'ALLEREDE_AKTIV',
  'INGEN_POSTBOKS_FUNNET',
  'BRUKER_IKKE_FUNNET',
  'POSTKASSE_EKSISTERER_ALLEREDE',
  'UGYLDIG_SERTIFIKAT',
  'UGYLDIG_PERSONNUMMER',
  'UGYLDIG_EPOSTADRESSE',
  'UGYLDIG_ORGNR',
] as const;
export type Beskrivelse = (typeof BESKRIVELSER)[number];

export type KanVelgeAnswer =
  { readonly status: 'JA' } | { readonly status: 'NEI'; readonly beskrivelse: Beskrivelse };
export type OperationAnswer =
  { readonly status: 'OK' } | { readonly status: 'FEILET'; readonly beskrivelse: Beskrivelse };

export interface MailboxRequest {
  readonly personidentifikator: string;
  readonly virksomhetsidentifikator: string;
  readonly postkasseadresse: string;
  readonly sertifikat?: string | undefined;
}

export interface MailboxDeps {
  readonly writer: PersonWriter;
  readonly persons: PersonRepository;
  readonly audit: AuditRepository;
  readonly identifierRules: IdentifierRules;
}

const failed = (beskrivelse: Beskrivelse): OperationAnswer => ({ status: 'FEILET', beskrivelse });

/** Why the person cannot get a new mailbox, or undefined when they can. */
function cannotChoose(person: Person | undefined, provider: string): Beskrivelse | undefined {
  if (!person || person.status !== 'AKTIV') return 'BRUKER_IKKE_FUNNET';
  if (person.reservasjon === 'JA') return 'RESERVERT';
  if (person.digital_post) {
    return person.digital_post.postkasseleverandoeradresse === provider
      ? 'POSTKASSE_EKSISTERER_ALLEREDE'
      : 'ALLEREDE_AKTIV';
  }
  return undefined;
}

export class MailboxService {
  constructor(private readonly deps: MailboxDeps) {}

  /** `provider` is the caller's organisation, already checked to be a registered provider. */
  async kanVelge(
    personidentifikator: string,
    provider: string,
    caller: AccessToken,
  ): Promise<KanVelgeAnswer> {
    await this.audit(caller, 'kanVelge', personidentifikator);
    if (!this.validIdentifier(personidentifikator))
      return { status: 'NEI', beskrivelse: 'UGYLDIG_PERSONNUMMER' };
    // A question only: read without the write lock, which would hold back every writer.
    const [found] = await this.deps.persons.findMany([personidentifikator]);
    const person = found ? recordOf(found) : undefined;
    const reason = cannotChoose(person, provider);
    // For a yes/no question, any existing mailbox means "already has one".
    if (reason === 'POSTKASSE_EKSISTERER_ALLEREDE') return { status: 'NEI', beskrivelse: 'ALLEREDE_AKTIV' };
    return reason ? { status: 'NEI', beskrivelse: reason } : { status: 'JA' };
  }

  async opprettOgVelg(req: MailboxRequest, provider: string, caller: AccessToken): Promise<OperationAnswer> {
    return this.change(req, provider, caller, 'opprettOgVelg', (person) => {
      const reason = cannotChoose(person, provider);
      return reason ?? this.mailboxProblem(req);
    });
  }

  async oppdater(req: MailboxRequest, provider: string, caller: AccessToken): Promise<OperationAnswer> {
    return this.change(req, provider, caller, 'oppdater', (person) => {
      if (!person || person.status !== 'AKTIV') return 'BRUKER_IKKE_FUNNET';
      if (person.digital_post?.postkasseleverandoeradresse !== provider) return 'INGEN_POSTBOKS_FUNNET';
      return this.mailboxProblem(req);
    });
  }

  async slett(
    req: Pick<MailboxRequest, 'personidentifikator' | 'virksomhetsidentifikator'>,
    provider: string,
    caller: AccessToken,
  ): Promise<OperationAnswer> {
    await this.audit(caller, 'slett', req.personidentifikator);
    if (!isValidOrganisationNumber(req.virksomhetsidentifikator)) return failed('UGYLDIG_ORGNR');
    if (!this.validIdentifier(req.personidentifikator)) return failed('UGYLDIG_PERSONNUMMER');
    return this.deps.writer.session(async (s) => {
      const person = await s.find(req.personidentifikator);
      if (!person || person.status !== 'AKTIV') return failed('BRUKER_IKKE_FUNNET');
      if (person.digital_post?.postkasseleverandoeradresse !== provider)
        return failed('INGEN_POSTBOKS_FUNNET');
      const { digital_post: _mailbox, sertifikat: _certificate, ...rest } = person;
      await s.write([rest]);
      return { status: 'OK' };
    });
  }

  /** Creates or updates the caller's mailbox for the person, under the write lock. */
  private async change(
    req: MailboxRequest,
    provider: string,
    caller: AccessToken,
    operation: string,
    problem: (person: Person | undefined) => Beskrivelse | undefined,
  ): Promise<OperationAnswer> {
    await this.audit(caller, operation, req.personidentifikator);
    if (!isValidOrganisationNumber(req.virksomhetsidentifikator)) return failed('UGYLDIG_ORGNR');
    if (!this.validIdentifier(req.personidentifikator)) return failed('UGYLDIG_PERSONNUMMER');
    return this.deps.writer.session(async (s: PersonWriteSession) => {
      const person = await s.find(req.personidentifikator);
      const reason = problem(person);
      if (reason) return failed(reason);
      const { sertifikat: _previous, ...rest } = person!;
      await s.write([
        {
          ...rest,
          digital_post: { postkasseadresse: req.postkasseadresse, postkasseleverandoeradresse: provider },
          // Without a certificate of its own, the person shows the provider's.
          ...(req.sertifikat ? { sertifikat: req.sertifikat } : {}),
        },
      ]);
      return { status: 'OK' };
    });
  }

  private mailboxProblem(req: MailboxRequest): Beskrivelse | undefined {
    if (!isValidMailboxAddress(req.postkasseadresse)) return 'UGYLDIG_EPOSTADRESSE';
    if (req.sertifikat !== undefined && !checkEncryptionCertificate(req.sertifikat, new Date()).ok) {
      return 'UGYLDIG_SERTIFIKAT';
    }
    return undefined;
  }

  private validIdentifier(value: string): boolean {
    return checkPersonIdentifier(value, this.deps.identifierRules).valid;
  }

  private audit(caller: AccessToken, operation: string, personidentifikator: string) {
    return this.deps.audit.record({
      at: new Date(),
      clientId: caller.clientId,
      consumer: caller.consumer,
      supplier: caller.supplier,
      endpoint: `/rest/v1/postkasse/${operation}`,
      identifiers: [personidentifikator],
      status: 200,
    });
  }
}
