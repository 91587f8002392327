// The app's configuration: parsed once at start from a config file, the environment and the
// command line (in rising precedence), checked against a schema, frozen. Bad configuration stops
// the program before anything is served.

import { delimiter, dirname, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../errors/errors.js';
import { resolveTrustedIssuer, TrustedIssuerSchema } from './issuer-presets.js';
import type { ResolvedTrustedIssuer, TrustedIssuer } from './issuer-presets.js';
import type { StoreConfig } from '../store/database.js';
import { DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_STATEMENT_TIMEOUT_SECONDS } from '../store/database.js';
import { parseInstant } from '../time/oslo-time.js';
import type { EpochMs } from '../time/oslo-time.js';
import { readFileBounded } from '../files/bounded-file.js';
import type { FileReadError } from '../files/bounded-file.js';

/** Tokens are accepted this far outside their validity at most (expired, or not yet valid). */
export type { ResolvedTrustedIssuer, TrustedIssuer };

export const MAX_CLOCK_SKEW_SECONDS = 300;

/** A trusted issuer as written in config: also a preset's name (`"maskinporten"`), or `{preset, audience}`. */
const TrustedIssuerEntrySchema = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object(
    { preset: Type.String({ minLength: 1 }), audience: Type.Optional(Type.String({ minLength: 1 })) },
    { additionalProperties: false },
  ),
  TrustedIssuerSchema,
]);

/**
 * A client of the dev ID-porten sign-in with the redirect URIs registered for it, as ID-porten
 * registers them (docs/tokens.md#id-porten-clients).
 */
const IdportenClientSchema = Type.Object(
  {
    clientId: Type.String({ minLength: 1, maxLength: 200 }),
    redirectUris: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1, maxItems: 50 }),
    /**
     * The client's public keys for `private_key_jwt` at the token endpoint (docs/minprofil.md#configuration):
     * a JWKS given here, or the URL it is fetched from. A client with keys must authenticate with them.
     */
    jwks: Type.Optional(
      Type.Object(
        { keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 20 }) },
        { additionalProperties: false },
      ),
    ),
    jwksUri: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const IdportenClientsSchema = Type.Array(IdportenClientSchema, { maxItems: 1000 });
export type IdportenClient = Static<typeof IdportenClientSchema>;

/** The dev ID-porten's confirm prompt (docs/minprofil.md#confirm-prompt); read by idportenPromptFrom. */
const IdportenPromptSchema = Type.Object(
  {
    /** Interrupt a sign-in with the confirm step (default true; KRR_IDPORTEN_CONFIRM_PROMPT). */
    confirmPrompt: Type.Optional(Type.Boolean()),
    /** How long contact information counts as confirmed (default 90 days; KRR_IDPORTEN_CONFIRM_AFTER_DAYS). */
    confirmAfterDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);

/** At most `max` requests per client (the token's client, else the address) in each window. */
const RateLimitSchema = Type.Object(
  { max: Type.Integer({ minimum: 1 }), windowSeconds: Type.Integer({ minimum: 1, maximum: 3600 }) },
  { additionalProperties: false },
);

/** When the service is this busy, it answers 503 at once instead of queueing. */
const OverloadSchema = Type.Object(
  {
    maxInFlight: Type.Optional(Type.Integer({ minimum: 1 })),
    /** 0 (the default): off. The embedded store blocks the event loop while it works, so a delay alone is no sign of overload there. */
    maxEventLoopDelayMs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

// --- The outbox's senders and retries (docs/minprofil.md#configuration) ---

const SmtpSchema = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    /** Default 465 when secure, else 587. */
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    /** TLS from the first byte (smtps, port 465); otherwise STARTTLS when the server offers it. Default: port 465. */
    secure: Type.Optional(Type.Boolean()),
    user: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
    from: Type.String({ minLength: 3 }),
  },
  { additionalProperties: false },
);
const SmsSchema = Type.Object(
  {
    url: Type.String({ minLength: 1 }),
    headerName: Type.Optional(Type.String({ minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" })),
    headerValue: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const OutboxSchema = Type.Object(
  {
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    firstRetrySeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
    maxRetrySeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 86400 })),
  },
  { additionalProperties: false },
);

export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly user?: string;
  readonly password?: string;
  readonly from: string;
}
export interface SmsConfig {
  readonly url: string;
  readonly headerName?: string;
  readonly headerValue?: string;
}
export interface OutboxConfig {
  /** Attempts at most, then the message is given up (failed_at). */
  readonly maxAttempts: number;
  /** The wait after the first failed attempt; doubled after each further one, up to maxRetrySeconds. */
  readonly firstRetrySeconds: number;
  readonly maxRetrySeconds: number;
}

export const DEFAULT_OUTBOX: OutboxConfig = { maxAttempts: 10, firstRetrySeconds: 30, maxRetrySeconds: 3600 };

/** KRR_SMTP_URL: `smtp://[user:password@]host[:port]` (STARTTLS when offered) or `smtps://` (TLS). */
function smtpFromUrl(text: string, from: string | undefined): SmtpConfig {
  // The URL holds a password: no message below repeats it.
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('KRR_SMTP_URL must be a URL: smtp://[user:password@]host[:port] or smtps://...');
  }
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || !url.hostname)
    throw new ConfigError('KRR_SMTP_URL must be a URL: smtp://[user:password@]host[:port] or smtps://...');
  if (!from) throw new ConfigError('KRR_SMTP_URL needs KRR_SMTP_FROM, the address messages are sent from');
  const secure = url.protocol === 'smtps:';
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(user !== undefined ? { user, password: decodeURIComponent(url.password) } : {}),
    from,
  };
}

function checkSmsUrl(url: string, where: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${where} must be an absolute http(s) URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new ConfigError(`${where} must be an absolute http(s) URL`);
  return url;
}

/** KRR_SMS_HEADER: `Name: value` (the value may be empty; it is never repeated in a message). */
function smsHeaderFromEnv(text: string): { headerName: string; headerValue: string } {
  const colon = text.indexOf(':');
  const name = colon < 0 ? '' : text.slice(0, colon).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
    throw new ConfigError('KRR_SMS_HEADER must be "Name: value", a header name and its value');
  return { headerName: name, headerValue: text.slice(colon + 1).trim() };
}

