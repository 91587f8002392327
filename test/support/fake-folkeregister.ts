// Folkeregisteret for the tests, served over loopback with node:http in the shape Skatteetaten publishes
// (docs/folkeregister.md#the-event-list): `GET /folkeregisteret/offentlig-med-hjemmel/api/v1/hendelser/feed?seq=N`
// answers a JSON array of the events from sequence number N on (a page of `pageSize`), each
// `{"sekvensnummer", "hendelse": {"folkeregisteridentifikator", "hendelsestype", "hendelsesdokument",
// "persondokument", "ajourholdstidspunkt"}}`; `GET .../personer/<identifier>?part=...` answers the person's
// document (its `identifikasjonsnummer` and `doedsfall`), 404 for a person it does not know. Both need the
// bearer token; errors are `{"kode", "melding"}`.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export const FREG_TOKEN = 'folkeregister-token-for-tests';
const ROOT = '/folkeregisteret/offentlig-med-hjemmel/api/v1';

interface FakePerson {
  ids: { foedselsEllerDNummer: string; status: 'iBruk' | 'opphoert'; identifikatortype: string }[];
  dead: boolean;
}

export class FakeFolkeregister {
  server!: Server;
  url = '';
  pageSize = 3;
  /** The events, in order; `raw` ones are served as given (bad events). */
  private events: unknown[] = [];
  private nextSeq = 1;
  private persons: FakePerson[] = [];
  /** `seq` of every feed request answered. */
  requests: number[] = [];
  personRequests = 0;
  /** After this many feed answers, wait `delayMs` before each further one (a slow source, for kills). */
  slowAfter = Infinity;
  delayMs = 0;
  failNext = 0;
  /** After this many feed answers, further feed requests wait until release() (a source that hangs, for kills). */
  holdAfter = Infinity;
  private held: (() => void)[] = [];

  constructor(readonly token: string = FREG_TOKEN) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Answers the held requests, and holds no more. */
  release(): void {
    this.holdAfter = Infinity;
    for (const go of this.held.splice(0)) go();
  }

  reset(): void {
    this.release();
    this.events = [];
    this.persons = [];
    this.nextSeq = 1;
    this.requests = [];
    this.personRequests = 0;
    this.slowAfter = Infinity;
    this.delayMs = 0;
    this.failNext = 0;
    this.pageSize = 3;
  }

  get lastSequence(): number {
    return this.nextSeq - 1;
  }

  private personOf(identifier: string): FakePerson {
    let p = this.persons.find((x) => x.ids.some((i) => i.foedselsEllerDNummer === identifier));
    if (!p) {
      p = {
        ids: [{ foedselsEllerDNummer: identifier, status: 'iBruk', identifikatortype: kind(identifier) }],
        dead: false,
      };
      this.persons.push(p);
    }
    return p;
  }

  private push(identifier: string, hendelsestype: string): number {
    const seq = this.nextSeq++;
    this.events.push({
      sekvensnummer: seq,
      hendelse: {
        folkeregisteridentifikator: identifier,
        hendelsestype,
        hendelsesdokument: randomUUID(),
        persondokument: randomUUID(),
        ajourholdstidspunkt: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
      },
    });
    return seq;
  }

  /** The person dies: a `doedsfall` event on their identifier. */
  /** The person dies: an event of `hendelsestype` (the register's own names vary: docs/folkeregister.md#event-types). */
  death(identifier: string, hendelsestype = 'doedsfall'): number {
    this.personOf(identifier).dead = true;
    return this.push(identifier, hendelsestype);
  }

  /** The person gets `next` as their identifier (`old` opphoert): an event on the new one. */
  newIdentifier(old: string, next: string): number {
    const p = this.personOf(old);
    for (const i of p.ids) i.status = 'opphoert';
    p.ids.unshift({ foedselsEllerDNummer: next, status: 'iBruk', identifikatortype: kind(next) });
    return this.push(next, 'endringIIdentifikasjonsnummer');
  }

  /** Any other event (utflytting, flytting, ...): changes nothing here. */
  other(identifier: string, hendelsestype: string): number {
    this.personOf(identifier);
    return this.push(identifier, hendelsestype);
  }

  /** An event served exactly as given (a bad one); its sequence number is the next. */
  raw(make: (seq: number) => unknown): number {
    const seq = this.nextSeq++;
    this.events.push(make(seq));
    return seq;
  }

  /** Replaces the event at `seq` (the source fixed it). */
  replace(seq: number, event: unknown): void {
    const i = this.events.findIndex((e) => (e as { sekvensnummer?: unknown }).sekvensnummer === seq);
    this.events[i] = event;
  }

  /** An event in the published shape, for replace(). */
  eventFor(seq: number, identifier: string, hendelsestype: string): unknown {
    this.personOf(identifier);
    return {
      sekvensnummer: seq,
      hendelse: { folkeregisteridentifikator: identifier, hendelsestype, persondokument: randomUUID() },
    };
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for await (const chunk of req) void chunk;
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET') return this.send(res, 405, { kode: 'FREG-405', melding: 'GET only' });
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return this.send(res, 401, { kode: 'FREG-401', melding: 'Autentiseringsinformasjon mangler' });
    }
    if (this.failNext > 0) {
      this.failNext--;
      return this.send(res, 500, {
        kode: 'FREG-001',
        melding: 'Feil i tjenesten. Vennligst prøv igjen seinere.',
      });
    }
    if (url.pathname === `${ROOT}/hendelser/feed`) {
      const seq = Number(url.searchParams.get('seq') ?? '1');
      this.requests.push(seq);
      if (this.requests.length > this.holdAfter) {
        await new Promise<void>((resolve) => this.held.push(resolve));
      }
      if (this.requests.length > this.slowAfter && this.delayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      }
      const page = this.events
        .filter((e) => Number((e as { sekvensnummer?: unknown }).sekvensnummer ?? Infinity) >= seq)
        .slice(0, this.pageSize);
      return this.send(res, 200, page);
    }
    const person = url.pathname.startsWith(`${ROOT}/personer/`)
      ? decodeURIComponent(url.pathname.slice(`${ROOT}/personer/`.length))
      : undefined;
    if (person !== undefined) {
      this.personRequests++;
      const p = this.persons.find((x) => x.ids.some((i) => i.foedselsEllerDNummer === person));
      if (!p) return this.send(res, 404, { kode: 'FREG-404', melding: 'Fant ikke person' });
      return this.send(res, 200, {
        identifikasjonsnummer: p.ids.map((i) => ({ ...i, erGjeldende: i.status === 'iBruk' })),
        doedsfall: p.dead ? [{ doedsdato: '2026-01-01', erGjeldende: true }] : [],
      });
    }
    return this.send(res, 404, { kode: 'FREG-404', melding: 'Feil uri brukt.' });
  }
}

function kind(identifier: string): string {
  return Number(identifier[0]) >= 4 ? 'dNummer' : 'foedselsnummer';
}
