import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnswerBufferPool } from './answer-buffers.js';

describe('AnswerBufferPool', () => {
  it('reuses a large buffer only after it is released, and only once per release', () => {
    const pool = new AnswerBufferPool(8 << 20);
    const a = pool.acquire(1_000_000);
    assert.equal(a.bytes.length, 1_000_000);
    const b = pool.acquire(1_000_000);
    assert.notEqual(a.bytes.buffer, b.bytes.buffer, 'two answers in flight never share memory');
    a.release();
    a.release(); // idempotent: the buffer is not listed twice
    assert.deepEqual(pool.stats(), { freeBuffers: 1, freeBytes: 1 << 20 });
    const c = pool.acquire(900_000);
    assert.equal(c.bytes.buffer, a.bytes.buffer, 'the released buffer carries the next answer');
    const d = pool.acquire(900_000);
    assert.notEqual(d.bytes.buffer, c.bytes.buffer);
    assert.deepEqual(pool.stats(), { freeBuffers: 0, freeBytes: 0 });
  });

  it('keeps at most maxFreeBytes idle, and leaves small answers to Node', () => {
    const pool = new AnswerBufferPool(2 << 20);
    const held = [pool.acquire(1 << 20), pool.acquire(1 << 20), pool.acquire(1 << 20)];
    for (const h of held) h.release();
    assert.deepEqual(pool.stats(), { freeBuffers: 2, freeBytes: 2 << 20 });
    const small = pool.acquire(1000);
    small.release();
    assert.deepEqual(pool.stats(), { freeBuffers: 2, freeBytes: 2 << 20 });
  });
});