/** The outbox's senders and retries: the environment over the config file. */
function messagingFrom(
  env: NodeJS.ProcessEnv,
  file: FileConfig,
): { smtp: SmtpConfig | undefined; sms: SmsConfig | undefined; outbox: OutboxConfig } {
  let smtp: SmtpConfig | undefined;
  if (env.KRR_SMTP_URL) smtp = smtpFromUrl(env.KRR_SMTP_URL, env.KRR_SMTP_FROM || file.smtp?.from);
  else if (file.smtp) {
    const secure = file.smtp.secure ?? file.smtp.port === 465;
    smtp = {
      host: file.smtp.host,
      port: file.smtp.port ?? (secure ? 465 : 587),
      secure,
      ...(file.smtp.user !== undefined ? { user: file.smtp.user, password: file.smtp.password ?? '' } : {}),
      from: env.KRR_SMTP_FROM || file.smtp.from,
    };
  }
  let sms: SmsConfig | undefined;
  if (env.KRR_SMS_URL) {
    sms = {
      url: checkSmsUrl(env.KRR_SMS_URL, 'KRR_SMS_URL'),
      ...(env.KRR_SMS_HEADER ? smsHeaderFromEnv(env.KRR_SMS_HEADER) : {}),
    };
  } else if (file.sms) {
    sms = {
      url: checkSmsUrl(file.sms.url, 'sms.url'),
      ...(file.sms.headerName !== undefined
        ? { headerName: file.sms.headerName, headerValue: file.sms.headerValue ?? '' }
        : {}),
    };
    if (env.KRR_SMS_HEADER) sms = { ...sms, ...smsHeaderFromEnv(env.KRR_SMS_HEADER) };
  }
  const outbox: OutboxConfig = {
    maxAttempts:
      parseCountEnv('KRR_OUTBOX_MAX_ATTEMPTS', env.KRR_OUTBOX_MAX_ATTEMPTS) ??
      file.outbox?.maxAttempts ??
      DEFAULT_OUTBOX.maxAttempts,
    firstRetrySeconds: file.outbox?.firstRetrySeconds ?? DEFAULT_OUTBOX.firstRetrySeconds,
    maxRetrySeconds: file.outbox?.maxRetrySeconds ?? DEFAULT_OUTBOX.maxRetrySeconds,
  };
  if (outbox.maxRetrySeconds < outbox.firstRetrySeconds)
    throw new ConfigError('outbox.maxRetrySeconds must be at least outbox.firstRetrySeconds');
  return { smtp, sms, outbox };
}

// --- end of the outbox's block ---

// --- The register's jobs (docs/jobs.md#configuration) ---

const JobsSchema = Type.Object(
  {
    /** Whether `krr serve` runs the jobs (default true; `--no-jobs`, KRR_JOBS=false). */
    enabled: Type.Optional(Type.Boolean()),
    /** How often the runner looks for a due job, seconds. */
    pollSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    /** How long a job's lease lasts unless renewed: how soon a killed process's job is taken over. */
    leaseSeconds: Type.Optional(Type.Integer({ minimum: 3, maximum: 3600 })),
    reminder: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          /** Months since the latest confirmation before the reminder (the 18-month rule's months). */
          afterMonths: Type.Optional(Type.Integer({ minimum: 1, maximum: 17 })),
          intervalMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 })),
          /** Persons read per transaction. */
          pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    retention: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          /** Days delivered or given-up messages and used or expired one-time codes are kept. */
          days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          intervalMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The register's jobs (docs/jobs.md#configuration). */
export interface JobsConfig {
  /** Whether `krr serve` runs the jobs. `krr jobs run` runs them regardless. */
  readonly enabled: boolean;
  readonly pollSeconds: number;
  readonly leaseSeconds: number;
  readonly reminder: {
    readonly enabled: boolean;
    readonly afterMonths: number;
    readonly intervalMinutes: number;
    readonly pageSize: number;
  };
  readonly retention: { readonly enabled: boolean; readonly days: number; readonly intervalMinutes: number };
}

export const DEFAULT_JOBS: JobsConfig = {
  enabled: true,
  pollSeconds: 5,
  leaseSeconds: 30,
  reminder: { enabled: true, afterMonths: 16, intervalMinutes: 60, pageSize: 1000 },
  retention: { enabled: true, days: 7, intervalMinutes: 60 },
};

function jobsFrom(env: NodeJS.ProcessEnv, file: FileConfig, cli: CliValues): JobsConfig {
  const f = file.jobs ?? {};
  return {
    enabled: cli.jobs ?? parseBoolean('KRR_JOBS', env.KRR_JOBS) ?? f.enabled ?? DEFAULT_JOBS.enabled,
    pollSeconds: f.pollSeconds ?? DEFAULT_JOBS.pollSeconds,
    leaseSeconds: f.leaseSeconds ?? DEFAULT_JOBS.leaseSeconds,
    reminder: {
      enabled: f.reminder?.enabled ?? DEFAULT_JOBS.reminder.enabled,
      afterMonths:
        parseCountEnv('KRR_REMINDER_AFTER_MONTHS', env.KRR_REMINDER_AFTER_MONTHS, 1, 17) ??
        f.reminder?.afterMonths ??
        DEFAULT_JOBS.reminder.afterMonths,
      intervalMinutes: f.reminder?.intervalMinutes ?? DEFAULT_JOBS.reminder.intervalMinutes,
      pageSize: f.reminder?.pageSize ?? DEFAULT_JOBS.reminder.pageSize,
    },
    retention: {
      enabled: f.retention?.enabled ?? DEFAULT_JOBS.retention.enabled,
      days:
        parseCountEnv('KRR_RETENTION_DAYS', env.KRR_RETENTION_DAYS, 1, 3650) ??
        f.retention?.days ??
        DEFAULT_JOBS.retention.days,
      intervalMinutes: f.retention?.intervalMinutes ?? DEFAULT_JOBS.retention.intervalMinutes,
    },
  };
}

// --- end of the jobs' block ---

// --- Metrics: GET /metrics (docs/operations.md#metrics) ---

