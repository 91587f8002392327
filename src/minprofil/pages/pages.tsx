// Min profil's pages (docs/minprofil.md#pages). Each is a function of plain values to a VNode in
// the one Layout; every text comes from the catalogue of the page's language. The forms post to
// the routes of minprofil.routes.ts and work without JavaScript.

import type { ComponentChildren, VNode } from 'preact';
import type {
  LookupHistoryPage,
  PendingCode,
  ProfileChannel,
  ProfileChannelValue,
  ProfileEntry,
} from '../../profile/profile.js';
import { LANGUAGES } from '../../person/person.js';
import type { Language } from '../../person/person.js';
import type { Texts } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { Alert, CsrfField, Heading, Layout, Paragraph, PREFIX, SubmitButton, TextField } from './layout.js';

/** What every signed-in page has: the texts, the session's CSRF token. */
export interface PageContext {
  readonly texts: Texts;
  readonly csrf: string;
}

/** The notes a redirect after a change leads to (`?lagret=`), and their texts. */
export const SAVED_NOTES = {
  epost: 'saved.epost',
  mobil: 'saved.mobil',
  'fjernet-epost': 'saved.removed.epost',
  'fjernet-mobil': 'saved.removed.mobil',
  bekreftet: 'saved.confirmed',
  reservert: 'saved.reserved',
  opphevet: 'saved.lifted',
  spraak: 'saved.language',
  registrert: 'saved.registered',
} as const satisfies Record<string, MessageKey>;
export type SavedNote = keyof typeof SAVED_NOTES;

function ChannelSummary({
  texts,
  channel,
  value,
}: {
  texts: Texts;
  channel: ProfileChannel;
  value: ProfileChannelValue | undefined;
}): VNode {
  const t = texts.t.bind(texts);
  return (
    <section class="mp-card ds-card">
      <h2 class="ds-heading" data-size="xs" id={`${channel}-heading`}>
        {t(channel === 'epost' ? 'overview.epost' : 'overview.mobil')}
      </h2>
      {value ? (
        <>
          <p class="ds-paragraph mp-value">{value.value}</p>
          <ul class="mp-meta">
            {value.oppdatert !== undefined && (
              <li>{t('overview.changed', { date: texts.date(value.oppdatert) })}</li>
            )}
            <li>
              {value.sistVerifisert !== undefined
                ? t('overview.verified', { date: texts.date(value.sistVerifisert) })
                : t('overview.neverVerified')}
            </li>
          </ul>
        </>
      ) : (
        <p class="ds-paragraph">{t('overview.none')}</p>
      )}
      <p class="ds-paragraph">
        <a class="ds-link" href={`${PREFIX}/${channel}`}>
          {t(value ? 'overview.change' : 'overview.add')}
          <span class="ds-sr-only"> {t(channel === 'epost' ? 'overview.epost' : 'overview.mobil')}</span>
        </a>
      </p>
    </section>
  );
}

