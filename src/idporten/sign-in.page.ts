// The sign-in page of the ID-porten-like dev issuer: pick a test person, or type an identifier.
// Everything shown that comes from a request is escaped; the page has no script and no external
// resources, and every control has a visible label.

import type { AuthorizationRequest } from './idporten.service.js';

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
.error{color:#a00;font-weight:600}.meta{color:#444;font-size:.9rem}code{font-size:.95em}`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
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
