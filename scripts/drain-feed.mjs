#!/usr/bin/env node
// Drains a register's change feed from 0 and prints persons/s: a quick measurement until the
// benchmark suite exists. Usage:
//   node scripts/drain-feed.mjs http://127.0.0.1:8080 "$(npx krr token --scope 'krr:global/hentendring.read krr:global/kontaktinformasjon.read krr:global/digitalpost.read' | tail -n 1)"
const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error('usage: node scripts/drain-feed.mjs BASE_URL TOKEN');
  process.exit(2);
}
const url = `${base.replace(/\/+$/, '')}/rest/v2/krr/hentEndringer`;
let fra = 0;
let persons = 0;
let pages = 0;
const started = performance.now();
for (;;) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ fraEndringsId: fra }),
  });
  if (!res.ok) {
    console.error(`the feed answered ${res.status}`);
    process.exit(1);
  }
  const page = /** @type {{ list: unknown[]; tilEndringsId: number; sisteEndringsId: number }} */ (
    await res.json()
  );
  persons += page.list.length;
  pages++;
  if (page.tilEndringsId === page.sisteEndringsId) break;
  fra = page.tilEndringsId;
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `drained ${persons} persons in ${pages} pages, ${seconds.toFixed(1)} s: ${Math.round(persons / seconds)} persons/s`,
);