export function OverviewPage({
  ctx,
  entry,
  saved,
  problem,
}: {
  ctx: PageContext;
  entry: ProfileEntry;
  saved?: SavedNote | undefined;
  problem?: string | undefined;
}): VNode {
  const { texts } = ctx;
  const t = texts.t.bind(texts);
  return (
    <Layout texts={texts} title={t('overview.title')} path={PREFIX} csrf={ctx.csrf}>
      <Heading>{t('overview.title')}</Heading>
      {saved && <Alert color="success">{t(SAVED_NOTES[saved])}</Alert>}
      {problem && <Alert color="danger">{problem}</Alert>}
      <Paragraph>{t('overview.intro')}</Paragraph>
      <div class="mp-grid">
        <ChannelSummary texts={texts} channel="epost" value={entry.epost} />
        <ChannelSummary texts={texts} channel="mobil" value={entry.mobil} />
      </div>

      <section class="mp-section">
        <Heading level={2}>
          <span id="notify-heading">{t('overview.notify')}</span>
        </Heading>
        {entry.kanVarsles ? (
          <>
            <Paragraph>{t('overview.notifyYes')}</Paragraph>
            {entry.kanVarslesTil !== undefined && (
              <Paragraph>{t('overview.notifyUntil', { date: texts.date(entry.kanVarslesTil) })}</Paragraph>
            )}
          </>
        ) : (
          <Paragraph>{t('overview.notifyNo')}</Paragraph>
        )}
      </section>

      {(entry.epost || entry.mobil) && (
        <section class="mp-section">
          <Heading level={2}>
            <span id="confirm-heading">{t('overview.confirmTitle')}</span>
          </Heading>
          <Paragraph>{t('overview.confirmText')}</Paragraph>
          {entry.sistBekreftet !== undefined && (
            <Paragraph>{t('overview.lastConfirmed', { date: texts.date(entry.sistBekreftet) })}</Paragraph>
          )}
          <form method="post" action={`${PREFIX}/bekreft`}>
            <CsrfField token={ctx.csrf} />
            <SubmitButton>{t('overview.confirmButton')}</SubmitButton>
          </form>
        </section>
      )}

      <section class="mp-section">
        <Heading level={2}>
          <span id="reservation-heading">{t('overview.reservation')}</span>
        </Heading>
        {entry.reservasjon === 'JA' ? (
          <>
            <Paragraph>{t('overview.reserved')}</Paragraph>
            {entry.reservasjonstidspunkt !== undefined && (
              <Paragraph>
                {t('overview.reservedSince', { date: texts.date(entry.reservasjonstidspunkt) })}
              </Paragraph>
            )}
          </>
        ) : (
          <Paragraph>{t('overview.notReserved')}</Paragraph>
        )}
        {entry.reservasjon === 'JA' ? (
          <form method="post" action={`${PREFIX}/reservasjon/opphev`}>
            <CsrfField token={ctx.csrf} />
            <SubmitButton variant="secondary">{t('reservation.lift')}</SubmitButton>
          </form>
        ) : (
          // The first step only: the page it leads to says what reserving means and asks again.
          <form method="get" action={`${PREFIX}/reservasjon`}>
            <SubmitButton variant="secondary">{t('reservation.reserve')}</SubmitButton>
          </form>
        )}
        <Paragraph>
          <a class="ds-link" href={`${PREFIX}/reservasjon`}>
            {t('overview.reservationLink')}
          </a>
        </Paragraph>
      </section>

      <section class="mp-section">
        <Heading level={2}>
          <span id="language-heading">{t('overview.language')}</span>
        </Heading>
        <LanguageForm ctx={ctx} current={entry.spraak} />
      </section>

      <section class="mp-section">
        <Heading level={2}>
          <span id="mailbox-heading">{t('overview.mailbox')}</span>
        </Heading>
        {entry.digitalPost ? (
          <>
            <Paragraph>
              {t('overview.mailboxProvider', {
                name: entry.digitalPost.leverandoerNavn ?? entry.digitalPost.leverandoerAdresse,
              })}
            </Paragraph>
            <Paragraph>
              {t('overview.mailboxAddress', { address: entry.digitalPost.postkasseadresse })}
            </Paragraph>
          </>
        ) : (
          <Paragraph>{t('overview.mailboxNone')}</Paragraph>
        )}
      </section>

      <section class="mp-section">
        <Paragraph>
          <a class="ds-link" href={`${PREFIX}/oppslag`}>
            {t('nav.lookups')}
          </a>
        </Paragraph>
      </section>
    </Layout>
  );
}

