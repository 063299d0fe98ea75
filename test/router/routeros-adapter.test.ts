import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/errors.js';
import { routerFromEnv, RouterOsClientAdapter } from '../../src/router/routeros-client-adapter.js';
import { FaultInjector } from '../../sandbox/faults.js';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { startRouterOsSandbox, type RouterOsSandbox } from '../../sandbox/routeros/routeros-sandbox.js';
import { seedRouterState, type RouterState } from '../../sandbox/routeros/router-state.js';

const homelab = defaultHomelab();

describe('RouterOS adapter (routeros-client) against the sandbox router', () => {
  let state: RouterState;
  let faults: FaultInjector;
  let sandbox: RouterOsSandbox;
  const adapters: RouterOsClientAdapter[] = [];

  const adapter = (extra: Partial<ConstructorParameters<typeof RouterOsClientAdapter>[0]> = {}) => {
    const a = new RouterOsClientAdapter({ host: sandbox.host, port: sandbox.port, user: sandbox.user, password: sandbox.password, timeoutMs: 1500, backoffMs: 20, ...extra });
    adapters.push(a);
    return a;
  };

  beforeAll(async () => {
    state = seedRouterState(homelab);
    faults = new FaultInjector();
    sandbox = await startRouterOsSandbox({ state, faults, tls: true });
  });
  afterEach(async () => {
    faults.clear();
    await Promise.all(adapters.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('reads the dstnat chain with every value as the router printed it (strings, dashed names)', async () => {
    const rules = await adapter().dstNatRules();
    expect(rules.map((r) => r.fields.comment)).toEqual(['web-https', 'web-http', 'labgate:tailscale:node-21', 'labgate:tailscale:node-22']);
    const node21 = rules[2]!;
    expect(node21.id).toMatch(/^\*[0-9A-F]+$/);
    expect(node21.fields).toMatchObject({ chain: 'dstnat', 'dst-port': '41621', 'to-ports': '41621', 'to-addresses': '192.168.10.21', disabled: 'false', bytes: '0' });
    expect(typeof node21.fields['dst-port']).toBe('string');
  });

  it('GIVEN RouterOS 7.18 answers an empty print with !empty THEN the print resolves to [] and the connection keeps working', async () => {
    const a = adapter();
    expect(await a.natRulesByComment('labgate:tailscale:node-23')).toEqual([]);
    expect(await a.natRulesByComment('labgate:tailscale:node-22')).toHaveLength(1);
    expect(sandbox.connections).toBe(1);
  });

  it('GIVEN an older RouterOS (7.17, no !empty) THEN an empty print resolves to [] too', async () => {
    const old = await startRouterOsSandbox({ state: seedRouterState(homelab, { version: '7.17' }) });
    try {
      const a = new RouterOsClientAdapter({ host: old.host, port: old.port, user: old.user, password: old.password, timeoutMs: 1500 });
      adapters.push(a);
      expect(await a.natRulesByComment('nothing')).toEqual([]);
    } finally {
      await old.close();
    }
  });

  it('adds, sets, unsets and removes a rule; values go out exactly as given (no number or boolean guessing)', async () => {
    const a = adapter();
    const id = await a.addNatRule({ chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-port': '41630', 'to-addresses': '192.168.10.30', 'to-ports': '41630', comment: '007', disabled: 'no', 'dst-address': '203.0.113.45' });
    expect(state.nat.find((r) => r['.id'] === id)).toMatchObject({ comment: '007', disabled: 'no', 'to-ports': '41630' });
    const [printed] = await a.natRulesByComment('007');
    expect(printed).toMatchObject({ id, fields: expect.objectContaining({ comment: '007', disabled: 'false', 'dst-port': '41630' }) });
    await a.setNatRule(id, { 'to-ports': '41631', comment: 'true' });
    await a.unsetNatRuleFields(id, ['dst-address']);
    const stored = state.nat.find((r) => r['.id'] === id)!;
    expect(stored).toMatchObject({ 'to-ports': '41631', comment: 'true' });
    expect(stored['dst-address']).toBeUndefined();
    await a.removeNatRule(id);
    expect(state.nat.some((r) => r['.id'] === id)).toBe(false);
  });

  it('GIVEN a !trap with a category THEN the error carries the message and category and is not worth retrying', async () => {
    faults.add({ match: '/ip/firewall/nat/add', trap: { message: 'failure: already have such rule', category: 4 } });
    const err = (await adapter()
      .addNatRule({ chain: 'dstnat', action: 'dst-nat', comment: 'x' })
      .catch((e: unknown) => e)) as AdapterError;
    expect(err).toBeInstanceOf(AdapterError);
    expect(err.message).toBe('RouterOS /ip/firewall/nat/add x refused: category 4 (general failure): failure: already have such rule');
    expect(err.transient).toBe(false);
  });

  it('GIVEN the router traps an unknown id THEN remove fails with "no such item"', async () => {
    await expect(adapter().removeNatRule('*FFFF')).rejects.toThrow('refused: no such item');
  });

  it('GIVEN a print that never answers THEN it fails after the timeout, and the next call works on a new connection', async () => {
    const a = adapter({ timeoutMs: 300 });
    await a.dstNatRules();
    faults.add({ match: '/ip/firewall/nat/print', hang: true });
    const t = Date.now();
    const err = (await a.dstNatRules().catch((e: unknown) => e)) as AdapterError;
    expect(Date.now() - t).toBeGreaterThanOrEqual(280);
    expect(err.message).toMatch(/no answer within 300 ms/);
    expect(err.transient).toBe(true);
    expect(await a.dstNatRules()).toHaveLength(4);
  });

  it('GIVEN the connection drops during a write THEN the write fails at once (no hang), and the next call reconnects', async () => {
    const a = adapter({ timeoutMs: 5000 });
    await a.dstNatRules();
    faults.add({ match: '/ip/firewall/nat/add', drop: true });
    const t = Date.now();
    const err = (await a.addNatRule({ chain: 'dstnat', action: 'dst-nat', comment: 'dropped' }).catch((e: unknown) => e)) as AdapterError;
    expect(Date.now() - t).toBeLessThan(2000);
    expect(err.message).toMatch(/connection to the router lost/);
    expect(err.transient).toBe(true);
    expect(state.nat.some((r) => r.comment === 'dropped')).toBe(false);
    expect(await a.natRulesByComment('labgate:tailscale:node-21')).toHaveLength(1);
  });

  it('GIVEN the router drops every connection (a reboot) THEN a read retries once on a new connection', async () => {
    const a = adapter();
    await a.dstNatRules();
    sandbox.dropConnections();
    expect(await a.dstNatRules()).toHaveLength(4);
  });

  it('GIVEN a wrong password THEN connecting fails at once with a clear, non-transient error', async () => {
    const err = (await adapter({ password: 'wrong' })
      .dstNatRules()
      .catch((e: unknown) => e)) as AdapterError;
    expect(err.message).toBe(`RouterOS login as labgate at ${sandbox.host}:${sandbox.port} failed: wrong user name or password`);
    expect(err.transient).toBe(false);
  });

  it('GIVEN nothing listens THEN it retries with backoff, then fails as unreachable (transient)', async () => {
    const dead = await startRouterOsSandbox({ state: seedRouterState(homelab) });
    const port = dead.port;
    await dead.close();
    const err = (await adapter({ port, connectAttempts: 3 })
      .dstNatRules()
      .catch((e: unknown) => e)) as AdapterError;
    expect(err.message).toMatch(new RegExp(`RouterOS at 127.0.0.1:${port} is unreachable: .*ECONNREFUSED`));
    expect(err.transient).toBe(true);
  });

  it('connects over api-ssl, verifying the router certificate against the given CA', async () => {
    const a = adapter({ port: sandbox.tlsPort, tls: true, ca: sandbox.tlsCertificatePem });
    expect(await a.dstNatRules()).toHaveLength(4);
    const untrusted = adapter({ port: sandbox.tlsPort, tls: true, connectAttempts: 1 });
    await expect(untrusted.dstNatRules()).rejects.toThrow(/unreachable: .*(self-signed|certificate)/i);
  });

  it('is built from the ROUTEROS_* environment, reading the CA from the ROUTEROS_CA file; none without ROUTEROS_HOST', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labgate-routeros-'));
    writeFileSync(join(dir, 'ca.pem'), sandbox.tlsCertificatePem!);
    const a = routerFromEnv(
      { ROUTEROS_HOST: sandbox.host, ROUTEROS_PORT: sandbox.tlsPort, ROUTEROS_USER: sandbox.user, ROUTEROS_PASSWORD: sandbox.password, ROUTEROS_TLS: 'true', ROUTEROS_CA: join(dir, 'ca.pem') },
      { timeoutMs: 2000 },
    )!;
    adapters.push(a);
    expect(await a.natRulesByComment('labgate:tailscale:node-21')).toHaveLength(1);
    expect(routerFromEnv({}, { timeoutMs: 2000 })).toBeUndefined();
  });
});
