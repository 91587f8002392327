// The sign-in page of the ID-porten-like dev issuer: pick a test person, or type an identifier.
// Everything shown that comes from a request is escaped; the page has no script and no external
// resources, and every control has a visible label.

import type { AuthorizationRequest, ContactPromptView } from './idporten.service.js';

export interface TestPerson {
  readonly pid: string;
  readonly label: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
h1{font-size:1.5rem}fieldset{border:1px solid #888;border-radius:.5rem;margin:1rem 0;padding:1rem}
legend{font-weight:600}ul{list-style:none;padding:0}li{margin:.5rem 0}
button{font:inherit;padding:.5rem 1rem;border:2px solid #1e3a8a;border-radius:.4rem;background:#1e3a8a;color:#fff;cursor:pointer;text-align:left;width:100%}
button.secondary{background:#fff;color:#1e3a8a;width:auto}button:focus-visible,input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
input{font:inherit;padding:.4rem;border:2px solid #555;border-radius:.3rem;width:12ch}
.error{color:#a00;font-weight:600}dt{font-weight:600}dd{margin:0 0 .75rem 0}.notice{border-left:4px solid #f59e0b;padding:.25rem .75rem}.meta{color:#444;font-size:.9rem}code{font-size:.95em}`;

function page(title: string, body: string, lang = 'en'): string {
  return `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface SignInPageInput {
  readonly formAction: string;
  readonly requestId: string;
  readonly request: AuthorizationRequest;
  readonly persons: readonly TestPerson[];
  /** A problem with the typed identifier, shown beside the field. */
  readonly error?: string;
  readonly typed?: string;
}

export function renderSignInPage(input: SignInPageInput): string {
  const hidden = `<input type="hidden" name="request_id" value="${escapeHtml(input.requestId)}">`;
  const action = escapeHtml(input.formAction);
  const persons = input.persons
    .map(
      (p) =>
        `<li><button type="submit" name="pid" value="${escapeHtml(p.pid)}">${escapeHtml(p.pid)}: ${escapeHtml(p.label)}</button></li>`,
    )
    .join('\n');
  const error = input.error
    ? `<p id="pid-error" class="error" role="alert">${escapeHtml(input.error)}</p>`
    : '';
  const described = input.error ? ' aria-invalid="true" aria-describedby="pid-error"' : '';
  return page(
    'Sign in (krr test ID-porten)',
    `<h1>Sign in with a test person</h1>
<p class="meta">krr dev mode stands in for ID-porten. The client <code>${escapeHtml(input.request.clientId)}</code> asks for
<code>${escapeHtml(input.request.scopes.join(' '))}</code> at level <code>${escapeHtml(input.request.acr)}</code>.</p>
<form method="post" action="${action}">
${hidden}
<fieldset>
<legend>Demo persons</legend>
<ul>
${persons}
</ul>
</fieldset>
</form>
<form method="post" action="${action}">
${hidden}
<fieldset>
<legend>Another person</legend>
<label for="pid">Fødselsnummer or D-nummer (11 digits)</label><br>
<input id="pid" name="pid" inputmode="numeric" autocomplete="off" maxlength="11" value="${escapeHtml(input.typed ?? '')}"${described}>
${error}
<p><button type="submit" class="secondary">Sign in</button></p>
</fieldset>
</form>
<form method="post" action="${action}">
${hidden}
<input type="hidden" name="cancel" value="1">
<p><button type="submit" class="secondary">Cancel</button></p>
</form>`,
  );
}

export function renderErrorPage(message: string): string {
  return page(
    'Sign-in error (krr test ID-porten)',
    `<h1>The sign-in cannot start</h1>
<p class="error" role="alert">${escapeHtml(message)}</p>`,
  );
}

export interface ConfirmPageInput {
  readonly formAction: string;
  readonly confirmId: string;
  readonly view: ContactPromptView;
  /** Min profil, with the address this step continues at as its gotoUrl. */
  readonly changeUrl: string;
}

/**
 * The confirm step (docs/minprofil.md#confirm-prompt), in bokmål with the texts of Digdir's module
 * (difi/idporten-bekreft-kontaktinfo, locales/nb): the person's e-mail address and mobile number,
 * "Bekreft", and a link to change them at Min profil; without any, an offer to register and a way
 * to go on without.
 */
export function renderConfirmPage(input: ConfirmPageInput): string {
  const { view } = input;
  const hidden = `<input type="hidden" name="confirm_id" value="${escapeHtml(input.confirmId)}">`;
  const action = escapeHtml(input.formAction);
  const change = escapeHtml(input.changeUrl);
  const hasChannel = view.epost !== undefined || view.mobil !== undefined;
  const intro =
    '<p>Informasjonen nedenfor lagres i et felles kontaktregister som stat og kommune skal bruke når de kontakter deg.</p>';
  const cancel = `<form method="post" action="${action}">
${hidden}
<p><button type="submit" name="action" value="cancel" class="secondary">Avbryt</button></p>
</form>`;
  if (!hasChannel) {
    return page(
      'Opprett kontaktinformasjon (krr test ID-porten)',
      `<h1>Dine kontaktopplysninger</h1>
<h2>Opprett kontaktinformasjon</h2>
${intro}
<p>${view.registered ? 'Du har ikke registrert e-postadresse eller mobilnummer.' : 'Du er ikke registrert i Kontakt- og reservasjonsregisteret.'} Du kan velge å gå videre uten å legge inn kontaktopplysninger.</p>
<p><a href="${change}">${view.registered ? 'Legg inn kontaktopplysninger i Min profil' : 'Registrer deg i Min profil'}</a></p>
<form method="post" action="${action}">
${hidden}
<p><button type="submit" name="action" value="continue">Fortsett</button></p>
</form>
${cancel}`,
      'nb',
    );
  }
  const missing: string[] = [];
  if (view.epost === undefined) {
    missing.push(
      '<p class="notice">Du har ikke registrert e-postadresse. E-postadressen blir brukt som varslingsadresse når stat eller kommune skal varsle deg om at de har sendt deg viktige brev og vedtak på nett.</p>',
    );
  }
  if (view.mobil === undefined) {
    missing.push(
      '<p class="notice">Du har ikke registrert mobilnummer. Mobilnummeret blir brukt som varslingsadresse når stat eller kommune skal varsle deg om at de har sendt deg viktige brev og vedtak på nett. Dersom du har et utenlandsk nummer, husk å oppgi landskode (for eksempel +46 eller 0046 for Sverige).</p>',
    );
  }
  return page(
    'Bekreft kontaktinformasjon (krr test ID-porten)',
    `<h1>Dine kontaktopplysninger</h1>
<h2>Kontaktinformasjon</h2>
${intro}
<p>Stemmer opplysningene fortsatt?</p>
<dl>
<dt>E-post</dt><dd>${view.epost === undefined ? 'Ikke registrert' : escapeHtml(view.epost)}</dd>
<dt>Mobilnummer</dt><dd>${view.mobil === undefined ? 'Ikke registrert' : escapeHtml(view.mobil)}</dd>
</dl>
${missing.join('\n')}
<p><a href="${change}">Endre kontaktopplysningene i Min profil</a></p>
<form method="post" action="${action}">
${hidden}
<p><button type="submit" name="action" value="confirm">Bekreft</button></p>
</form>
${cancel}`,
    'nb',
  );
}
