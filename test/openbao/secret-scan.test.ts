import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { dropPrefix, REDIS_URL } from '../support/lab.js';
import { findingsIn, needlesFor, redisFindings } from '../support/secret-scan.js';

// The scanner must be able to fail: planted secrets, in the forms a careless change would store them, are found.
describe('the secret scanner used after every issuing test', () => {
  const prefix = `lgtest-scan-${process.pid}`;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPem = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  const bundle = randomBytes(2000);
  const passphrase = 'abcdef-ghijkm-npqrst-uvwxyz';
  const needles = needlesFor({ privateKeysPem: [keyPem], bundles: [bundle], passphrases: [passphrase] });
  afterAll(() => dropPrefix(prefix));

  it('finds a key (PKCS#8 base64 in JSON), a bundle (base64 in a BullMQ-like hash, raw in a list) and a passphrase (in a stream) in Redis', async () => {
    const r = new Redis(REDIS_URL);
    try {
      const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
      await r.set(`${prefix}:plan:p-1`, JSON.stringify({ after: { key: pkcs8 } }));
      await r.hset(`${prefix}:q:apply:1`, 'data', JSON.stringify({ p12: bundle.toString('base64') }));
      await r.rpush(`${prefix}:raw`, Buffer.concat([Buffer.from('x'), bundle]));
      await r.xadd(`${prefix}:q:events`, '*', 'returnvalue', `{"text":"${passphrase}"}`);
      await r.set(`${prefix}:clean`, 'nothing here');
    } finally {
      r.disconnect();
    }
    const { keys, findings } = await redisFindings(REDIS_URL, prefix, needles);
    expect(keys).toBe(5);
    expect(findings).toEqual(
      expect.arrayContaining([
        `${prefix}:plan:p-1 (string): private key 1 (base64)`,
        `${prefix}:q:apply:1 (hash): bundle 1 (base64)`,
        `${prefix}:raw (list): bundle 1 (raw bytes)`,
        `${prefix}:q:events (stream): passphrase 1`,
      ]),
    );
    expect(findings.some((f) => f.startsWith(`${prefix}:clean`))).toBe(false);
  });

  it('finds a PEM key or a hex bundle in log text, and nothing in clean text', () => {
    expect(findingsIn('logs', `{"msg":"oops","key":${JSON.stringify(keyPem)}}`, needles)).toContain('logs: a PEM private key header');
    expect(findingsIn('logs', `bundle=${bundle.toString('hex')}`, needles)).toContain('logs: bundle 1 (hex)');
    expect(findingsIn('logs', '{"msg":"device certificate delivered","serial":"3a:01"}', needles)).toEqual([]);
  });
});