/** A token shorter than this is refused: it guards the scrape, so it should not be guessable. */
const MIN_METRICS_TOKEN_LENGTH = 16;

const MetricsSchema = Type.Object(
  {
    /** Whether `GET /metrics` is served (default true; KRR_METRICS_ENABLED). */
    enabled: Type.Optional(Type.Boolean()),
    /** When set, a scrape must send `Authorization: Bearer <token>` (KRR_METRICS_TOKEN). */
    token: Type.Optional(Type.String({ minLength: MIN_METRICS_TOKEN_LENGTH, maxLength: 1000 })),
    /** How long a scrape's reading of the store is kept for the next (default 5; KRR_METRICS_STORE_READ_SECONDS). */
    storeReadSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
  },
  { additionalProperties: false },
);

// --- The PostgreSQL store's timeouts (docs/operations.md#timeouts) ---

const DatabaseSchema = Type.Object(
  {
    /** The server's statement_timeout for every statement but long work's, seconds; 0: none. */
    statementTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    /** How long opening a connection may take, seconds. */
    connectTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })),
    /** PostgreSQL streaming replicas for reads (docs/operations.md#replicas); KRR_READ_DATABASE_URLS. */
    readUrls: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 32 })),
    /** A replica further behind than this many seconds is passed over (default 1). */
    maxReplicaLagSeconds: Type.Optional(Type.Number({ minimum: 0.05, maximum: 3600 })),
  },
  { additionalProperties: false },
);

/** `GET /metrics` in the Prometheus text format (docs/operations.md#metrics). */
export interface MetricsConfig {
  readonly enabled: boolean;
  /** The bearer token a scrape must send; undefined: none asked. */
  readonly token: string | undefined;
  /** Seconds a reading of the store (outbox, jobs, sync) serves scrapes; 0: read on each. */
  readonly storeReadSeconds: number;
}

function metricsFrom(env: NodeJS.ProcessEnv, file: FileConfig): MetricsConfig {
  const token = env.KRR_METRICS_TOKEN || file.metrics?.token;
  if (token !== undefined && (token.length < MIN_METRICS_TOKEN_LENGTH || token.length > 1000))
    throw new ConfigError(`KRR_METRICS_TOKEN must be ${MIN_METRICS_TOKEN_LENGTH} to 1000 characters`);
  return {
    enabled: parseBoolean('KRR_METRICS_ENABLED', env.KRR_METRICS_ENABLED) ?? file.metrics?.enabled ?? true,
    token,
    storeReadSeconds:
      parseCountEnv('KRR_METRICS_STORE_READ_SECONDS', env.KRR_METRICS_STORE_READ_SECONDS, 0, 300) ??
      file.metrics?.storeReadSeconds ??
      5,
  };
}

// --- end of the metrics' block ---

/** KRR_DATABASE_STATEMENT_TIMEOUT_SECONDS and KRR_DATABASE_CONNECT_TIMEOUT_SECONDS over the file's `database`. */
function databaseTimeoutsFrom(
  env: NodeJS.ProcessEnv,
  file: FileConfig,
): { statementTimeoutSeconds: number; connectTimeoutSeconds: number } {
  return {
    statementTimeoutSeconds:
      parseCountEnv(
        'KRR_DATABASE_STATEMENT_TIMEOUT_SECONDS',
        env.KRR_DATABASE_STATEMENT_TIMEOUT_SECONDS,
        0,
        3600,
      ) ??
      file.database?.statementTimeoutSeconds ??
      DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    connectTimeoutSeconds:
      parseCountEnv(
        'KRR_DATABASE_CONNECT_TIMEOUT_SECONDS',
        env.KRR_DATABASE_CONNECT_TIMEOUT_SECONDS,
        1,
        300,
      ) ??
      file.database?.connectTimeoutSeconds ??
      DEFAULT_CONNECT_TIMEOUT_SECONDS,
  };
}

// --- end of the store's timeouts ---

// --- Read replicas (docs/operations.md#replicas) ---

/**
 * The read replicas: `--read-database` (repeatable) over KRR_READ_DATABASE_URLS (comma-separated)
 * over the file's `database.readUrls`, and the lag bound. No message names a URL: it may hold a
 * password.
 */
