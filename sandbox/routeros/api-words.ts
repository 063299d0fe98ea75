/**
 * The RouterOS API's framing: length-prefixed words, sentences ended by a zero-length
 * word. Bytes are mapped 1:1 to string code units (latin1) because the protocol does not
 * define a character set and RouterOS stores bytes as given.
 */

/** Words larger than this close the connection; a sandbox has no use for 256 MiB words. */
export const MAX_WORD_LENGTH = 64 * 1024 * 1024;

/** The length prefix for a word of `length` bytes, in the shortest of the five encodings. */
export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new RangeError(`RouterOS word length out of range: ${length}`);
  }
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) return Buffer.from([(length >> 8) | 0x80, length & 0xff]);
  if (length < 0x200000) return Buffer.from([(length >> 16) | 0xc0, (length >> 8) & 0xff, length & 0xff]);
  if (length < 0x10000000) {
    return Buffer.from([((length >>> 24) & 0xff) | 0xe0, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
  }
  return Buffer.from([0xf0, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
}

/** One word with its length prefix. */
export function encodeWord(word: string): Buffer {
  const bytes = Buffer.from(word, 'latin1');
  return Buffer.concat([encodeLength(bytes.length), bytes]);
}

/** A whole sentence: its words, then the zero-length terminator. */
export function encodeSentence(words: readonly string[]): Buffer {
  return Buffer.concat([...words.map(encodeWord), Buffer.from([0])]);
}

/** How many bytes the prefix starting with `first` takes, or 0 for a reserved control byte. */
function prefixSize(first: number): number {
  if (first < 0x80) return 1;
  if (first < 0xc0) return 2;
  if (first < 0xe0) return 3;
  if (first < 0xf0) return 4;
  if (first === 0xf0) return 5;
  return 0;
}

export class RouterOsProtocolError extends Error {}

/**
 * Incremental decoder: feed it bytes as they arrive (any chunking), get whole sentences.
 * Accepts non-minimal length encodings, like the router does.
 */
export class SentenceDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private words: string[] = [];

  /** Adds bytes; returns every sentence they complete. Throws on a malformed stream. */
  push(chunk: Buffer): string[][] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const sentences: string[][] = [];
    let offset = 0;
    for (;;) {
      if (offset >= this.buffer.length) break;
      const first = this.buffer[offset]!;
      const size = prefixSize(first);
      if (size === 0) throw new RouterOsProtocolError(`reserved control byte 0x${first.toString(16)}`);
      if (offset + size > this.buffer.length) break;
      let length: number;
      const b = this.buffer;
      switch (size) {
        case 1:
          length = first;
          break;
        case 2:
          length = ((first & 0x3f) << 8) | b[offset + 1]!;
          break;
        case 3:
          length = ((first & 0x1f) << 16) | (b[offset + 1]! << 8) | b[offset + 2]!;
          break;
        case 4:
          length = (first & 0x0f) * 0x1000000 + ((b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!);
          break;
        default:
          length = b.readUInt32BE(offset + 1);
      }
      if (length > MAX_WORD_LENGTH) throw new RouterOsProtocolError(`word of ${length} bytes is too long`);
      if (offset + size + length > this.buffer.length) break;
      const start = offset + size;
      offset = start + length;
      if (length === 0) {
        sentences.push(this.words);
        this.words = [];
      } else {
        this.words.push(this.buffer.toString('latin1', start, start + length));
      }
    }
    this.buffer = this.buffer.subarray(offset);
    return sentences;
  }
}
