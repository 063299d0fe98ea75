import { describe, expect, it } from 'vitest';
import { canonicalJson, sameState } from '../../src/plan/canonical.js';
import { changeDiff, colourDiff, displayTarget } from '../../src/plan/diff.js';
import { buildPlan, planHash, type Change } from '../../src/plan/model.js';

const change = (after: unknown): Change => ({ system: 'kubernetes', action: 'create', target: 'kubernetes:traefik.io/v1alpha1/IngressRoute/media/photos-ts', before: null, after, summary: 's' });
const cmd = { name: 'expose', options: { host: 'photos', port: 2283 }, text: '/expose …' };

describe('plan model', () => {
  it('canonical JSON ignores key order and undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [2, { y: 1, x: 0 }] } })).toBe('{"a":{"c":[2,{"x":0,"y":1}]},"b":1}');
    expect(sameState({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameState(null, undefined)).toBe(true);
    expect(sameState({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });

  it('the hash binds the command options, the changes and the state they came from', () => {
    const base = planHash(cmd, [change({ spec: { a: 1 } })]);
    expect(planHash({ ...cmd, text: 'typed differently' }, [change({ spec: { a: 1 } })])).toBe(base);
    expect(planHash(cmd, [change({ spec: { a: 2 } })])).not.toBe(base);
    expect(planHash({ ...cmd, options: { host: 'photos', port: 80 } }, [change({ spec: { a: 1 } })])).not.toBe(base);
    expect(planHash(cmd, [{ ...change({ spec: { a: 1 } }), before: { spec: { a: 0 } } }])).not.toBe(base);
  });

  it('builds plans with ids people can type and an expiry', () => {
    const p = buildPlan({ command: cmd, requester: { platform: 'shell', id: 'bob', name: 'bob', roles: [] }, conversation: { platform: 'shell', channel: 'shell-test' }, now: 1000, ttlMs: 60_000, changes: [], summary: [] });
    expect(p.id).toMatch(/^p-[a-z2-9]{6}$/);
    expect(p.expiresAt).toBe(61_000);
    expect(p.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('renders a change as a unified diff of YAML, coloured only when asked', () => {
    const diff = changeDiff({ ...change({ apiVersion: 'v1', kind: 'X', metadata: { name: 'n' } }), before: { apiVersion: 'v1', kind: 'X', metadata: { name: 'o' } }, action: 'update' });
    expect(diff).toBe(['--- a/IngressRoute/media/photos-ts', '+++ b/IngressRoute/media/photos-ts', '@@ -1,4 +1,4 @@', ' apiVersion: v1', ' kind: X', ' metadata:', '-  name: o', '+  name: n'].join('\n'));
    expect(diff).not.toContain('\x1b[');
    expect(colourDiff(diff)).toContain('\x1b[31m-  name: o');
    expect(displayTarget('router:/ip/firewall/nat/labgate:tailscale:node-21')).toBe('/ip/firewall/nat/labgate:tailscale:node-21');
  });
});
