// The wire shapes of KRR's answers, as Digdir's KRR and krr send them (the repository's
// docs/lookup.md#answer, docs/change-feed.md#answer, docs/mailbox.md, docs/errors.md#error-body).
// A member with no value is left out of an answer, never sent as null; so is a member the token's
// scopes do not grant. Each status has the members it can carry, and declares the ones it never
// carries as `?: undefined`, so that `person.kontaktinformasjon` reads on any Person.

/** `YYYY-MM-DDTHH:mm:ss±HH`, Oslo local time with an hours-only offset: `2017-11-07T09:48:38+01`. */
export type KrrTimestamp = string;

export type JaNei = 'JA' | 'NEI';
export type Spraak = 'nb' | 'nn' | 'en' | 'se';
export type Varslingsstatus = 'KAN_VARSLES' | 'KAN_IKKE_VARSLES';
export type PersonStatus = 'AKTIV' | 'SLETTET' | 'IKKE_REGISTRERT';

/** The person's e-mail and mobile, each with when it was last changed and last confirmed. */
export interface Kontaktinformasjon {
  readonly epostadresse?: string;
  readonly epostadresse_oppdatert?: KrrTimestamp;
  readonly epostadresse_sist_verifisert?: KrrTimestamp;
  readonly mobiltelefonnummer?: string;
  readonly mobiltelefonnummer_oppdatert?: KrrTimestamp;
  readonly mobiltelefonnummer_sist_verifisert?: KrrTimestamp;
}

/** The person's digital mailbox (Digipost, e-Boks). */
export interface DigitalPost {
  readonly postkasseadresse: string;
  /** The mailbox provider's organisation number. */
  readonly postkasseleverandoeradresse: string;
}

/** A registered, active person. */
export interface AktivPerson<K extends Kontaktinformasjon = Kontaktinformasjon> {
  readonly personidentifikator: string;
  readonly reservasjon: JaNei;
  /** Only while `reservasjon` is `JA`. */
  readonly reservasjonstidspunkt?: KrrTimestamp;
  readonly reservasjon_oppdatert?: KrrTimestamp;
  readonly status: 'AKTIV';
  /** With a contact-information scope (`krr:global/kontaktinformasjon.read`). */
  readonly varslingsstatus?: Varslingsstatus;
  readonly kontaktinformasjon?: K;
  /** With a digital-post scope (`krr:global/digitalpost.read`). */
  readonly digital_post?: DigitalPost;
  /** The encryption certificate for digital post: base64 DER, no PEM armour. */
  readonly sertifikat?: string;
  readonly spraak?: Spraak;
  readonly spraak_oppdatert?: KrrTimestamp;
}

/** Members a person who is not AKTIV never carries. */
interface NoRecordData {
  readonly reservasjon?: undefined;
  readonly reservasjonstidspunkt?: undefined;
  readonly reservasjon_oppdatert?: undefined;
  readonly kontaktinformasjon?: undefined;
  readonly digital_post?: undefined;
  readonly sertifikat?: undefined;
  readonly spraak?: undefined;
  readonly spraak_oppdatert?: undefined;
}

/** A person deleted from the register: no contact data, mailbox or reservation. */
export interface SlettetPerson extends NoRecordData {
  readonly personidentifikator: string;
  readonly status: 'SLETTET';
  readonly varslingsstatus?: 'KAN_IKKE_VARSLES';
}

/** An identifier the register holds no record of (v1 always; v2 with `includeUnregistered`). */
export interface IkkeRegistrertPerson extends NoRecordData {
  readonly personidentifikator: string;
  readonly status: 'IKKE_REGISTRERT';
  readonly varslingsstatus?: 'KAN_IKKE_VARSLES';
}

/** One person as a lookup or `GET /rest/v1/person` answers it. */
export type Person = AktivPerson | SlettetPerson | IkkeRegistrertPerson;

/** In the change feed, contact data also says whether another AKTIV person has the same value. */
export interface FeedKontaktinformasjon extends Kontaktinformasjon {
  readonly epostadresse_duplisert?: JaNei;
  readonly mobiltelefonnummer_duplisert?: JaNei;
}

/**
 * One person in the change feed, in their current state: AKTIV or SLETTET; and, from krr, an entry
 * removed from the register (its test-data API) as IKKE_REGISTRERT, so a local copy drops it.
 */
export type FeedPerson = AktivPerson<FeedKontaktinformasjon> | SlettetPerson | IkkeRegistrertPerson;

/** One page of `POST /rest/v2/krr/hentEndringer`. */
export interface ChangePage {
  /** Ascending by change id, at most 1000. */
  readonly list: readonly FeedPerson[];
  readonly fraEndringsId: number;
  /** The change id of the last person in `list`; with an empty list, `sisteEndringsId`. */
  readonly tilEndringsId: number;
  /** The highest change id a reader can see. */
  readonly sisteEndringsId: number;
}

/** `GET /rest/v2/printSertifikat`. */
export interface PrintCertificate {
  /** The print provider's organisation number. */
  readonly postkasseleverandoerAdresse: string;
  /** base64 DER. */
  readonly x509Sertifikat: string;
}

/** One problem in an error answer. */
export interface ErrorItem {
  readonly id?: string;
  /** The HTTP status as a string. */
  readonly status?: string;
  readonly title?: string;
  readonly detail?: string;
  /** A JSON Pointer into the request body, e.g. `/personidentifikatorer/3`. */
  readonly source?: { readonly pointer?: string };
}

/** Every error answer's body: `{"errors": [...]}`. */
export interface ErrorBody {
  readonly errors: readonly ErrorItem[];
}

/** The groups `informasjonsbehov` can name (krr's own member; Digdir's REST service ignores it). */
export type Informasjonsbehov =
  | 'Person'
  | 'Kontaktinfo'
  | 'Kontaktinformasjon'
  | 'Sertifikat'
  | 'SikkerDigitalPost'
  | 'VarslingsStatus'
  | 'Spraak';
