// Assembles `{"personer":[...]}` from the persons' pre-rendered byte slices (docs/lookup.md#answer):
// no JSON is built or parsed per person, only slices chosen by the view and copied once.

import { isNotifiable } from '../freshness/freshness.js';
import type { EpochMs } from '../time/oslo-time.js';
import { headEnd, kontaktEnd, middleEnd, spraakEnd } from './answer.record.js';
import type { LookupRecord } from './answer.record.js';
import { ALL_GROUPS, Group } from '../access/access.view.js';
import type { View } from '../access/access.view.js';

const OPEN = Buffer.from('{"personer":[');
const CLOSE = Buffer.from(']}');
const COMMA = Buffer.from(',');
const BRACE = Buffer.from('}');
const KAN_VARSLES = Buffer.from(',"varslingsstatus":"KAN_VARSLES"');
const KAN_IKKE_VARSLES = Buffer.from(',"varslingsstatus":"KAN_IKKE_VARSLES"');

/**
 * A person's answer as the lookup cache keeps it: `,` and the answer in the common view (both data
 * scopes) with the varslingsstatus it has before its flip, at [start, end) of a slab:
 *   `,` head status middle [`,` sertifikat] tail
 * Other views, and the answer after the flip, are cut from the same bytes (record()).
 */
export class CachedAnswer {
  constructor(
    readonly personidentifikator: string,
    readonly slab: Buffer,
    readonly start: number,
    readonly end: number,
    readonly dependsOnClock: boolean,
    readonly basis: EpochMs,
    readonly flip: EpochMs,
    readonly baseEndsAt: number,
    readonly kontaktEndsAt: number,
    readonly digitalPostEndsAt: number,
    /** Bytes of `"sertifikat":"..."`, 0 when there is none. */
    readonly certificateLength: number,
  ) {}

  /** The bytes `write` takes for `r`. */
  static byteLength(r: LookupRecord): number {
    const status = r.dependsOnClock ? KAN_VARSLES : KAN_IKKE_VARSLES;
    const certificate = r.sertifikat === null ? 0 : 1 + r.sertifikat.length;
    return (
      1 +
      r.baseEndsAt +
      status.length +
      (r.digitalPostEndsAt - r.baseEndsAt) +
      certificate +
      (r.end - r.tailAt)
    );
  }

  /** Writes `r` in this layout into `out` at `offset`; returns where it ends. */
  static write(r: LookupRecord, out: Buffer, offset: number): number {
    let o = offset;
    out[o++] = 0x2c; // the comma before the person; skipped for the answer's first
    o += r.bytes.copy(out, o, r.headAt, headEnd(r));
    o += (r.dependsOnClock ? KAN_VARSLES : KAN_IKKE_VARSLES).copy(out, o);
    o += r.bytes.copy(out, o, r.middleAt, middleEnd(r));
    if (r.sertifikat !== null) {
      out[o++] = 0x2c;
      o += r.sertifikat.copy(out, o);
    }
    return o + r.bytes.copy(out, o, r.tailAt, r.end);
  }

  /** The answer's parts as ranges of the slab, for the views that are not the common one. */
  record(): LookupRecord {
    const status = this.dependsOnClock ? KAN_VARSLES : KAN_IKKE_VARSLES;
    const headStart = this.start + 1;
    const middleStart = headStart + this.baseEndsAt + status.length;
    const middleEnd = middleStart + (this.digitalPostEndsAt - this.baseEndsAt);
    const certificateStart = middleEnd + 1;
    const tailStart = this.certificateLength === 0 ? middleEnd : certificateStart + this.certificateLength;
    return {
      personidentifikator: this.personidentifikator,
      dependsOnClock: this.dependsOnClock,
      basis: this.basis,
      flip: this.flip,
      baseEndsAt: this.baseEndsAt,
      kontaktEndsAt: this.kontaktEndsAt,
      digitalPostEndsAt: this.digitalPostEndsAt,
      bytes: this.slab,
      headAt: headStart,
      middleAt: middleStart,
      tailAt: tailStart,
      end: this.end,
      sertifikat:
        this.certificateLength === 0
          ? null
          : this.slab.subarray(certificateStart, certificateStart + this.certificateLength),
    };
  }
}

