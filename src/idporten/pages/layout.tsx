// The one layout of the dev ID-porten's pages (docs/tokens.md#sign-in-pages), and the small parts
// they share. Templates escape by construction (preact's renderer escapes every text and
// attribute); nothing here writes raw HTML. No inline script or style: the Content-Security-Policy
// of idporten.routes.ts forbids both. The stylesheets are Designsystemet's and a few rules of its
// own, served under /idporten/assets/ by the stand-in itself, so its pages look right whether or
// not Min profil is on.

import type { ComponentChildren, VNode } from 'preact';
import { DESIGNSYSTEMET_FILES } from '../../http/designsystemet.js';
import { DocumentHead, Heading, Paragraph } from '../../http/designsystemet.components.js';
import type { Texts } from '../i18n/i18n.js';

export const IDPORTEN_ASSETS = '/idporten/assets';
export const IDPORTEN_CSS_FILE = 'idporten.css';
/** The stylesheets, in cascade order: the theme's tokens, the components, our own few rules. */
export const STYLESHEETS = [...DESIGNSYSTEMET_FILES, IDPORTEN_CSS_FILE].map(
  (file) => `${IDPORTEN_ASSETS}/${file}`,
);

export interface LayoutProps {
  readonly texts: Texts;
  readonly title: string;
  readonly children?: ComponentChildren;
}

export function Layout({ texts, title, children }: LayoutProps): VNode {
  const t = texts.t.bind(texts);
  return (
    <html lang={texts.locale} data-color-scheme="light">
      <DocumentHead title={title} referrer="no-referrer" stylesheets={STYLESHEETS} />
      <body>
        <a class="ds-skip-link" href="#main">
          {t('layout.skip')}
        </a>
        <header class="idp-header">
          <div class="idp-header-inner">
            <span class="idp-brand">{t('layout.brand')}</span>
            <span class="ds-tag" data-color="warning">
              {t('layout.test')}
            </span>
          </div>
        </header>
        <main id="main" tabindex={-1} class="idp-main">
          {children}
        </main>
      </body>
    </html>
  );
}

export { Heading, Paragraph };

export function Button({
  variant = 'primary',
  name,
  value,
  children,
}: {
  readonly variant?: 'primary' | 'secondary' | 'tertiary';
  readonly name?: string;
  readonly value?: string;
  readonly children?: ComponentChildren;
}): VNode {
  return (
    <button type="submit" name={name} value={value} class="ds-button" data-variant={variant}>
      {children}
    </button>
  );
}

/** A hidden field: the held request's id every form of a page carries. */
export function Hidden({ name, value }: { readonly name: string; readonly value: string }): VNode {
  return <input type="hidden" name={name} value={value} />;
}
