import { describe, expect, it } from 'vitest';
import { generatePassphrase } from '../../src/pki/passphrase.js';

// Lower case without l, digits without 0 and 1: four dash-separated groups of six.
const SHAPE = /^[a-km-z2-9]{6}(-[a-km-z2-9]{6}){3}$/;
const SYMBOLS = 'abcdefghijkmnopqrstuvwxyz23456789';

describe('generatePassphrase', () => {
  it('gives 24 characters in four dash-separated groups of six', () => {
    for (let i = 0; i < 500; i++) {
      const passphrase = generatePassphrase();
      expect(passphrase).toMatch(SHAPE);
      expect(passphrase.replaceAll('-', '')).toHaveLength(24);
    }
  });

  it('never uses characters that read alike (0, O, 1, l, I) or need a shift key', () => {
    const all = Array.from({ length: 500 }, generatePassphrase).join('');
    expect(all).not.toMatch(/[0O1lI]/);
    expect(all).not.toMatch(/[A-Z]/);
  });

  it('draws every symbol of the alphabet, none far more often than the others', () => {
    const counts = new Map<string, number>();
    const draws = 2000;
    for (let i = 0; i < draws; i++) {
      for (const c of generatePassphrase().replaceAll('-', '')) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe([...SYMBOLS].sort().join(''));
    const expected = (draws * 24) / SYMBOLS.length;
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(expected * 0.7);
      expect(count).toBeLessThan(expected * 1.3);
    }
  });

  it('never repeats over 10,000 draws', () => {
    const seen = new Set(Array.from({ length: 10_000 }, generatePassphrase));
    expect(seen.size).toBe(10_000);
  });
});
