// Min profil's own few style rules, beside Designsystemet's (served as /minprofil/assets/minprofil.css:
// kept in a module so that the build, which compiles TypeScript only, carries it into dist/).

export const MINPROFIL_CSS = `body{margin:0;font-family:Inter,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--ds-color-neutral-background-default);color:var(--ds-color-neutral-text-default)}
.mp-header{border-bottom:1px solid var(--ds-color-neutral-border-subtle);background:var(--ds-color-neutral-background-tinted)}
.mp-header-inner{max-width:60rem;margin:0 auto;padding:var(--ds-size-3) var(--ds-size-4);display:flex;flex-wrap:wrap;gap:var(--ds-size-4);align-items:center;justify-content:space-between}
.mp-brand{display:flex;flex-direction:column;color:inherit;text-decoration:none;font-weight:600;font-size:1.25rem}
.mp-brand-sub{font-weight:400;font-size:.875rem}
.mp-locales ul{display:flex;gap:var(--ds-size-3);list-style:none;margin:0;padding:0}
.mp-locales a[aria-current]{font-weight:600}
.mp-logout{margin:0}
.mp-main{max-width:60rem;margin:0 auto;padding:var(--ds-size-6) var(--ds-size-4);display:flex;flex-direction:column;gap:var(--ds-size-4)}
.mp-main:focus{outline:none}
.mp-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:var(--ds-size-4)}
.mp-card{padding:var(--ds-size-4)}
.mp-value{font-weight:600;overflow-wrap:anywhere}
.mp-meta{margin:0;padding-left:1.25rem}
.mp-section{display:flex;flex-direction:column;gap:var(--ds-size-2)}
.mp-pager{display:flex;gap:var(--ds-size-4)}
.mp-message{white-space:pre-wrap;overflow-wrap:anywhere}
form{display:flex;flex-direction:column;gap:var(--ds-size-4);align-items:flex-start}
.mp-header form{flex-direction:row}
`;
