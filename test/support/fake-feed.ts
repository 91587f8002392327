// A change feed source for the sync tests: pages of docs/change-feed.md#answer served over loopback with
// node:http, its persons in the wire shape (the export line plus the feed's derived fields). Every
// change gives the person a new change id; pages hold the persons above fraEndringsId, ascending.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { syntheticPersons } from '../../src/demo/synthetic-persons.js';
import type { Person } from '../../src/person/person.js';
import { renderExportLine, renderPerson } from '../../src/answer/answer.render.js';
import type { Database } from '../../src/store/database.js';
import { exportPersons } from '../../src/transfer/export.service.js';

export const FEED_PATH = '/rest/v2/krr/hentEndringer';
export const SOURCE_TOKEN = 'source-token-for-tests';

export const NOW = Date.UTC(2025, 0, 15, 12);
export const FIRST_ID = 200_000_001;

export function persons(count: number, seed: number): Person[] {
  return [...syntheticPersons(count, { seed, now: NOW })];
}

/** A person as the feed serves it: the export line plus the feed's derived fields. */
export function wireOf(p: Person): Record<string, unknown> {
  const wire = JSON.parse(renderExportLine(renderPerson(p))) as Record<string, unknown>;
  const k = wire.kontaktinformasjon as Record<string, unknown> | undefined;
  if (k?.epostadresse) k.epostadresse_duplisert = 'NEI';
  if (k?.mobiltelefonnummer) k.mobiltelefonnummer_duplisert = 'NEI';
  if (wire.status === 'AKTIV') wire.varslingsstatus = 'KAN_VARSLES';
  return wire;
}

export function exportLines(list: Iterable<Person>): string {
  const lines = [...list]
    .sort((a, b) => a.personidentifikator.localeCompare(b.personidentifikator))
    .map((p) => renderExportLine(renderPerson(p)));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export async function exportOf(db: Database): Promise<string> {
  let out = '';
  for await (const chunk of exportPersons(db)) out += chunk;
  return out;
}

/** The source: every change gives the person a new id; pages hold the persons above fraEndringsId. */
export class FakeFeed {
  server!: Server;
  url = '';
  pageSize = 3;
  private nextId = FIRST_ID;
  private entries = new Map<string, { id: number; wire: unknown }>();
  /** The source's register as the export should show it. */
  readonly register = new Map<string, Person>();
  /** fraEndringsId of every page request that got a page. */
  requests: number[] = [];
  refuse: { status: number; detail: string } | undefined;
  /** Answer this many requests with 503 first. */
  failNext = 0;
  /** Wait this long before answering a page (a slow source, for stopping mid-run). */
  delayMs = 0;

  /** `token`: the bearer token the source accepts. */
  constructor(readonly token: string = SOURCE_TOKEN) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  put(list: readonly Person[]): void {
    for (const p of list) {
      this.register.set(p.personidentifikator, p);
      this.entries.set(p.personidentifikator, { id: this.nextId++, wire: wireOf(p) });
    }
  }

  /** Serves `wire` for the person as its latest change (a bad person, or a quirky shape). */
  putWire(identifier: string, wire: unknown): void {
    this.entries.set(identifier, { id: this.nextId++, wire });
  }

  /** The source was reset: its ids start again and it holds only `list`. */
  restartWith(list: readonly Person[]): void {
    this.entries.clear();
    this.register.clear();
    this.nextId = FIRST_ID;
    this.put(list);
  }

  get siste(): number {
    return this.nextId - 1;
  }

  idOf(identifier: string): number {
    return this.entries.get(identifier)!.id;
  }

  expectedExport(): string {
    return exportLines(this.register.values());
  }

  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private contractError(
    res: ServerResponse,
    status: number,
    detail: string,
    headers: Record<string, string> = {},
  ) {
    this.send(
      res,
      status,
      { errors: [{ id: randomUUID(), status: String(status), title: 'Refused', detail }] },
      headers,
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    if (req.url !== FEED_PATH) return this.contractError(res, 404, 'no such path');
    if (req.method !== 'POST') return this.contractError(res, 405, 'POST only');
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return this.contractError(res, 401, 'the access token is missing or invalid', {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    }
    if (this.refuse) {
      return this.contractError(res, this.refuse.status, this.refuse.detail, {
        'www-authenticate': 'Bearer error="insufficient_scope"',
      });
    }
    if (this.failNext > 0) {
      this.failNext--;
      return this.contractError(res, 503, 'the store cannot be reached');
    }
    if (!String(req.headers['content-type']).startsWith('application/json')) {
      return this.contractError(res, 415, 'JSON only');
    }
    const body = JSON.parse(text) as { fraEndringsId?: unknown };
    if (typeof body.fraEndringsId !== 'number')
      return this.contractError(res, 400, 'fraEndringsId is required');
    const fra = body.fraEndringsId;
    this.requests.push(fra);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const page = [...this.entries.values()]
      .filter((e) => e.id > fra)
      .sort((a, b) => a.id - b.id)
      .slice(0, this.pageSize);
    this.send(res, 200, {
      list: page.map((e) => e.wire),
      fraEndringsId: fra,
      tilEndringsId: page.length ? page[page.length - 1]!.id : this.siste,
      sisteEndringsId: this.siste,
    });
  }
}
