// The one layout of Min profil's pages, and the small parts the pages share. Templates escape by
// construction (preact's renderer escapes every text and attribute); nothing here writes raw HTML.
// No inline script or style: the Content-Security-Policy forbids both (minprofil.security.ts).

import type { ComponentChildren, VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { DocumentHead, Heading, Paragraph } from '../../http/designsystemet.components.js';
import { LOCALES } from '../i18n/messages.js';
import type { Locale } from '../i18n/messages.js';
import type { Texts } from '../i18n/i18n.js';

export const PREFIX = '/minprofil';
export const ASSETS = `${PREFIX}/assets`;
/** The stylesheets, in cascade order: the theme's tokens, the components, our own few rules. */
export const STYLESHEETS = [
  `${ASSETS}/designsystemet.css`,
  `${ASSETS}/index.css`,
  `${ASSETS}/minprofil.css`,
] as const;

/** A locale's name in its own language, for the language switch. */
const LOCALE_NAMES: Readonly<Record<Locale, string>> = { nb: 'Bokmål', nn: 'Nynorsk', en: 'English' };

export interface LayoutProps {
  readonly texts: Texts;
  readonly title: string;
  /** The page's path (without query): the language switch links back to it. */
  readonly path: string;
  /** Signed in: the header shows "Logg ut", whose form carries this CSRF token. */
  readonly csrf?: string | undefined;
  readonly children?: ComponentChildren;
}

export function Layout({ texts, title, path, csrf, children }: LayoutProps): VNode {
  const t = texts.t.bind(texts);
  return (
    <html lang={texts.locale} data-color-scheme="light">
      <DocumentHead title={`${title} – ${t('app.name')}`} referrer="same-origin" stylesheets={STYLESHEETS} />
      <body>
        <a class="ds-skip-link" href="#main">
          {t('layout.skip')}
        </a>
        <header class="mp-header">
          <div class="mp-header-inner">
            <a class="mp-brand" href={PREFIX}>
              <span>{t('app.name')}</span>
              <span class="mp-brand-sub">{t('app.register')}</span>
            </a>
            <nav aria-label={t('layout.language')} class="mp-locales">
              <ul>
                {LOCALES.map((locale) => (
                  <li key={locale}>
                    <a
                      class="ds-link"
                      href={`${path}?locale=${locale}`}
                      lang={locale}
                      hreflang={locale}
                      aria-current={locale === texts.locale ? 'true' : undefined}
                    >
                      {LOCALE_NAMES[locale]}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            {csrf !== undefined && (
              <form method="post" action={`${PREFIX}/logg-ut`} class="mp-logout">
                <CsrfField token={csrf} />
                <button class="ds-button" data-variant="secondary" data-size="sm" type="submit">
                  {t('layout.logout')}
                </button>
              </form>
            )}
          </div>
        </header>
        <main id="main" tabindex={-1} class="mp-main">
          {children}
        </main>
      </body>
    </html>
  );
}

export function CsrfField({ token }: { readonly token: string }): VNode {
  return <input type="hidden" name="_csrf" value={token} />;
}

export { Heading, Paragraph };

export function Alert({
  color,
  children,
}: {
  readonly color: 'success' | 'danger' | 'warning' | 'info';
  readonly children?: ComponentChildren;
}): VNode {
  // role=alert only for what went wrong; a success note is a status.
  return (
    <div class="ds-alert" data-color={color} role={color === 'danger' ? 'alert' : 'status'}>
      <p class="ds-paragraph">{children}</p>
    </div>
  );
}

export interface TextFieldProps {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly hint?: string;
  readonly error?: string | undefined;
  readonly value?: string;
  readonly type?: 'text' | 'email' | 'tel';
  readonly autocomplete?: string;
  readonly inputMode?: 'numeric' | 'email' | 'tel' | 'text';
  readonly maxLength?: number;
}

/** A labelled field; its hint and its error are tied to it with aria-describedby. */
export function TextField(props: TextFieldProps): VNode {
  const hintId = `${props.id}-hint`;
  const errorId = `${props.id}-error`;
  const describedBy = [props.hint ? hintId : '', props.error ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div class="ds-field">
      <label class="ds-label" for={props.id}>
        {props.label}
      </label>
      {props.hint && (
        <div data-field="description" id={hintId}>
          {props.hint}
        </div>
      )}
      <input
        class="ds-input"
        id={props.id}
        name={props.name}
        // As 'text': preact's input types are a union by `type`, which a variable does not narrow
        // for tsc (typescript-eslint's view of the same types differs).
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
        type={(props.type ?? 'text') as 'text'}
        value={props.value ?? ''}
        autocomplete={props.autocomplete}
        inputmode={props.inputMode}
        maxlength={props.maxLength}
        aria-describedby={describedBy || undefined}
        aria-invalid={props.error ? 'true' : undefined}
      />
      {props.error && (
        <p class="ds-validation-message" data-field="validation" id={errorId}>
          {props.error}
        </p>
      )}
    </div>
  );
}

export function SubmitButton({
  variant = 'primary',
  children,
}: {
  readonly variant?: 'primary' | 'secondary' | 'tertiary';
  readonly children?: ComponentChildren;
}): VNode {
  return (
    <button class="ds-button" data-variant={variant} type="submit">
      {children}
    </button>
  );
}

/** A whole page as HTML text, with its doctype. */
export function renderPage<P>(page: VNode<P>): string {
  return `<!DOCTYPE html>${renderToString(page as VNode)}`;
}
