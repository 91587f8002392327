// The dev ID-porten's own few style rules, beside Designsystemet's (served as
// /idporten/assets/idporten.css: kept in a module so that the build, which compiles TypeScript
// only, carries it into dist/).

export const IDPORTEN_CSS = `body{margin:0;font-family:Inter,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--ds-color-neutral-background-default);color:var(--ds-color-neutral-text-default)}
.idp-header{border-bottom:1px solid var(--ds-color-neutral-border-subtle);background:var(--ds-color-neutral-background-tinted)}
.idp-header-inner{max-width:40rem;margin:0 auto;padding:var(--ds-size-3) var(--ds-size-4);display:flex;flex-wrap:wrap;gap:var(--ds-size-3);align-items:center}
.idp-brand{font-weight:600;font-size:1.25rem}
.idp-main{max-width:40rem;margin:0 auto;padding:var(--ds-size-6) var(--ds-size-4);display:flex;flex-direction:column;gap:var(--ds-size-5)}
.idp-main:focus{outline:none}
.idp-request{display:grid;grid-template-columns:max-content 1fr;gap:var(--ds-size-1) var(--ds-size-3);margin:0}
.idp-request dt{font-weight:600}
.idp-request dd{margin:0;overflow-wrap:anywhere}
.idp-persons{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:var(--ds-size-2)}
.idp-persons .ds-button{width:100%;justify-content:flex-start;text-align:start}
.idp-values{margin:0}
.idp-values dt{font-weight:600}
.idp-values dd{margin:0 0 var(--ds-size-3) 0;overflow-wrap:anywhere}
.idp-actions{display:flex;flex-wrap:wrap;gap:var(--ds-size-3)}
form{display:flex;flex-direction:column;gap:var(--ds-size-4);align-items:flex-start;margin:0}
.idp-persons-form{align-items:stretch}
.idp-persons-form .ds-fieldset{width:100%}
`;
