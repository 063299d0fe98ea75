import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, redactConfig } from '../../src/config/load.js';
import { safeRedisUrl } from '../../src/stores/redis.js';

describe('configuration', () => {
  it('fills defaults for a minimal file', () => {
    const res = parseConfig({ domain: 'home.example.com' }, {}, 'test');
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.config.plans.ttl).toBe(15 * 60_000);
    expect(res.config.traefik.entryPoints).toEqual({ tailscale: 'ts-secure', internet: 'websecure' });
    expect(res.config.env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(res.config.redis.prefix).toBe('labgate');
  });

  it('reports every problem at once, each with its field path', () => {
    const res = parseConfig(
      {
        domain: 'Not A Domain',
        plans: { ttl: 'soon' },
        traefik: { entryPoints: { internet: '' }, mtls: { minVersion: 'VersionTLS10' }, colour: 'blue' },
        access: { groups: { ops: ['shell:alice', 'admins'] }, defaults: { approve: ['nobody-group'] }, commands: { expose: { request: ['discord:user:abc'] } } },
        shell: { users: ['alice'], defaultUser: 'zed' },
      },
      { REDIS_URL: 'not a url', LABGATE_LOG_LEVEL: 'loud' },
      'test',
    );
    expect(res.ok).toBe(false);
    if (res.ok) return;
    const text = res.problems.join('\n');
    for (const path of [
      'env.REDIS_URL:',
      'env.LABGATE_LOG_LEVEL:',
      'domain: must be a domain name',
      'plans.ttl: must be a duration like 90s, 15m, 1h or 7d (got "soon")',
      'traefik.entryPoints.internet:',
      'traefik.mtls.minVersion:',
      'traefik: Unrecognized key: "colour"',
      'access.groups.ops[1]: groups hold principals',
      'access.defaults.approve[0]: unknown group "nobody-group"',
      'access.commands.expose.request[0]: must be a group name',
      'shell.defaultUser: must be one of shell.users (alice)',
    ])
      expect(text).toContain(path);
  });

  it('treats empty environment strings as unset', () => {
    const res = parseConfig({ domain: 'home.example.com' }, { REDIS_URL: '' }, 'test');
    expect(res.ok && res.config.env.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('redacts secrets and URL credentials when printed', () => {
    const res = parseConfig({ domain: 'home.example.com' }, { REDIS_URL: 'redis://:hunter2@redis.lan:6379' }, 'test');
    if (!res.ok) throw new Error(res.problems.join());
    const printed = JSON.stringify(redactConfig({ ...res.config, extra: { token: 'abc', password: 'pw', clientCaSecret: 'labgate-client-ca' } } as never));
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('"abc"');
    expect(printed).not.toContain('"pw"');
    expect(printed).toContain('redis://[redacted]@redis.lan:6379');
    expect(printed).toContain('labgate-client-ca');
  });

  it('redacts a password that holds a raw @ (ioredis accepts it) in printed config, messages and logs', () => {
    const url = 'redis://default:s3cr@t-pw@redis.lan:6379/2';
    expect(safeRedisUrl(url)).toBe('redis://[redacted]@redis.lan:6379/2');
    expect(safeRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(safeRedisUrl('rediss://user@redis.lan')).toBe('rediss://[redacted]@redis.lan');
    const res = parseConfig({ domain: 'home.example.com' }, { REDIS_URL: url }, 'test');
    if (!res.ok) throw new Error(res.problems.join());
    const printed = JSON.stringify(redactConfig(res.config));
    expect(printed).not.toContain('t-pw');
    expect(printed).toContain('redis://[redacted]@redis.lan:6379/2');
  });

  it('names an unreadable file and invalid YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgcfg-'));
    expect(loadConfig({}, join(dir, 'missing.yaml'))).toEqual({ ok: false, problems: [expect.stringMatching(/missing\.yaml: cannot read \(ENOENT\)/)] });
    writeFileSync(join(dir, 'bad.yaml'), 'domain: [unclosed\n');
    const bad = loadConfig({}, join(dir, 'bad.yaml'));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems[0]).toMatch(/bad\.yaml: not valid YAML/);
    expect(loadConfig({})).toEqual({ ok: false, problems: ['LABGATE_CONFIG: not set (path of labgate.yaml)'] });
  });
});

describe('configuration: what config check adds', () => {
  it('GIVEN both a cert resolver and a TLS Secret THEN that is a problem, not a silent choice', () => {
    const res = parseConfig({ domain: 'home.example.com', traefik: { tls: { certResolver: 'letsencrypt', secretName: 'wildcard-tls' } } }, {}, 'test');
    expect(res).toEqual({ ok: false, problems: ['traefik.tls: give certResolver or secretName, not both (with both, Traefik serves the Secret and never asks the resolver)'] });
  });

  it('GIVEN a misspelled access.commands key next to other problems THEN all are reported at once, the key with the nearest command', () => {
    const res = parseConfig({ domain: 'home.example.com', plans: { ttl: 'soon' }, access: { commands: { 'route lst': { request: ['*'] }, expose: { request: ['*'] } } } }, {}, 'test', { commands: ['expose', 'route list', 'route mode'] });
    expect(res.ok).toBe(false);
    expect(!res.ok && res.problems).toEqual([
      'plans.ttl: must be a duration like 90s, 15m, 1h or 7d (got "soon")',
      'access.commands.route lst: no such command; did you mean "route list"? commands: expose, route list, route mode',
    ]);
  });

  it('GIVEN durations WHEN printed THEN they read as written, and defaults in their shortest form', async () => {
    const { printableConfig } = await import('../../src/config/print.js');
    const doc = { domain: 'home.example.com', plans: { ttl: '15m' }, apply: { backoff: 900 }, openbao: { expiry: { thresholds: ['30d', '12h'] } } };
    const res = parseConfig(doc, {}, 'test');
    if (!res.ok) throw new Error(res.problems.join());
    const printed = printableConfig(res.config, res.doc) as { plans: { ttl: unknown }; apply: { backoff: unknown }; openbao: { deviceTtl: unknown; expiry: { thresholds: unknown; scanEvery: unknown } }; tailscale: { monitor: { every: unknown } } };
    expect(printed.plans.ttl).toBe('15m');
    expect(printed.apply.backoff).toBe(900);
    expect(printed.openbao.expiry.thresholds).toEqual(['30d', '12h']);
    expect(printed.openbao.expiry.scanEvery).toBe('1h');
    expect(printed.openbao.deviceTtl).toBe('365d');
    expect(printed.tailscale.monitor.every).toBe('5m');
    expect(res.config.plans.ttl).toBe(900_000);
  });
});
