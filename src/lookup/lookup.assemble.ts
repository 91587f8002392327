// Assembles `{"personer":[...]}` from the persons' pre-rendered byte slices (contract section 2):
// no JSON is built or parsed per person, only slices chosen by the view and copied once.

import type { EpochMs } from '../time/oslo-time.js';
import { digitalPostOf, kontaktOf, spraakOf } from './lookup.record.js';
import type { LookupRecord } from './lookup.record.js';
import { ALL_GROUPS, Group } from './lookup.view.js';
import type { View } from './lookup.view.js';

const OPEN = Buffer.from('{"personer":[');
const CLOSE = Buffer.from(']}');
const COMMA = Buffer.from(',');
const BRACE = Buffer.from('}');
const KAN_VARSLES = Buffer.from(',"varslingsstatus":"KAN_VARSLES"');
const KAN_IKKE_VARSLES = Buffer.from(',"varslingsstatus":"KAN_IKKE_VARSLES"');

/**
 * KAN_VARSLES when the record's latest confirmation is at or after the boundary. Before the flip
 * instant it is, without asking the boundary; after it the boundary decides (it can step back for
 * a few hours at a clamped month end, see varslingFlip).
 */
export function isNotifiable(r: LookupRecord, now: EpochMs, boundary: EpochMs): boolean {
  return r.dependsOnClock && (now < r.flip || r.basis >= boundary);
}

export class AnswerBuilder {
  private readonly parts: Buffer[] = [OPEN];
  private length = OPEN.length;
  private first = true;

  constructor(
    private readonly view: View,
    private readonly now: EpochMs,
    private readonly boundary: EpochMs,
  ) {}

  private push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }

  private separate(): void {
    if (this.first) this.first = false;
    else this.push(COMMA);
  }

  person(r: LookupRecord): void {
    this.separate();
    const notifiable = isNotifiable(r, this.now, this.boundary);
    const g = this.view.groups;
    if (g === ALL_GROUPS && !this.view.withholdUnreachable) {
      // The common view (both data scopes, no informasjonsbehov): four or five slices.
      this.push(r.head);
      this.push(notifiable ? KAN_VARSLES : KAN_IKKE_VARSLES);
      this.push(r.middle);
      if (r.sertifikat !== null) {
        this.push(COMMA);
        this.push(r.sertifikat);
      }
      this.push(r.tail);
      return;
    }
    this.push(r.head);
    if (g & Group.varslingsstatus) this.push(notifiable ? KAN_VARSLES : KAN_IKKE_VARSLES);
    if (!(this.view.withholdUnreachable && !notifiable)) {
      if (g & Group.kontaktinformasjon && r.b > r.a) this.push(kontaktOf(r));
      if (g & Group.digitalPost && r.c > r.b) this.push(digitalPostOf(r));
      if (g & Group.sertifikat && r.sertifikat !== null) {
        this.push(COMMA);
        this.push(r.sertifikat);
      }
    }
    if (g & Group.spraak && r.body.length - 1 > r.c) this.push(spraakOf(r));
    this.push(BRACE);
  }

  /** An identifier with no record (already validated as 11 digits). */
  unregistered(personidentifikator: string): void {
    this.separate();
    this.push(
      Buffer.from(
        this.view.groups & Group.varslingsstatus
          ? `{"personidentifikator":"${personidentifikator}","status":"IKKE_REGISTRERT","varslingsstatus":"KAN_IKKE_VARSLES"}`
          : `{"personidentifikator":"${personidentifikator}","status":"IKKE_REGISTRERT"}`,
        'latin1',
      ),
    );
  }

  finish(): Buffer {
    this.push(CLOSE);
    // One copy per part straight into the answer (Buffer.concat makes a view object per part).
    const out = Buffer.allocUnsafe(this.length);
    let offset = 0;
    for (const part of this.parts) {
      part.copy(out, offset);
      offset += part.length;
    }
    return out;
  }
}
