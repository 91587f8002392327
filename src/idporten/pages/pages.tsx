// The dev ID-porten's pages (docs/tokens.md#sign-in-pages): the sign-in (pick a test person, or type
// an identifier), the error page, and the confirm step (docs/minprofil.md#confirm-prompt). Each is a
// function of plain values to a VNode in the one Layout; every text comes from the catalogue of the
// page's language, and every value from a request is escaped by the renderer. The forms post to
// idporten.routes.ts and work without JavaScript; every control has a visible label.

import type { VNode } from 'preact';
import type { IdentifierProblem } from '../../identifier/identifier.js';
import type { AuthorizationRequest, ContactPromptView, PageProblem } from '../idporten.service.js';
import type { Texts } from '../i18n/i18n.js';
import { Button, Heading, Hidden, Layout, Paragraph } from './layout.js';

export interface TestPerson {
  readonly pid: string;
  readonly label: string;
}

export interface SignInPageProps {
  readonly texts: Texts;
  readonly formAction: string;
  readonly requestId: string;
  readonly request: AuthorizationRequest;
  readonly persons: readonly TestPerson[];
  /** What is wrong with the typed identifier, shown at the field. */
  readonly problem?: IdentifierProblem | undefined;
  readonly typed?: string | undefined;
}

export function SignInPage(props: SignInPageProps): VNode {
  const { texts, request } = props;
  const t = texts.t.bind(texts);
  const error =
    props.problem === undefined
      ? undefined
      : t('signIn.invalid', { reason: t(`identifier.${props.problem}`) });
  return (
    <Layout texts={texts} title={t('signIn.title')}>
      <Heading>{t('signIn.heading')}</Heading>
      <Paragraph>{t('signIn.intro')}</Paragraph>
      <dl class="idp-request ds-paragraph" data-size="sm">
        <dt>{t('signIn.client')}</dt>
        <dd>
          <code>{request.clientId}</code>
        </dd>
        <dt>{t('signIn.scope')}</dt>
        <dd>
          <code>{request.scopes.join(' ')}</code>
        </dd>
        <dt>{t('signIn.level')}</dt>
        <dd>
          <code>{request.acr}</code>
        </dd>
      </dl>

      {props.persons.length > 0 && (
        <form method="post" action={props.formAction} class="idp-persons-form">
          <Hidden name="request_id" value={props.requestId} />
          <fieldset class="ds-fieldset">
            <legend class="ds-heading" data-size="xs">
              {t('signIn.demo')}
            </legend>
            <ul class="idp-persons">
              {props.persons.map((p) => (
                <li key={p.pid}>
                  <Button variant="secondary" name="pid" value={p.pid}>
                    {`${p.pid}: ${p.label}`}
                  </Button>
                </li>
              ))}
            </ul>
          </fieldset>
        </form>
      )}

      <form method="post" action={props.formAction}>
        <Hidden name="request_id" value={props.requestId} />
        <fieldset class="ds-fieldset">
          <legend class="ds-heading" data-size="xs">
            {t('signIn.other')}
          </legend>
          <div class="ds-field">
            <label class="ds-label" for="pid">
              {t('signIn.pid')}
            </label>
            <input
              class="ds-input"
              id="pid"
              name="pid"
              type="text"
              inputmode="numeric"
              autocomplete="off"
              maxlength={11}
              value={props.typed ?? ''}
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={error ? 'pid-error' : undefined}
            />
            {error && (
              // role=alert: the page comes back after the post, and the problem is read out first.
              <p class="ds-validation-message" data-field="validation" id="pid-error" role="alert">
                {error}
              </p>
            )}
          </div>
          <Button>{t('signIn.submit')}</Button>
        </fieldset>
      </form>

      <form method="post" action={props.formAction}>
        <Hidden name="request_id" value={props.requestId} />
        <Hidden name="cancel" value="1" />
        <Button variant="tertiary">{t('signIn.cancel')}</Button>
      </form>
    </Layout>
  );
}

export interface ErrorPageProps {
  readonly texts: Texts;
  /** Why the request has no sign-in: its redirect_uri or client, or a held sign-in expired. */
  readonly problem: PageProblem | 'expired';
}