function readReplicasFrom(
  cli: CliValues,
  env: NodeJS.ProcessEnv,
  file: FileConfig,
): { readUrls?: readonly string[]; maxReplicaLagSeconds?: number } {
  const fromEnv = env.KRR_READ_DATABASE_URLS?.trim()
    ? env.KRR_READ_DATABASE_URLS.split(',')
        .map((u) => u.trim())
        .filter(Boolean)
    : undefined;
  const urls = cli.readDatabase?.length ? cli.readDatabase : (fromEnv ?? file.database?.readUrls ?? []);
  urls.forEach((url, i) => {
    if (!/^postgres(ql)?:\/\//.test(url))
      throw new ConfigError(
        `read database ${i} (--read-database, KRR_READ_DATABASE_URLS) must start with postgres:// or postgresql://`,
      );
  });
  const lagText = env.KRR_DATABASE_MAX_REPLICA_LAG_SECONDS;
  let lag = file.database?.maxReplicaLagSeconds;
  if (lagText !== undefined && lagText.trim() !== '') {
    lag = Number(lagText);
    if (!Number.isFinite(lag) || lag < 0.05 || lag > 3600)
      throw new ConfigError(
        'KRR_DATABASE_MAX_REPLICA_LAG_SECONDS must be a number of seconds from 0.05 to 3600',
      );
  }
  return {
    ...(urls.length > 0 ? { readUrls: [...urls] } : {}),
    ...(lag !== undefined ? { maxReplicaLagSeconds: lag } : {}),
  };
}

// --- end of the read replicas ---

// --- The audit trail's retention (docs/operations.md#partitions-and-retention) ---

const AuditSchema = Type.Object(
  {
    /** Months an audit entry is kept; older months' partitions are dropped (default 24; KRR_AUDIT_RETENTION_MONTHS). */
    retentionMonths: Type.Optional(Type.Integer({ minimum: 1, maximum: 1200 })),
  },
  { additionalProperties: false },
);

/** The audit trail (docs/operations.md#audit-trail). */
export interface AuditConfig {
  /** Months an entry is kept: the audit-partitions job drops the months past them (docs/jobs.md#audit-partitions). */
  readonly retentionMonths: number;
}

export const DEFAULT_AUDIT_RETENTION_MONTHS = 24;

function auditFrom(env: NodeJS.ProcessEnv, file: FileConfig): AuditConfig {
  return {
    retentionMonths:
      parseCountEnv('KRR_AUDIT_RETENTION_MONTHS', env.KRR_AUDIT_RETENTION_MONTHS, 1, 1200) ??
      file.audit?.retentionMonths ??
      DEFAULT_AUDIT_RETENTION_MONTHS,
  };
}

// --- end of the audit trail's block ---

// --- Stopping (docs/operations.md#stopping) ---
const ShutdownSchema = Type.Object(
  {
    /** Seconds between SIGTERM and no longer accepting connections, answering /health/ready 503 meanwhile. */
    drainSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    /** Seconds the requests in flight have to finish once no new connections are taken. */
    graceSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  },
  { additionalProperties: false },
);

/** How `krr serve` stops (docs/operations.md#stopping). */
export interface ShutdownConfig {
  /**
   * After SIGTERM, how long the server goes on serving while `/health/ready` answers 503, so that a
   * load balancer's health check takes it out before it stops accepting connections.
   */
  readonly drainSeconds: number;
  /** Then how long the requests in flight have to finish before their connections are closed. */
  readonly graceSeconds: number;
}

export const DEFAULT_SHUTDOWN_DRAIN_SECONDS = 5;
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 20;

function shutdownFrom(env: NodeJS.ProcessEnv, file: FileConfig): ShutdownConfig {
  return {
    drainSeconds:
      parseCountEnv('KRR_SHUTDOWN_DRAIN_SECONDS', env.KRR_SHUTDOWN_DRAIN_SECONDS, 0, 300) ??
      file.shutdown?.drainSeconds ??
      DEFAULT_SHUTDOWN_DRAIN_SECONDS,
    graceSeconds:
      parseCountEnv('KRR_SHUTDOWN_GRACE_SECONDS', env.KRR_SHUTDOWN_GRACE_SECONDS, 1, 3600) ??
      file.shutdown?.graceSeconds ??
      DEFAULT_SHUTDOWN_GRACE_SECONDS,
  };
}

// --- end of the stopping block ---

// --- Min profil (docs/minprofil.md#configuration) ---
/** An allowed return address: an origin (`https://nav.no`) or a URL prefix (`https://nav.no/app/`). */
const MinprofilSchema = Type.Object(
  {
    /** Default: on in dev mode and wherever an issuer is configured. */
    enabled: Type.Optional(Type.Boolean()),
    /** The OpenID Connect issuer (ID-porten's); none: dev mode's own stand-in. */
    issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** client_secret_post; better given as KRR_MINPROFIL_CLIENT_SECRET than in a file. */
    clientSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    /** private_key_jwt: a JWK or PEM (PKCS #8) private key file, relative to the config file. */
    privateKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** The key's `kid` (a JWK's own is used when this is absent). */
    privateKeyId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    gotoUrls: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 1000 })),
    sessionIdleMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 60 })),
    /** Signs the cookies; better given as KRR_MINPROFIL_COOKIE_SECRET. At least 32 characters. */
    cookieSecret: Type.Optional(Type.String({ minLength: 32, maxLength: 1000 })),
  },
  { additionalProperties: false },
);

/** How Min profil authenticates to the issuer's token endpoint. */
export type MinprofilClientAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'client_secret_post'; readonly secret: string }
  | { readonly kind: 'private_key_jwt'; readonly keyFile: string; readonly keyId: string | undefined };

/** Min profil's configuration (docs/minprofil.md#configuration). */
export interface MinprofilConfig {
  readonly enabled: boolean;
  /** undefined: dev mode's ID-porten stand-in at `<publicUrl>/idporten`. */
  readonly issuer: string | undefined;
  readonly clientId: string;
  readonly clientAuth: MinprofilClientAuth;
  /** Origins and URL prefixes a `gotoUrl` may match. */
  readonly gotoUrls: readonly string[];
  readonly sessionIdleMinutes: number;
  readonly cookieSecret: string | undefined;
}

export const MINPROFIL_DEV_CLIENT_ID = 'krr-minprofil';
export const DEFAULT_SESSION_IDLE_MINUTES = 15;

/** An origin or a URL prefix, absolute http(s), no query or fragment. */
function checkGotoPattern(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('minprofil.gotoUrls: each must be an absolute http(s) origin or URL prefix');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username)
    throw new ConfigError('minprofil.gotoUrls: each must be http(s) without query, fragment or user');
}

