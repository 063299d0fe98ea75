import { describe, expect, it } from 'vitest';
import { describeProfile, pkcs12ProfileSchema } from '../../src/pki/pkcs12-profile.js';

describe('PKCS#12 profiles', () => {
  it('accepts exactly android-legacy and modern', () => {
    expect(pkcs12ProfileSchema.parse('android-legacy')).toBe('android-legacy');
    expect(pkcs12ProfileSchema.parse('modern')).toBe('modern');
    expect(pkcs12ProfileSchema.safeParse('legacy').success).toBe(false);
    expect(pkcs12ProfileSchema.safeParse('').success).toBe(false);
  });

  it('describes each profile in one line that names its ciphers and the phones it suits', () => {
    const legacy = describeProfile('android-legacy');
    const modern = describeProfile('modern');
    for (const line of [legacy, modern]) {
      expect(line).not.toContain('\n');
      expect(line).toMatch(/Android/);
    }
    expect(legacy).toMatch(/3DES/);
    expect(modern).toMatch(/AES-256/);
  });
});