export function RegisterPage({ ctx, problem }: { ctx: PageContext; problem?: string | undefined }): VNode {
  const t = ctx.texts.t.bind(ctx.texts);
  return (
    <Layout texts={ctx.texts} title={t('register.title')} path={PREFIX} csrf={ctx.csrf}>
      <Heading>{t('register.title')}</Heading>
      {problem && <Alert color="danger">{problem}</Alert>}
      <Paragraph>{t('register.text')}</Paragraph>
      <form method="post" action={`${PREFIX}/registrer`}>
        <CsrfField token={ctx.csrf} />
        <SubmitButton>{t('register.button')}</SubmitButton>
      </form>
    </Layout>
  );
}

function BackLink({ texts }: { texts: Texts }): VNode {
  return (
    <Paragraph>
      <a class="ds-link" href={PREFIX}>
        {texts.t('channel.back')}
      </a>
    </Paragraph>
  );
}

export function ChannelPage({
  ctx,
  channel,
  current,
  error,
  typed,
  problem,
}: {
  ctx: PageContext;
  channel: ProfileChannel;
  current: ProfileChannelValue | undefined;
  /** A problem with the typed value, shown at the field. */
  error?: string | undefined;
  typed?: string | undefined;
  /** A problem that is not the value's (too many codes). */
  problem?: string | undefined;
}): VNode {
  const { texts } = ctx;
  const t = texts.t.bind(texts);
  const path = `${PREFIX}/${channel}`;
  const isEpost = channel === 'epost';
  return (
    <Layout
      texts={texts}
      title={t(isEpost ? 'channel.epost.title' : 'channel.mobil.title')}
      path={path}
      csrf={ctx.csrf}
    >
      <Heading>{t(isEpost ? 'channel.epost.title' : 'channel.mobil.title')}</Heading>
      {problem && <Alert color="danger">{problem}</Alert>}
      {current && <Paragraph>{t('channel.current', { value: current.value })}</Paragraph>}
      <form method="post" action={path} novalidate>
        <CsrfField token={ctx.csrf} />
        <TextField
          id="value"
          name="value"
          label={t(isEpost ? 'channel.epost.label' : 'channel.mobil.label')}
          hint={t(isEpost ? 'channel.epost.hint' : 'channel.mobil.hint')}
          error={error}
          value={typed ?? ''}
          type={isEpost ? 'email' : 'tel'}
          autocomplete={isEpost ? 'email' : 'tel'}
          maxLength={254}
        />
        <Paragraph>{t('channel.sendText')}</Paragraph>
        <SubmitButton>{t('channel.send')}</SubmitButton>
      </form>
      {current && (
        <section class="mp-section">
          <Heading level={2}>
            <span id="remove-heading">{t('channel.remove.title')}</span>
          </Heading>
          <Alert color="warning">
            {t(isEpost ? 'channel.remove.warning.epost' : 'channel.remove.warning.mobil')}
          </Alert>
          <form method="post" action={`${path}/fjern`}>
            <CsrfField token={ctx.csrf} />
            <SubmitButton variant="secondary">
              {t(isEpost ? 'channel.remove.epost' : 'channel.remove.mobil')}
            </SubmitButton>
          </form>
        </section>
      )}
      <BackLink texts={texts} />
    </Layout>
  );
}

export function CodePage({
  ctx,
  channel,
  pending,
  error,
}: {
  ctx: PageContext;
  channel: ProfileChannel;
  pending: PendingCode;
  error?: string | undefined;
}): VNode {
  const { texts } = ctx;
  const t = texts.t.bind(texts);
  const path = `${PREFIX}/${channel}/kode`;
  return (
    <Layout texts={texts} title={t('code.title')} path={path} csrf={ctx.csrf}>
      <Heading>{t('code.title')}</Heading>
      <Paragraph>{t('code.sent', { value: pending.value })}</Paragraph>
      <form method="post" action={path} novalidate>
        <CsrfField token={ctx.csrf} />
        <TextField
          id="kode"
          name="kode"
          label={t('code.label')}
          hint={t('code.hint')}
          error={error}
          inputMode="numeric"
          autocomplete="one-time-code"
          maxLength={6}
        />
        <SubmitButton>{t('code.submit')}</SubmitButton>
      </form>
      <Paragraph>
        <a class="ds-link" href={`${PREFIX}/${channel}`}>
          {t('code.resend')}
        </a>
      </Paragraph>
      <BackLink texts={texts} />
    </Layout>
  );
}