function minprofilFrom(
  env: NodeJS.ProcessEnv,
  file: FileConfig,
  configPath: string | undefined,
  dev: boolean,
): MinprofilConfig {
  const m = file.minprofil ?? {};
  const issuer = env.KRR_MINPROFIL_ISSUER || m.issuer;
  const enabled =
    parseBoolean('KRR_MINPROFIL_ENABLED', env.KRR_MINPROFIL_ENABLED) ??
    m.enabled ??
    (dev || issuer !== undefined);
  if (issuer !== undefined) {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw new ConfigError('minprofil.issuer must be an absolute https URL');
    }
    if (url.protocol !== 'https:' && !(dev && url.protocol === 'http:'))
      throw new ConfigError('minprofil.issuer must be an https URL (http only in dev mode)');
  }
  if (enabled && issuer === undefined && !dev)
    throw new ConfigError(
      'Min profil needs minprofil.issuer and minprofil.clientId outside dev mode (or minprofil.enabled false)',
    );
  const clientId = env.KRR_MINPROFIL_CLIENT_ID || m.clientId;
  if (enabled && issuer !== undefined && clientId === undefined)
    throw new ConfigError('minprofil.clientId is required with minprofil.issuer');
  const secret = env.KRR_MINPROFIL_CLIENT_SECRET || m.clientSecret;
  const keyFileText = env.KRR_MINPROFIL_PRIVATE_KEY_FILE || m.privateKeyFile;
  if (secret !== undefined && keyFileText !== undefined)
    throw new ConfigError('give minprofil.clientSecret or minprofil.privateKeyFile, not both');
  let clientAuth: MinprofilClientAuth = { kind: 'none' };
  if (secret !== undefined) clientAuth = { kind: 'client_secret_post', secret };
  else if (keyFileText !== undefined) {
    const keyFile =
      env.KRR_MINPROFIL_PRIVATE_KEY_FILE || configPath === undefined
        ? resolve(keyFileText)
        : resolve(dirname(resolve(configPath)), keyFileText);
    clientAuth = {
      kind: 'private_key_jwt',
      keyFile,
      keyId: env.KRR_MINPROFIL_PRIVATE_KEY_ID || m.privateKeyId,
    };
  } else if (enabled && issuer !== undefined)
    throw new ConfigError('minprofil needs clientSecret or privateKeyFile to authenticate to its issuer');
  const gotoEnv = env.KRR_MINPROFIL_GOTO_URLS;
  const gotoUrls =
    gotoEnv !== undefined && gotoEnv.trim() !== '' ? gotoEnv.trim().split(/\s+/) : (m.gotoUrls ?? []);
  gotoUrls.forEach(checkGotoPattern);
  const cookieSecret = env.KRR_MINPROFIL_COOKIE_SECRET || m.cookieSecret;
  if (cookieSecret !== undefined && cookieSecret.length < 32)
    throw new ConfigError('KRR_MINPROFIL_COOKIE_SECRET must be at least 32 characters');
  return {
    enabled,
    issuer: issuer?.replace(/\/+$/, ''),
    clientId: clientId ?? MINPROFIL_DEV_CLIENT_ID,
    clientAuth,
    gotoUrls: [...gotoUrls],
    sessionIdleMinutes:
      parseCountEnv('KRR_MINPROFIL_SESSION_IDLE_MINUTES', env.KRR_MINPROFIL_SESSION_IDLE_MINUTES) ??
      m.sessionIdleMinutes ??
      DEFAULT_SESSION_IDLE_MINUTES,
    cookieSecret,
  };
}
// --- end Min profil ---

/** What a config file (`--config FILE`, `KRR_CONFIG`) may hold. */
const FileConfigSchema = Type.Object(
  {
    databaseUrl: Type.Optional(Type.String()),
    dataDir: Type.Optional(Type.String()),
    host: Type.Optional(Type.String()),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    logLevel: Type.Optional(Type.String()),
    allowSyntheticIdentifiers: Type.Optional(Type.Boolean()),
    trustedIssuers: Type.Optional(Type.Array(TrustedIssuerEntrySchema)),
    clockSkewSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_CLOCK_SKEW_SECONDS })),
    rateLimit: Type.Optional(RateLimitSchema),
    overload: Type.Optional(OverloadSchema),
    bodyLimitBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 10 * 1024 * 1024 })),
    requestTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    devIssuer: Type.Optional(Type.String({ minLength: 1 })),
    publicUrl: Type.Optional(Type.String({ minLength: 1 })),
    trustedClientCas: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    tokenExpiresInSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
    /** Signed answers (Accept: application/jose): PEM files, paths relative to the config file. */
    answerSigning: Type.Optional(
      Type.Object(
        { keyFile: Type.String({ minLength: 1 }), certificateFile: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
    ),
    lookupCacheBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    idportenClients: Type.Optional(IdportenClientsSchema),
    /** The dev ID-porten's confirm prompt (docs/minprofil.md#confirm-prompt). */
    idporten: Type.Optional(IdportenPromptSchema),
    /** The test-data API (docs/testdata.md): on in dev mode, off elsewhere unless this says so. */
    testdataApi: Type.Optional(Type.Boolean()),
    /** The outbox (docs/minprofil.md#configuration): e-mail over SMTP, SMS over HTTP, retries. */
    smtp: Type.Optional(SmtpSchema),
    sms: Type.Optional(SmsSchema),
    outbox: Type.Optional(OutboxSchema),
    /** Min profil's sign-in, sessions and return addresses (docs/minprofil.md#configuration). */
    minprofil: Type.Optional(MinprofilSchema),
    /** The register's jobs: reminders, retention (docs/jobs.md#configuration). */
    jobs: Type.Optional(JobsSchema),
    /** GET /metrics (docs/operations.md#metrics). */
    metrics: Type.Optional(MetricsSchema),
    /** The PostgreSQL store's timeouts (docs/operations.md#timeouts). */
    database: Type.Optional(DatabaseSchema),
    /** The audit trail's retention (docs/operations.md#partitions-and-retention). */
    audit: Type.Optional(AuditSchema),
    /** How `krr serve` stops (docs/operations.md#stopping). */
    shutdown: Type.Optional(ShutdownSchema),
  },
  { additionalProperties: false },
);
type FileConfig = Static<typeof FileConfigSchema>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface KrrConfig {
  readonly store: StoreConfig;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    /** How long a client may take to send its whole request (a trickled body must not hold a connection). */
    readonly requestTimeoutSeconds: number;
  };
  /** Dev mode: a local token issuer whose key is kept with the store. */
  readonly dev: boolean;
  /**
   * `--clock`, `KRR_CLOCK`: the instant the register's clock is frozen at when the server starts
   * (docs/testdata.md#the-clock); undefined: the clock the store holds (the system clock, unless
   * the test-data API turned it).
   */
  readonly clock: EpochMs | undefined;
  /**
   * The test-data API under /testdata (docs/testdata.md): `--testdata-api`, `KRR_TESTDATA_API`,
   * `testdataApi`; on by default in dev mode only. It always takes a token with krr:testdata.write.
   */
  readonly testdataApi: boolean;
  readonly allowSyntheticIdentifiers: boolean;
  readonly auth: {
    /** Each with its kind (docs/tokens.md#issuer-kinds). */
    readonly trustedIssuers: readonly ResolvedTrustedIssuer[];
    readonly clockSkewSeconds: number;
    /** The dev issuer's `iss`: `devIssuer` / `KRR_DEV_ISSUER`, else `<publicUrl>/` (as Digdir's, with a slash). */
    readonly devIssuer: string;
    /**
     * Whether `devIssuer` follows only from defaults (no devIssuer, publicUrl, host or port given):
     * `krr token` then takes the issuer a dev server on the same store recorded at its start.
     */
    readonly devIssuerDefaulted: boolean;
  };
  /** The server's base URL as its clients reach it, without a trailing slash (`publicUrl`). */
  readonly publicUrl: string;
  /** Whether `publicUrl` was configured (else it follows host and port). */
  readonly publicUrlConfigured: boolean;
  /** The dev-mode ID-porten sign-in: its clients and their redirect URIs (docs/tokens.md#id-porten-clients). */
  readonly idporten: {
    readonly clients: readonly IdportenClient[];
    /**
     * Whether the dev ID-porten interrupts a sign-in whose person last confirmed their contact
     * information more than `confirmAfterDays` ago (docs/minprofil.md#confirm-prompt).
     */
    readonly confirmPrompt: boolean;
    readonly confirmAfterDays: number;
  };
  /** The dev-mode Maskinporten-like token service (`POST /token`). */
  readonly maskinporten: {
    /** `expires_in` of the access tokens it issues (Maskinporten's is 120 s). */
    readonly tokenExpiresInSeconds: number;
    /** PEM files of the CAs that client certificates (`x5c`) may be issued by. */
    readonly trustedClientCas: readonly string[];
  };
  readonly logLevel: LogLevel;
  /** The key (PEM) and certificate (chain, PEM) that sign answers; undefined: generated in dev mode, else none. */
  readonly answerSigning: { readonly keyFile: string; readonly certificateFile: string } | undefined;
  /** Bytes of pre-rendered persons kept in memory for lookups; 0 turns the cache off. */
  readonly lookup: { readonly cacheBytes: number };
  /** Per-client rate limit; undefined: none. */
  readonly rateLimit: { readonly max: number; readonly windowSeconds: number } | undefined;
  /** Load shedding: requests in flight at most; mean event-loop delay at most (0: not checked). */
  readonly overload: { readonly maxInFlight: number; readonly maxEventLoopDelayMs: number };
  /** The outbox's e-mail over SMTP (`smtp`, KRR_SMTP_URL and KRR_SMTP_FROM); undefined: none. */
  readonly smtp: SmtpConfig | undefined;
  /** The outbox's SMS gateway (`sms`, KRR_SMS_URL and KRR_SMS_HEADER); undefined: none. */
  readonly sms: SmsConfig | undefined;
  /** The outbox's retries (`outbox`, KRR_OUTBOX_MAX_ATTEMPTS). */
  readonly outbox: OutboxConfig;
  /** Min profil: the citizens' pages (docs/minprofil.md#configuration). */
  readonly minprofil: MinprofilConfig;
  /** The register's jobs (docs/jobs.md#configuration). */
  readonly jobs: JobsConfig;
  /** GET /metrics (docs/operations.md#metrics). */
  readonly metrics: MetricsConfig;
  /** The audit trail's retention (docs/operations.md#partitions-and-retention). */
  readonly audit: AuditConfig;
  /** How `krr serve` stops (docs/operations.md#stopping). */
  readonly shutdown: ShutdownConfig;
}

