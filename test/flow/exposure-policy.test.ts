import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_FIELD_MAX } from '../../src/stores/audit.js';
import { lastPlan, queueState, startLab, type Lab } from '../support/lab.js';

/** What may be exposed at all, refused at plan time with the rule that refused it; and decisions on plans the approver saw. */
describe('exposure policy and decisions on plans the approver saw', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({
      configure: (c) => {
        c.shell.users = ['alice', 'bob', 'carol', 'mallory'];
        c.access.groups = { approvers: ['shell:alice', 'shell:bob'], operators: ['shell:alice', 'shell:bob', 'shell:carol'] };
        c.access.defaults = { request: ['operators'], approve: ['approvers'] };
        c.exposure.namespaces = { allow: ['media', 'monitoring', 'auth', 'argocd'], deny: ['argocd'] };
        c.exposure.services = { allow: ['*'], deny: ['monitoring/prometheus'] };
        c.exposure.extraDomains = ['example.org'];
      },
    });
  });
  afterAll(async () => {
    await lab.close();
  });

  async function expectRefused(line: string, message: RegExp) {
    const writes = lab.kubeWrites().length;
    const queues = await queueState(lab);
    const out = await lab.run(line, 'carol');
    expect(out.replies.map((r) => [r.kind, r.text])).toEqual([['refusal', expect.stringMatching(message)]]);
    expect(lab.kubeWrites().length).toBe(writes);
    expect((await queueState(lab)).planRecords).toBe(queues.planRecords);
  }

  it('GIVEN the built-in rules WHEN kube-system or the Kubernetes API Service is exposed THEN each is refused, naming the rule, and no Service of kube-system is named', async () => {
    await expectRefused('/expose service:coredns namespace:kube-system port:53 host:dns auth:tailscale-only', /^namespace kube-system may not be exposed: the cluster's own components run there \(built-in rule\)$/);
    await expectRefused('/expose service:kubernetes namespace:default port:443 host:api auth:tailscale-bypass', /^Service default\/kubernetes may not be exposed: it is the Kubernetes API \(built-in rule\)$/);
    await expectRefused('/expose service:labgate namespace:labgate port:9464 host:lg auth:tailscale-only', /^namespace labgate may not be exposed: it is labgate's own namespace \(exposure\.labgateNamespace\)$/);
    await expectRefused('/expose service:openbao namespace:openbao port:8200 host:bao auth:tailscale-only', /^namespace openbao may not be exposed: it is OpenBao's namespace \(exposure\.openbaoNamespace\)$/);
  });

  it('GIVEN allow and deny lists WHEN a namespace or Service outside them is exposed THEN the list that refused it is named', async () => {
    await expectRefused('/expose service:argocd-server namespace:argocd port:80 host:cd auth:tailscale-only', /^namespace argocd may not be exposed: exposure\.namespaces\.deny lists it$/);
    await expectRefused('/expose service:traefik namespace:traefik port:443 host:tr auth:tailscale-only', /^namespace traefik may not be exposed: exposure\.namespaces\.allow has only media, monitoring, auth, argocd$/);
    await expectRefused('/expose service:prometheus namespace:monitoring port:9090 host:prom auth:tailscale-only', /^Service monitoring\/prometheus may not be exposed: exposure\.services\.deny lists it$/);
  });

  it('GIVEN a host outside the domain WHEN exposed THEN it is refused; under an extra domain it is planned', async () => {
    await expectRefused('/expose service:immich namespace:media port:2283 host:www.google.com auth:tailscale-only', /^host www\.google\.com is not under home\.example\.com or example\.org \(domain, exposure\.extraDomains\)/);
    const ok = await lab.run('/expose service:immich namespace:media port:2283 host:photos.example.org auth:tailscale-only', 'carol');
    expect(ok.planId).toMatch(/^p-/);
    await lab.run(`reject ${ok.planId}`, 'carol');
  });

  it('GIVEN a Service that is mtls-strict WHEN exposed under another host as tailscale-bypass, or switched down THEN the plan opens with a warning line', async () => {
    const strict = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:mtls-strict', 'carol');
    await lab.run(`approve ${strict.planId}`, 'alice');
    expect((await lab.app.services.store.get(strict.planId!))?.status).toBe('applied');

    await lab.run('/expose service:immich namespace:media port:2283 host:pics auth:tailscale-bypass', 'carol');
    const plan = lastPlan(lab);
    expect(plan.lines![0]).toBe(
      '⚠ Warning: Service media/immich is mtls-strict at photos.home.example.com; exposing it as tailscale-bypass at pics.home.example.com lets the internet reach it with a weaker check',
    );
    await lab.run(`reject ${plan.planId}`, 'carol');

    await lab.run('/route mode host:photos mode:tailscale-bypass', 'carol');
    const down = lastPlan(lab);
    expect(down.lines![0]).toBe('⚠ Warning: photos.home.example.com is mtls-strict now; after this it is tailscale-bypass, a weaker check for everyone on the internet');
    await lab.run(`reject ${down.planId}`, 'carol');

    // No warning where nothing gets weaker.
    await lab.run('/expose service:jellyfin namespace:media port:8096 host:tv auth:tailscale-only', 'carol');
    expect(lastPlan(lab).lines!.some((l) => l.startsWith('⚠'))).toBe(false);
    await lab.run(`reject ${lastPlan(lab).planId}`, 'carol');
  });

  it('GIVEN two plans pending here WHEN a bare approve is typed THEN nothing is decided and both are listed with requester and command', async () => {
    const a = await lab.run('/expose service:jellyfin namespace:media port:8096 host:films auth:tailscale-only', 'carol');
    const b = await lab.run('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only', 'bob');
    const out = await lab.run('approve', 'alice');
    expect(out.replies[0]?.text).toBe('2 plans are pending here; say which: approve <plan id>');
    expect(out.replies[0]?.table?.rows).toEqual([
      [b.planId, 'bob', '/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only'],
      [a.planId, 'carol', '/expose service:jellyfin namespace:media port:8096 host:films auth:tailscale-only'],
    ]);
    for (const p of [a, b]) expect((await lab.app.services.store.get(p.planId!))?.status).toBe('pending');
    await lab.run(`reject ${b.planId}`, 'bob');
    // One left: a bare approve means that one.
    await lab.run('approve', 'alice');
    expect((await lab.app.services.store.get(a.planId!))?.status).toBe('applied');
  });

  it('GIVEN an older plan still pending and a newer one that expired on screen WHEN a bare approve is typed THEN the expired one is named and the older one is not approved', async () => {
    const older = await lab.run('/expose service:oauth2-proxy namespace:auth port:4180 host:login auth:tailscale-only', 'carol');
    const newer = await lab.run('/expose service:immich namespace:media port:2283 host:album auth:tailscale-only', 'carol');
    // The newer plan's record says it expired a moment ago (as if the screen had sat there).
    const rec = (await lab.app.services.store.get(newer.planId!))!;
    const sealed = lab.app.services.binding.sealPlan({ ...rec.plan, expiresAt: Date.now() - 1 });
    await lab.app.services.redis.hset(lab.app.services.keys.plan(newer.planId!), { plan: JSON.stringify(sealed), expiresAt: String(sealed.expiresAt) });
    const out = await lab.run('approve', 'alice');
    expect(out.replies[0]?.text).toMatch(new RegExp(`^plan ${newer.planId} expired at .*; run /expose .* again, or name an older plan: approve ${older.planId}$`));
    expect((await lab.app.services.store.get(older.planId!))?.status).toBe('pending');
    expect((await lab.app.services.store.get(newer.planId!))?.status).toBe('expired');
    await lab.run(`reject ${older.planId}`, 'carol');
  });

  it('GIVEN a user with no rights typing a thousand commands THEN denials fill only their own capped stream: plans, decisions and results stay in the audit, and a long line is clipped', async () => {
    // This test's own plan, approval, result and rejection: what the denials must not push out.
    const kept0 = await lab.run('/expose service:jellyfin namespace:media port:8096 host:kept auth:tailscale-only', 'carol');
    await lab.run(`approve ${kept0.planId}`, 'alice');
    expect((await lab.app.services.store.get(kept0.planId!))?.status).toBe('applied');
    const dropped = await lab.run('/expose service:immich namespace:media port:2283 host:dropped auth:tailscale-only', 'carol');
    await lab.run(`reject ${dropped.planId}`, 'carol');
    expect((await lab.app.services.store.get(dropped.planId!))?.status).toBe('rejected');
    const before = await lab.app.services.redis.xlen(lab.app.services.keys.audit);
    const long = `/expose service:immich namespace:media port:2283 host:${'x'.repeat(2000)} auth:tailscale-only`;
    await lab.run(long, 'mallory');
    const [longest] = await lab.app.services.redis.xrevrange(lab.app.services.keys.auditDenials, '+', '-', 'COUNT', 1);
    const command = longest![1][longest![1].indexOf('command') + 1]!;
    expect([...command].length).toBe(AUDIT_FIELD_MAX);
    for (let i = 0; i < 1200; i++) await lab.app.dispatcher!.command({ name: 'route list', options: {}, text: `/route list ${i}` }, { platform: 'shell', id: 'mallory', name: 'mallory', roles: [] }, { platform: 'shell', channel: 'x' });
    expect(await lab.app.services.redis.xlen(lab.app.services.keys.audit)).toBe(before);
    expect(await lab.app.services.redis.xlen(lab.app.services.keys.auditDenials)).toBeLessThanOrEqual(1100);
    const kept = (await lab.app.services.redis.xrange(lab.app.services.keys.audit, '-', '+')).map(([, f]) => f[f.indexOf('action') + 1]);
    expect(kept).toEqual(expect.arrayContaining(['plan', 'approve', 'apply', 'reject']));
  });
});