export function ReservationPage({
  ctx,
  entry,
  problem,
}: {
  ctx: PageContext;
  entry: ProfileEntry;
  problem?: string | undefined;
}): VNode {
  const { texts } = ctx;
  const t = texts.t.bind(texts);
  const path = `${PREFIX}/reservasjon`;
  return (
    <Layout texts={texts} title={t('reservation.title')} path={path} csrf={ctx.csrf}>
      <Heading>{t('reservation.title')}</Heading>
      {problem && <Alert color="danger">{problem}</Alert>}
      {entry.reservasjon === 'JA' ? (
        <>
          <Paragraph>{t('reservation.reservedText')}</Paragraph>
          <Paragraph>{t('reservation.liftText')}</Paragraph>
          <form method="post" action={`${path}/opphev`}>
            <CsrfField token={ctx.csrf} />
            <SubmitButton>{t('reservation.lift')}</SubmitButton>
          </form>
        </>
      ) : (
        <>
          <Paragraph>{t('reservation.explain')}</Paragraph>
          <Paragraph>{t('reservation.explain2')}</Paragraph>
          <form method="post" action={path}>
            <CsrfField token={ctx.csrf} />
            <SubmitButton>{t('reservation.reserve')}</SubmitButton>
          </form>
        </>
      )}
      <BackLink texts={texts} />
    </Layout>
  );
}

/** The preferred language: a select and "Lagre" (on the overview and on its own page). */
function LanguageForm({
  ctx,
  current,
  error,
}: {
  ctx: PageContext;
  current: Language | undefined;
  error?: string | undefined;
}): VNode {
  const t = ctx.texts.t.bind(ctx.texts);
  return (
    <form method="post" action={`${PREFIX}/spraak`}>
      <CsrfField token={ctx.csrf} />
      <div class="ds-field">
        <label class="ds-label" for="spraak">
          {t('language.label')}
        </label>
        <div data-field="description" id="spraak-hint">
          {t('language.text')}
        </div>
        <select
          class="ds-input"
          id="spraak"
          name="spraak"
          aria-describedby={error ? 'spraak-hint spraak-error' : 'spraak-hint'}
          aria-invalid={error ? 'true' : undefined}
        >
          <option value="" selected={current === undefined}>
            {t('language.none')}
          </option>
          {LANGUAGES.map((language) => (
            <option value={language} selected={current === language} key={language}>
              {t(`language.${language}`)}
            </option>
          ))}
        </select>
        {error && (
          <p class="ds-validation-message" data-field="validation" id="spraak-error">
            {error}
          </p>
        )}
      </div>
      <SubmitButton>{t('language.save')}</SubmitButton>
    </form>
  );
}

export function LanguagePage({
  ctx,
  current,
  error,
}: {
  ctx: PageContext;
  current: Language | undefined;
  error?: string | undefined;
}): VNode {
  const { texts } = ctx;
  const t = texts.t.bind(texts);
  const path = `${PREFIX}/spraak`;
  return (
    <Layout texts={texts} title={t('language.title')} path={path} csrf={ctx.csrf}>
      <Heading>{t('language.title')}</Heading>
      <LanguageForm ctx={ctx} current={current} error={error} />
      <BackLink texts={texts} />
    </Layout>
  );
}