export class AnswerBuilder {
  // Parts as (buffer, start, end): ranges of slabs and slices alike, copied once by finish().
  private readonly buffers: Buffer[] = [OPEN];
  private readonly starts: number[] = [0];
  private readonly ends: number[] = [OPEN.length];
  private length = OPEN.length;
  private first = true;
  private readonly common: boolean;

  constructor(
    private readonly view: View,
    private readonly now: EpochMs,
    private readonly boundary: EpochMs,
  ) {
    this.common = view.groups === ALL_GROUPS && !view.withholdUnreachable;
  }

  private range(b: Buffer, start: number, end: number): void {
    this.buffers.push(b);
    this.starts.push(start);
    this.ends.push(end);
    this.length += end - start;
  }

  private push(b: Buffer): void {
    this.range(b, 0, b.length);
  }

  private separate(): void {
    if (this.first) this.first = false;
    else this.push(COMMA);
  }

  /** A person, from the store's record or the cache's answer. */
  add(r: LookupRecord | CachedAnswer): void {
    if (!(r instanceof CachedAnswer)) return this.person(r);
    // The cached bytes are the answer when the view is the common one and the status still holds.
    if (this.common && isNotifiable(r, this.now, this.boundary) === r.dependsOnClock) {
      if (this.first) {
        this.first = false;
        this.range(r.slab, r.start + 1, r.end);
      } else this.range(r.slab, r.start, r.end);
      return;
    }
    this.person(r.record());
  }

  person(r: LookupRecord): void {
    this.separate();
    const notifiable = isNotifiable(r, this.now, this.boundary);
    const g = this.view.groups;
    if (this.common) {
      // The common view (both data scopes, no informasjonsbehov): four or five ranges.
      this.range(r.bytes, r.headAt, headEnd(r));
      this.push(notifiable ? KAN_VARSLES : KAN_IKKE_VARSLES);
      this.range(r.bytes, r.middleAt, middleEnd(r));
      if (r.sertifikat !== null) {
        this.push(COMMA);
        this.push(r.sertifikat);
      }
      this.range(r.bytes, r.tailAt, r.end);
      return;
    }
    this.range(r.bytes, r.headAt, headEnd(r));
    if (g & Group.varslingsstatus) this.push(notifiable ? KAN_VARSLES : KAN_IKKE_VARSLES);
    if (!(this.view.withholdUnreachable && !notifiable)) {
      if (g & Group.kontaktinformasjon && r.kontaktEndsAt > r.baseEndsAt)
        this.range(r.bytes, r.middleAt, kontaktEnd(r));
      if (g & Group.digitalPost && r.digitalPostEndsAt > r.kontaktEndsAt)
        this.range(r.bytes, kontaktEnd(r), middleEnd(r));
      if (g & Group.sertifikat && r.sertifikat !== null) {
        this.push(COMMA);
        this.push(r.sertifikat);
      }
    }
    if (g & Group.spraak && spraakEnd(r) > r.tailAt) this.range(r.bytes, r.tailAt, spraakEnd(r));
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

  /** The answer's size in bytes, once every person is in. */
  get byteLength(): number {
    return this.length + CLOSE.length;
  }

  /** Writes the answer into `out`, which has room for byteLength bytes. */
  writeTo(out: Buffer): void {
    // One copy per part straight into the answer (Buffer.concat makes a view object per part).
    let offset = 0;
    const { buffers, starts, ends } = this;
    for (let i = 0; i < buffers.length; i++) offset += buffers[i]!.copy(out, offset, starts[i], ends[i]);
    CLOSE.copy(out, offset);
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.byteLength);
    this.writeTo(out);
    return out;
  }
}
