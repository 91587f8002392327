// krr-client: a typed client for Norway's Contact and Reservation Register (KRR), Digdir's and krr's.

export { BATCH_SIZE, createKrrClient } from './krr.client.js';
export type {
  ChangesOptions,
  KrrAuth,
  KrrClient,
  KrrClientOptions,
  LookupOptions,
  LookupResult,
  PersonOptions,
  SignedAnswer,
  SignedAnswersOptions,
} from './krr.client.js';
export type { AssertionAlgorithm, MaskinportenAuth, TokenFunction } from './maskinporten.auth.js';
export type { CertificateInput } from './certificate.parse.js';
export {
  KrrConfigError,
  KrrError,
  KrrHttpError,
  KrrNetworkError,
  KrrProtocolError,
  KrrSignatureError,
  KrrTimeoutError,
  KrrTokenError,
} from './krr.errors.js';
export type { KrrErrorCode } from './krr.errors.js';
export { parseKrrTimestamp } from './krr.timestamp.js';
export type {
  AktivPerson,
  ChangePage,
  DigitalPost,
  ErrorBody,
  ErrorItem,
  FeedKontaktinformasjon,
  FeedPerson,
  IkkeRegistrertPerson,
  Informasjonsbehov,
  JaNei,
  Kontaktinformasjon,
  KrrTimestamp,
  Person,
  PersonStatus,
  PrintCertificate,
  SlettetPerson,
  Spraak,
  Varslingsstatus,
} from './person.types.js';