export function LookupsPage({
  ctx,
  history,
  page,
}: {
  ctx: PageContext;
  history: LookupHistoryPage;
  page: number;
}): VNode {
  const { texts } = ctx;
  const t = texts.t.bind(texts);
  const path = `${PREFIX}/oppslag`;
  return (
    <Layout texts={texts} title={t('lookups.title')} path={path} csrf={ctx.csrf}>
      <Heading>{t('lookups.title')}</Heading>
      <Paragraph>{t('lookups.text')}</Paragraph>
      {history.records.length === 0 && page === 1 ? (
        <Paragraph>{t('lookups.none')}</Paragraph>
      ) : (
        <DataTable
          caption={t('lookups.caption', { page })}
          columns={[t('lookups.when'), t('lookups.consumer'), t('lookups.supplier'), t('lookups.service')]}
        >
          {history.records.map((record, i) => (
            <tr key={i}>
              <TimeCell texts={texts} at={record.at} />
              <td>{record.consumer ?? t('lookups.unknown')}</td>
              <td>{record.supplier ?? '–'}</td>
              <td>{t(`lookups.service.${record.service}`)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {(page > 1 || history.more) && (
        <nav aria-label={t('lookups.pages')} class="mp-pager">
          {page > 1 && (
            <a class="ds-link" href={`${path}?side=${page - 1}`}>
              {t('lookups.newer')}
            </a>
          )}
          {history.more && (
            <a class="ds-link" href={`${path}?side=${page + 1}`}>
              {t('lookups.older')}
            </a>
          )}
        </nav>
      )}
      <BackLink texts={texts} />
    </Layout>
  );
}

/** A Designsystemet table with its caption and column headings; the rows are the children. */
function DataTable({
  caption,
  columns,
  children,
}: {
  caption: string;
  columns: readonly string[];
  children: ComponentChildren;
}): VNode {
  return (
    <table class="ds-table" data-zebra="true">
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** A cell with an instant, machine-readable and in the page's language (Europe/Oslo). */
function TimeCell({ texts, at }: { texts: Texts; at: number }): VNode {
  return (
    <td>
      <time dateTime={new Date(at).toISOString()}>{texts.dateTime(at)}</time>
    </td>
  );
}

export interface InboxMessage {
  readonly at: Date;
  readonly recipient: string;
  readonly channel: 'epost' | 'sms';
  readonly subject: string;
  readonly text: string;
}

export function InboxPage({ texts, messages }: { texts: Texts; messages: readonly InboxMessage[] }): VNode {
  const t = texts.t.bind(texts);
  return (
    <Layout texts={texts} title={t('inbox.title')} path="/dev/innboks">
      <Heading>{t('inbox.title')}</Heading>
      <Paragraph>{t('inbox.text')}</Paragraph>
      {messages.length === 0 ? (
        <Paragraph>{t('inbox.none')}</Paragraph>
      ) : (
        <DataTable
          caption={t('inbox.caption')}
          columns={[t('inbox.time'), t('inbox.recipient'), t('inbox.channel'), t('inbox.text.column')]}
        >
          {messages.map((m, i) => (
            <tr key={i}>
              <TimeCell texts={texts} at={m.at.getTime()} />
              <td>{m.recipient}</td>
              <td>{t(m.channel === 'epost' ? 'inbox.channel.epost' : 'inbox.channel.sms')}</td>
              <td class="mp-message">
                {m.subject && <strong>{m.subject}</strong>}
                {m.subject && <br />}
                {m.text}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </Layout>
  );
}

/** An error or notice page: a heading, a text, a link to start again. */
export function MessagePage({
  texts,
  title,
  text,
  link,
  csrf,
  path = PREFIX,
}: {
  texts: Texts;
  title: string;
  text: string;
  link?: { href: string; text: string } | undefined;
  csrf?: string | undefined;
  path?: string;
}): VNode {
  return (
    <Layout texts={texts} title={title} path={path} csrf={csrf}>
      <Heading>{title}</Heading>
      <Paragraph>{text}</Paragraph>
      {link && (
        <Paragraph>
          <a class="ds-link" href={link.href}>
            {link.text}
          </a>
        </Paragraph>
      )}
    </Layout>
  );
}