/** Command-line values; undefined where the option was not given. */
export interface CliValues {
  readonly config?: string;
  readonly dataDir?: string;
  readonly database?: string;
  /** `--read-database`, repeatable (docs/operations.md#replicas). */
  readonly readDatabase?: readonly string[];
  readonly host?: string;
  readonly port?: string | number;
  readonly clock?: string;
  readonly dev?: boolean;
  readonly logLevel?: string;
  readonly syntheticIdentifiers?: boolean;
  readonly publicUrl?: string;
  readonly testdataApi?: boolean;
  /** `--no-jobs`: false. */
  readonly jobs?: boolean;
}

export const DEFAULT_DATA_DIR = '.krr-data';
export const DEFAULT_DEV_ISSUER = 'http://127.0.0.1:8080/';

/** The base URL a server listening on `host`:`port` is reached at. */
export function baseUrlFor(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/** The Maskinporten-like issuer at `publicUrl`: the base URL with a trailing slash, like Digdir's. */
export function devIssuerAt(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/`;
}

function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('publicUrl (--public-url, KRR_PUBLIC_URL) must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError('publicUrl (--public-url, KRR_PUBLIC_URL) must be an http or https URL');
  if (url.search || url.hash)
    throw new ConfigError('publicUrl (--public-url, KRR_PUBLIC_URL) must have no query or fragment');
  return url.toString().replace(/\/+$/, '');
}

/**
 * The config of a server that listens on `port` (a `--port 0` server learns its port only when it
 * binds): the derived public URL and dev issuer follow the port; configured ones stay.
 */
export function withListenPort(config: KrrConfig, port: number): KrrConfig {
  if (port === config.http.port) return config;
  const publicUrl = config.publicUrlConfigured ? config.publicUrl : baseUrlFor(config.http.host, port);
  const devIssuer =
    config.auth.devIssuer === devIssuerAt(config.publicUrl) ? devIssuerAt(publicUrl) : config.auth.devIssuer;
  return deepFreeze({
    ...config,
    http: { ...config.http, port },
    publicUrl,
    auth: { ...config.auth, devIssuer },
  });
}

export const DEFAULT_LOOKUP_CACHE_BYTES = 256 * 1024 * 1024;

function readConfigFile(path: string): FileConfig {
  let text: string;
  try {
    text = readFileBounded(path).toString('utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the config file ${path}: ${(err as FileReadError).reason}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text: never repeat a file's content (it may be any file).
    throw new ConfigError(`the config file ${path} is not JSON`);
  }
  if (!Value.Check(FileConfigSchema, json)) {
    const problems = [...Value.Errors(FileConfigSchema, json)]
      .slice(0, 5)
      .map((e) => `${e.path || '/'}: ${e.message}`);
    throw new ConfigError(`the config file ${path} is not valid: ${problems.join('; ')}`);
  }
  return json;
}

function parseBoolean(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false`);
}

