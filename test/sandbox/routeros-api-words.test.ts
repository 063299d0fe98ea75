import { describe, expect, it } from 'vitest';
import { encodeLength, encodeSentence, encodeWord, SentenceDecoder } from '../../sandbox/routeros/api-words.js';
import { compileQuery } from '../../sandbox/routeros/print-query.js';

const hex = (b: Buffer) => b.toString('hex');

describe('RouterOS API word framing', () => {
  it('encodes each length in the shortest of the five prefix forms', () => {
    expect(hex(encodeLength(0))).toBe('00');
    expect(hex(encodeLength(0x7f))).toBe('7f');
    expect(hex(encodeLength(0x80))).toBe('8080');
    expect(hex(encodeLength(200))).toBe('80c8');
    expect(hex(encodeLength(0x3fff))).toBe('bfff');
    expect(hex(encodeLength(0x4000))).toBe('c04000');
    expect(hex(encodeLength(0x1fffff))).toBe('dfffff');
    expect(hex(encodeLength(0x200000))).toBe('e0200000');
    expect(hex(encodeLength(0xfffffff))).toBe('efffffff');
    expect(hex(encodeLength(0x10000000))).toBe('f010000000');
  });

  it('matches the byte-level example sentence of the reference', () => {
    const bytes = encodeSentence(['/ip/firewall/nat/print', '?comment=bot:svc-a', '.tag=7']);
    expect(bytes.length).toBe(50);
    expect(hex(bytes)).toBe(
      '16' + hex(Buffer.from('/ip/firewall/nat/print')) + '12' + hex(Buffer.from('?comment=bot:svc-a')) + '06' + hex(Buffer.from('.tag=7')) + '00',
    );
  });

  it('decodes sentences fed one byte at a time, with words of every prefix size up to four bytes', () => {
    const words = ['/x', 'a'.repeat(0x7f), 'b'.repeat(0x80), 'c'.repeat(0x4000), 'd'.repeat(0x200000)];
    const bytes = Buffer.concat([encodeSentence(words), encodeSentence(['!done'])]);
    const decoder = new SentenceDecoder();
    const got: string[][] = [];
    // Byte-wise for the first kilobyte (split prefixes), then big chunks.
    for (let i = 0; i < 1024; i++) got.push(...decoder.push(bytes.subarray(i, i + 1)));
    for (let i = 1024; i < bytes.length; i += 65536) got.push(...decoder.push(bytes.subarray(i, i + 65536)));
    expect(got.length).toBe(2);
    expect(got[0]!.map((w) => w.length)).toEqual(words.map((w) => w.length));
    expect(got[0]![4]).toBe(words[4]);
    expect(got[1]).toEqual(['!done']);
  });

  it('decodes the five-byte prefix (and other non-minimal prefixes) the way a router accepts them', () => {
    const word = Buffer.from('/login');
    const five = Buffer.concat([Buffer.from([0xf0, 0, 0, 0, word.length]), word, Buffer.from([0])]);
    const four = Buffer.concat([Buffer.from([0xe0, 0, 0, word.length]), word, Buffer.from([0])]);
    const decoder = new SentenceDecoder();
    expect(decoder.push(Buffer.concat([five, four]))).toEqual([['/login'], ['/login']]);
  });

  it('rejects the reserved control bytes', () => {
    expect(() => new SentenceDecoder().push(Buffer.from([0xf8, 1, 2]))).toThrow(/control byte/);
  });

  it('keeps bytes 0x80-0xFF as given (latin1 round trip)', () => {
    const word = 'caf\u00e9 \u00ff';
    expect(new SentenceDecoder().push(Buffer.concat([encodeWord(word), Buffer.from([0])]))).toEqual([[word]]);
  });
});

describe('print query stack machine', () => {
  const items: Record<string, string>[] = [
    { '.id': '*1', 'dst-port': '80', protocol: 'tcp', comment: 'web-http', disabled: 'false' },
    { '.id': '*2', 'dst-port': '443', protocol: 'tcp', comment: 'web-https', disabled: 'true' },
    { '.id': '*A', 'dst-port': '41621', protocol: 'udp', disabled: 'false' },
  ];
  const ids = (words: string[]) => items.filter(compileQuery(words)).map((i) => i['.id']!);

  it('selects everything when there is no query', () => {
    expect(ids([])).toEqual(['*1', '*2', '*A']);
  });
  it('tests presence, absence and equality in both spellings', () => {
    expect(ids(['?comment'])).toEqual(['*1', '*2']);
    expect(ids(['?-comment'])).toEqual(['*A']);
    expect(ids(['?protocol=udp'])).toEqual(['*A']);
    expect(ids(['?=protocol=udp'])).toEqual(['*A']);
  });
  it('compares booleans by value, so ?disabled=no matches disabled=false', () => {
    expect(ids(['?disabled=no'])).toEqual(['*1', '*A']);
  });
  it('orders numbers and ids by value, not as text', () => {
    expect(ids(['?>dst-port=100'])).toEqual(['*2', '*A']);
    expect(ids(['?<.id=*3'])).toEqual(['*1', '*2']);
  });
  it('runs ?# operations: OR, AND, NOT, dup and index copy, then ANDs what is left', () => {
    expect(ids(['?dst-port=80', '?dst-port=443', '?#|'])).toEqual(['*1', '*2']);
    expect(ids(['?protocol=tcp', '?#!'])).toEqual(['*A']);
    expect(ids(['?protocol=tcp', '?disabled=true', '?#&!'])).toEqual(['*1', '*A']);
    expect(ids(['?protocol=tcp', '?#.!|'])).toEqual(['*1', '*2', '*A']);
    // Stack [tcp, disabled]; '0' copies the bottom value, then two ANDs.
    expect(ids(['?protocol=tcp', '?disabled=false', '?#0&&'])).toEqual(['*1']);
    // Remaining values are ANDed.
    expect(ids(['?protocol=tcp', '?comment=web-https'])).toEqual(['*2']);
  });
  it('refuses operations on an empty stack', () => {
    expect(() => compileQuery(['?#|'])).toThrow(/stack/);
  });
});
