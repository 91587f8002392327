// A remote server's answer is read up to a ceiling, never whole whatever its size: a source (or
// something posing as one) that sends an endless body must stop the sync with a clear error, not
// fill this process's memory.

/** A feed page is at most 1000 persons of a few kB each; far above any real page. */
export const FEED_PAGE_MAX_BYTES = 32 * 1024 * 1024;
/** Token and metadata answers are a few hundred bytes. */
export const SMALL_ANSWER_MAX_BYTES = 1024 * 1024;

export class AnswerTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the answer is larger than ${maxBytes} bytes`);
  }
}

/** The body as UTF-8 text, at most `maxBytes` of it; beyond that the body is cancelled. */
export async function readBodyBounded(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new AnswerTooLargeError(maxBytes);
  }
  if (!res.body) return '';
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
      await reader.cancel();
      throw new AnswerTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, length).toString('utf8');
}