function parseIssuersEnv(value: string | undefined): ResolvedTrustedIssuer[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new ConfigError(
      'KRR_TRUSTED_ISSUERS must be a JSON array of preset names, {preset, audience?} or {issuer, jwksUri?, metadataUrl?, audience?, kind?}',
    );
  }
  const schema = Type.Array(TrustedIssuerEntrySchema);
  if (!Value.Check(schema, json)) {
    throw new ConfigError(
      'KRR_TRUSTED_ISSUERS must be a JSON array of preset names, {preset, audience?} or {issuer, jwksUri?, metadataUrl?, audience?, kind?}',
    );
  }
  return json.map(resolveTrustedIssuer);
}

function parseCountEnv(
  name: string,
  value: string | undefined,
  minimum = 1,
  maximum = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < minimum || n > maximum)
    throw new ConfigError(
      maximum === Number.MAX_SAFE_INTEGER
        ? `${name} must be a whole number of at least ${minimum}`
        : `${name} must be a whole number from ${minimum} to ${maximum}`,
    );
  return n;
}

/** A redirect URI as ID-porten registers one: absolute http(s), no fragment. */
function checkRedirectUri(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('a redirect URI of an ID-porten client is not an absolute URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || value.includes('#'))
    throw new ConfigError('a redirect URI of an ID-porten client must be http(s) without a fragment');
}

/** KRR_IDPORTEN_CLIENTS (a JSON array) over the file's `idportenClients`; each client once. */
function idportenClientsFrom(env: NodeJS.ProcessEnv, file: FileConfig): IdportenClient[] {
  let clients: IdportenClient[] = file.idportenClients ?? [];
  const text = env.KRR_IDPORTEN_CLIENTS;
  if (text !== undefined && text.trim() !== '') {
    const problem = 'KRR_IDPORTEN_CLIENTS must be a JSON array of {clientId, redirectUris}';
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ConfigError(problem);
    }
    if (!Value.Check(IdportenClientsSchema, json)) throw new ConfigError(problem);
    clients = json;
  }
  const seen = new Set<string>();
  for (const client of clients) {
    if (seen.has(client.clientId))
      throw new ConfigError('an ID-porten client id is given twice (idportenClients, KRR_IDPORTEN_CLIENTS)');
    seen.add(client.clientId);
    client.redirectUris.forEach(checkRedirectUri);
  }
  return clients.map((c) => {
    if (c.jwks && c.jwksUri)
      throw new ConfigError('an ID-porten client has both jwks and jwksUri: give one of them');
    if (c.jwksUri !== undefined) checkJwksUri(c.jwksUri);
    return {
      clientId: c.clientId,
      redirectUris: [...c.redirectUris],
      ...(c.jwks ? { jwks: { keys: c.jwks.keys.map((k) => ({ ...k })) } } : {}),
      ...(c.jwksUri !== undefined ? { jwksUri: c.jwksUri } : {}),
    };
  });
}

// --- The dev ID-porten's confirm prompt and its clients' keys (docs/minprofil.md#configuration) ---

export const DEFAULT_CONFIRM_AFTER_DAYS = 90;

