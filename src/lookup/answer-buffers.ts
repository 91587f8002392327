// Large answers written into buffers that are used again once their response is gone. A fresh
// 1 MB buffer per bulk answer costs its allocation and a page fault per 4 KB written (profiled:
// about a sixth of a cached bulk lookup); a reused one is already mapped and warm.
//
// Safety rests on one rule: a buffer goes back only when the response that carried it is over
// (release() after the response's 'close': all of it handed to the kernel, or the connection gone).
// release() is idempotent; a buffer never released is simply left to the garbage collector.

/** Answers smaller than this come from Node's own allocator (its pool for small buffers). */
const MIN_POOLED_BYTES = 64 * 1024;

export interface AnswerBuffer {
  readonly bytes: Buffer;
  /** Gives the memory back for another answer; call once nothing reads `bytes` any more. */
  release(): void;
}

const noRelease = () => {};

/** An answer's memory from Node's allocator, never reused: release() does nothing. */
export function unpooled(size: number): AnswerBuffer {
  return { bytes: Buffer.allocUnsafe(size), release: noRelease };
}

export class AnswerBufferPool {
  /** Free buffers by size (powers of two). */
  private readonly free = new Map<number, Buffer[]>();
  private freeBytes = 0;

  /** `maxFreeBytes`: how much memory idle buffers may hold at most. */
  constructor(private readonly maxFreeBytes = 64 << 20) {}

  acquire(size: number): AnswerBuffer {
    if (size < MIN_POOLED_BYTES) return unpooled(size);
    const capacity = 2 ** Math.ceil(Math.log2(size));
    const reused = this.free.get(capacity)?.pop();
    if (reused) this.freeBytes -= capacity;
    const buffer = reused ?? Buffer.allocUnsafeSlow(capacity);
    let released = false;
    return {
      bytes: buffer.subarray(0, size),
      release: () => {
        if (released) return;
        released = true;
        if (this.freeBytes + capacity > this.maxFreeBytes) return;
        let list = this.free.get(capacity);
        if (!list) this.free.set(capacity, (list = []));
        list.push(buffer);
        this.freeBytes += capacity;
      },
    };
  }

  /** For tests. */
  stats(): { freeBuffers: number; freeBytes: number } {
    let freeBuffers = 0;
    for (const list of this.free.values()) freeBuffers += list.length;
    return { freeBuffers, freeBytes: this.freeBytes };
  }
}