export function ErrorPage({ texts, problem }: ErrorPageProps): VNode {
  const t = texts.t.bind(texts);
  return (
    <Layout texts={texts} title={t('error.title')}>
      <Heading>{t('error.heading')}</Heading>
      <div class="ds-alert" data-color="danger" role="alert">
        <p class="ds-paragraph">{t(`error.${problem}`)}</p>
      </div>
    </Layout>
  );
}

export interface ConfirmPageProps {
  readonly texts: Texts;
  readonly formAction: string;
  readonly confirmId: string;
  readonly view: ContactPromptView;
  /** Min profil, with the address this step continues at as its gotoUrl. */
  readonly changeUrl: string;
}

/** The confirm step's form: its one action, and "Avbryt". */
function ConfirmActions({
  props,
  action,
  label,
  cancel,
}: {
  props: ConfirmPageProps;
  action: 'confirm' | 'continue';
  label: string;
  cancel: string;
}): VNode {
  return (
    <form method="post" action={props.formAction}>
      <Hidden name="confirm_id" value={props.confirmId} />
      <div class="idp-actions">
        <Button name="action" value={action}>
          {label}
        </Button>
        <Button variant="secondary" name="action" value="cancel">
          {cancel}
        </Button>
      </div>
    </form>
  );
}

/**
 * The confirm step (docs/minprofil.md#confirm-prompt), with the texts of Digdir's module
 * (difi/idporten-bekreft-kontaktinfo): the person's e-mail address and mobile number, "Bekreft",
 * and a link to change them at Min profil; without any, an offer to register and a way to go on
 * without.
 */
export function ConfirmPage(props: ConfirmPageProps): VNode {
  const { texts, view } = props;
  const t = texts.t.bind(texts);
  const hasChannel = view.epost !== undefined || view.mobil !== undefined;
  if (!hasChannel) {
    return (
      <Layout texts={texts} title={t('confirm.createTitle')}>
        <Heading>{t('confirm.heading')}</Heading>
        <Heading level={2}>{t('confirm.createSubheading')}</Heading>
        <Paragraph>{t('confirm.intro')}</Paragraph>
        <Paragraph>
          {`${t(view.registered ? 'confirm.noChannels' : 'confirm.notRegistered')} ${t('confirm.mayContinue')}`}
        </Paragraph>
        <Paragraph>
          <a class="ds-link" href={props.changeUrl}>
            {t(view.registered ? 'confirm.add' : 'confirm.register')}
          </a>
        </Paragraph>
        <ConfirmActions
          props={props}
          action="continue"
          label={t('confirm.continue')}
          cancel={t('confirm.cancel')}
        />
      </Layout>
    );
  }
  return (
    <Layout texts={texts} title={t('confirm.title')}>
      <Heading>{t('confirm.heading')}</Heading>
      <Heading level={2}>{t('confirm.subheading')}</Heading>
      <Paragraph>{t('confirm.intro')}</Paragraph>
      <Paragraph>{t('confirm.question')}</Paragraph>
      <dl class="idp-values ds-paragraph">
        <dt>{t('confirm.epost')}</dt>
        <dd>{view.epost ?? t('confirm.none')}</dd>
        <dt>{t('confirm.mobil')}</dt>
        <dd>{view.mobil ?? t('confirm.none')}</dd>
      </dl>
      {view.epost === undefined && <Notice>{t('confirm.missingEpost')}</Notice>}
      {view.mobil === undefined && <Notice>{t('confirm.missingMobil')}</Notice>}
      <Paragraph>
        <a class="ds-link" href={props.changeUrl}>
          {t('confirm.change')}
        </a>
      </Paragraph>
      <ConfirmActions
        props={props}
        action="confirm"
        label={t('confirm.confirm')}
        cancel={t('confirm.cancel')}
      />
    </Layout>
  );
}

/** A missing channel's note: information, not an error. */
function Notice({ children }: { readonly children: string }): VNode {
  return (
    <div class="ds-alert" data-color="warning">
      <p class="ds-paragraph">{children}</p>
    </div>
  );
}