/** A client's JWKS URL: absolute http(s). */
function checkJwksUri(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('the jwksUri of an ID-porten client is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError('the jwksUri of an ID-porten client must be an http(s) URL');
}

/** KRR_IDPORTEN_CONFIRM_PROMPT and KRR_IDPORTEN_CONFIRM_AFTER_DAYS over the file's `idporten`. */
function idportenPromptFrom(
  env: NodeJS.ProcessEnv,
  file: FileConfig,
): { confirmPrompt: boolean; confirmAfterDays: number } {
  return {
    confirmPrompt:
      parseBoolean('KRR_IDPORTEN_CONFIRM_PROMPT', env.KRR_IDPORTEN_CONFIRM_PROMPT) ??
      file.idporten?.confirmPrompt ??
      true,
    confirmAfterDays:
      parseCountEnv('KRR_IDPORTEN_CONFIRM_AFTER_DAYS', env.KRR_IDPORTEN_CONFIRM_AFTER_DAYS) ??
      file.idporten?.confirmAfterDays ??
      DEFAULT_CONFIRM_AFTER_DAYS,
  };
}

// --- end of the confirm prompt's block ---

export const DEFAULT_MAX_IN_FLIGHT = 1024;
export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 0;

/** KRR_RATE_LIMIT_MAX (requests) and KRR_RATE_LIMIT_WINDOW_SECONDS (default 1) over the file's `rateLimit`. */
function rateLimitFrom(env: NodeJS.ProcessEnv, file: FileConfig): KrrConfig['rateLimit'] {
  const max = parseCountEnv('KRR_RATE_LIMIT_MAX', env.KRR_RATE_LIMIT_MAX) ?? file.rateLimit?.max;
  const windowSeconds =
    parseCountEnv('KRR_RATE_LIMIT_WINDOW_SECONDS', env.KRR_RATE_LIMIT_WINDOW_SECONDS) ??
    file.rateLimit?.windowSeconds ??
    1;
  return max === undefined ? undefined : { max, windowSeconds };
}

export function parseClock(value: string): EpochMs {
  const t = parseInstant(value);
  if (t === undefined) {
    throw new ConfigError(
      `--clock / KRR_CLOCK must be an ISO-8601 date-time with an offset, e.g. 2018-06-01T12:00:00+02:00`,
    );
  }
  return t;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function answerSigningFiles(
  env: NodeJS.ProcessEnv,
  file: FileConfig,
  configPath: string | undefined,
): KrrConfig['answerSigning'] {
  const keyEnv = env.KRR_ANSWER_SIGNING_KEY_FILE;
  const certEnv = env.KRR_ANSWER_SIGNING_CERTIFICATE_FILE;
  if (keyEnv || certEnv) {
    if (!keyEnv || !certEnv) {
      throw new ConfigError('give both KRR_ANSWER_SIGNING_KEY_FILE and KRR_ANSWER_SIGNING_CERTIFICATE_FILE');
    }
    return { keyFile: resolve(keyEnv), certificateFile: resolve(certEnv) };
  }
  if (!file.answerSigning) return undefined;
  const base = dirname(resolve(configPath!));
  return {
    keyFile: resolve(base, file.answerSigning.keyFile),
    certificateFile: resolve(base, file.answerSigning.certificateFile),
  };
}

/** Builds the frozen configuration. `env` is a parameter so that tests do not touch process.env. */
export function loadConfig(cli: CliValues, env: NodeJS.ProcessEnv = process.env): KrrConfig {
  const configPath = cli.config ?? env.KRR_CONFIG;
  const file: FileConfig = configPath ? readConfigFile(configPath) : {};

  const databaseUrl = cli.database ?? env.KRR_DATABASE_URL ?? file.databaseUrl;
  const dataDir = cli.dataDir ?? env.KRR_DATA_DIR ?? file.dataDir;
  if (cli.database && cli.dataDir) throw new ConfigError('give either --database or --data-dir, not both');
  let store: StoreConfig;
  if (databaseUrl && !cli.dataDir) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new ConfigError('the database URL must start with postgres:// or postgresql://');
    }
    store = {
      kind: 'postgres',
      url: databaseUrl,
      ...databaseTimeoutsFrom(env, file),
      ...readReplicasFrom(cli, env, file),
    };
  } else {
    // PGlite is one process's file: it has no replicas to read from.
    if (readReplicasFrom(cli, env, file).readUrls)
      throw new ConfigError(
        'read replicas (--read-database, KRR_READ_DATABASE_URLS) need the PostgreSQL store (--database); the embedded store has none',
      );
    store = { kind: 'embedded', dataDir: resolve(dataDir ?? DEFAULT_DATA_DIR) };
  }

  const portValue = cli.port ?? env.KRR_PORT ?? file.port ?? 8080;
  const port = Number(portValue);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('--port must be a port number (0 to 65535)');

  const clockText = cli.clock ?? env.KRR_CLOCK;
  const logLevel = (cli.logLevel ?? env.KRR_LOG_LEVEL ?? file.logLevel ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`the log level must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const host = cli.host ?? env.KRR_HOST ?? file.host ?? '127.0.0.1';
  const publicUrlText = cli.publicUrl ?? env.KRR_PUBLIC_URL ?? file.publicUrl;
  const publicUrl = publicUrlText ? parsePublicUrl(publicUrlText) : baseUrlFor(host, port);
  const devIssuerText = env.KRR_DEV_ISSUER ?? file.devIssuer;
  const trustedClientCasText = env.KRR_TRUSTED_CLIENT_CAS;
  const tokenExpiresText = env.KRR_TOKEN_EXPIRES_IN;
  const tokenExpiresInSeconds =
    tokenExpiresText !== undefined && tokenExpiresText !== ''
      ? Number(tokenExpiresText)
      : (file.tokenExpiresInSeconds ?? 120);
  if (!Number.isInteger(tokenExpiresInSeconds) || tokenExpiresInSeconds < 1 || tokenExpiresInSeconds > 86400)
    throw new ConfigError('KRR_TOKEN_EXPIRES_IN must be a whole number of seconds (1 to 86400)');
  const cacheText = env.KRR_LOOKUP_CACHE_BYTES;
  const cacheBytes =
    cacheText !== undefined && cacheText !== ''
      ? Number(cacheText)
      : (file.lookupCacheBytes ?? DEFAULT_LOOKUP_CACHE_BYTES);
  if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0)
    throw new ConfigError('KRR_LOOKUP_CACHE_BYTES must be a whole number of bytes (0 turns the cache off)');

  return deepFreeze({
    store,
    publicUrl,
    publicUrlConfigured: publicUrlText !== undefined,
    idporten: { clients: idportenClientsFrom(env, file), ...idportenPromptFrom(env, file) },
    maskinporten: {
      tokenExpiresInSeconds,
      trustedClientCas:
        trustedClientCasText !== undefined && trustedClientCasText !== ''
          ? trustedClientCasText.split(delimiter).filter(Boolean)
          : (file.trustedClientCas ?? []),
    },
    http: {
      host,
      port,
      bodyLimitBytes: file.bodyLimitBytes ?? 1024 * 1024,
      requestTimeoutSeconds: file.requestTimeoutSeconds ?? 30,
    },
    dev: cli.dev ?? false,
    clock: clockText ? parseClock(clockText) : undefined,
    testdataApi:
      cli.testdataApi ??
      parseBoolean('KRR_TESTDATA_API', env.KRR_TESTDATA_API) ??
      file.testdataApi ??
      cli.dev ??
      false,
    allowSyntheticIdentifiers:
      cli.syntheticIdentifiers ??
      parseBoolean('KRR_ALLOW_SYNTHETIC_IDENTIFIERS', env.KRR_ALLOW_SYNTHETIC_IDENTIFIERS) ??
      file.allowSyntheticIdentifiers ??
      true,
    auth: {
      trustedIssuers:
        parseIssuersEnv(env.KRR_TRUSTED_ISSUERS) ?? (file.trustedIssuers ?? []).map(resolveTrustedIssuer),
      clockSkewSeconds: file.clockSkewSeconds ?? 30,
      devIssuer: devIssuerText ?? devIssuerAt(publicUrl),
      devIssuerDefaulted:
        devIssuerText === undefined &&
        publicUrlText === undefined &&
        cli.host === undefined &&
        env.KRR_HOST === undefined &&
        file.host === undefined &&
        cli.port === undefined &&
        env.KRR_PORT === undefined &&
        file.port === undefined,
    },
    logLevel: logLevel as LogLevel,
    answerSigning: answerSigningFiles(env, file, configPath),
    lookup: { cacheBytes },
    rateLimit: rateLimitFrom(env, file),
    overload: {
      maxInFlight:
        parseCountEnv('KRR_MAX_IN_FLIGHT', env.KRR_MAX_IN_FLIGHT) ??
        file.overload?.maxInFlight ??
        DEFAULT_MAX_IN_FLIGHT,
      maxEventLoopDelayMs:
        parseCountEnv('KRR_MAX_EVENT_LOOP_DELAY_MS', env.KRR_MAX_EVENT_LOOP_DELAY_MS, 0) ??
        file.overload?.maxEventLoopDelayMs ??
        DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
    },
    ...messagingFrom(env, file),
    minprofil: minprofilFrom(env, file, configPath, cli.dev ?? false),
    jobs: jobsFrom(env, file, cli),
    metrics: metricsFrom(env, file),
    audit: auditFrom(env, file),
    shutdown: shutdownFrom(env, file),
  });
}
