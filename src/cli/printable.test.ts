// What `krr` prints of its input never reaches the terminal as control characters: unit cases,
// and `krr import` of a line whose field names carry ESC, BEL and CSI sequences.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { copyEmptyEmbeddedStore } from '../../test/support/stores.js';
import { main } from './main.js';
import { printable } from './printable.js';

// Any C0 or C1 control, DEL, or a bidirectional override: what a terminal acts on.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('printable', () => {
  it('escapes control characters, bidirectional overrides and DEL; keeps other text', () => {
    assert.equal(printable('a\u001b[2Jb\u0007c'), 'a\\u{1b}[2Jb\\u{7}c');
    assert.equal(printable('x\u009b31m\u007f\u202e'), 'x\\u{9b}31m\\u{7f}\\u{202e}');
    assert.equal(printable('line\nnext\r'), 'line\\u{a}next\\u{d}');
    assert.equal(printable('Ærlig ølbrygger 😀'), 'Ærlig ølbrygger 😀');
  });
  it('cuts what is longer than asked, and says so', () => {
    assert.equal(printable('abcdef', 3), 'abc…');
    assert.equal(printable('abc', 3), 'abc');
  });
});

describe('krr import: field names with terminal escapes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'krr-printable-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function run(args: string[]): Promise<{ code: number; err: string }> {
    const out = new PassThrough();
    const err = new PassThrough();
    let errText = '';
    out.resume();
    err.on('data', (c: Buffer) => (errText += c.toString()));
    const code = await main(['node', 'krr', ...args], out, err);
    return { code, err: errText };
  }

  it('names an unknown field escaped, and a bad line with its quoted value escaped', async () => {
    const pid = makeIdentifier({ day: 1, month: 2, year: 80 });
    const file = join(dir, 'persons.jsonl');
    const evil = '\u001b[2J\u001b[H\u0007fake: all good\r';
    await writeFile(file, `${JSON.stringify({ personidentifikator: pid, status: 'AKTIV', [evil]: 1 })}\n`);
    // Empty stores copied, not made (initdb is the slow part of a new embedded store).
    await copyEmptyEmbeddedStore(join(dir, 'a'));
    await copyEmptyEmbeddedStore(join(dir, 'b'));
    const ok = await run(['import', file, '--data-dir', join(dir, 'a')]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err, /\\u\{1b\}\[2J\\u\{1b\}\[H\\u\{7\}fake: all good\\u\{d\}/);
    assert.doesNotMatch(ok.err.replace(/\n/g, ''), RAW_CONTROL);

    await writeFile(file, `${JSON.stringify({ personidentifikator: pid, status: 'AKTIV', spraak: evil })}\n`);
    const bad = await run(['import', file, '--data-dir', join(dir, 'b')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /line 1/);
    assert.doesNotMatch(bad.err.replace(/\n/g, ''), RAW_CONTROL);
  });
});
