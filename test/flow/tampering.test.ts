import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHELL_CONVERSATION } from '../../src/messages/conversations.js';
import { MANAGED_BY_LABEL } from '../../src/kubernetes/objects.js';
import { planHash, type Change, type Decision, type Plan } from '../../src/plan/model.js';
import { startLab, type Lab } from '../support/lab.js';
import { RedisAttacker } from '../support/tamper.js';

const TRAEFIK = 'traefik.io/v1alpha1';
const alice = { platform: 'shell' as const, id: 'alice', name: 'alice', roles: [] };

/**
 * Someone who can write to labgate's Redis (in deploy/ before this round: any pod in the cluster)
 * tries to get a change applied without an approval bound to exactly that change. Every attempt
 * is refused, audited as tampering, said in the plan's conversation, and changes nothing, as read
 * back through the Kubernetes API.
 */
describe('tampering with Redis: nothing is applied that a signature does not cover', () => {
  let lab: Lab;
  let attacker: RedisAttacker;
  beforeAll(async () => {
    lab = await startLab({
      configure: (c) => {
        c.shell.users = ['alice', 'bob', 'carol'];
        c.access.groups = { approvers: ['shell:alice', 'shell:bob'], operators: ['shell:alice', 'shell:bob', 'shell:carol'] };
        c.access.defaults = { request: ['operators'], approve: ['approvers'] };
        c.apply = { ...c.apply, attempts: 4, backoff: 1500 };
      },
    });
    attacker = new RedisAttacker(lab);
  });
  afterAll(async () => {
    await attacker.close();
    await lab.close();
  });

  /** Reads an object back through the Kubernetes API (client-node), not labgate: null when absent. */
  async function live(apiVersion: string, kind: string, namespace: string, name: string): Promise<unknown> {
    try {
      return await lab.kube.read({ apiVersion, kind, metadata: { name, namespace } });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw err;
    }
  }

  async function tamperAudited(planId: string): Promise<string> {
    const entry = (await lab.app.services.audit.latest(50)).find((e) => e.action === 'tamper' && e.planId === planId);
    expect(entry, `a tamper entry for ${planId} in the audit`).toBeDefined();
    return entry!.outcome;
  }

  const toldInConversation = (planId: string) => lab.printed.filter((m) => m.kind === 'error' && m.planId === planId && /failed verification/.test(m.text));

  it('GIVEN a pending plan WHEN its record is edited in Redis (namespace, entry point, backend) and its hash kept THEN approve refuses it, audits tampering, and nothing is written', async () => {
    const { planId } = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only', 'carol');
    const plan = await attacker.plan(planId!);
    const route = structuredClone(plan.changes[0]!.after) as { metadata: { namespace: string }; spec: { entryPoints: string[]; routes: { services: { name: string; namespace?: string; port: number }[] }[] } };
    route.metadata.namespace = 'monitoring';
    route.spec.entryPoints = ['websecure'];
    route.spec.routes[0]!.services = [{ name: 'prometheus', namespace: 'monitoring', port: 9090 }];
    const edited: Plan = { ...plan, changes: [{ ...plan.changes[0]!, target: `kubernetes:${TRAEFIK}/IngressRoute/monitoring/photos-ts`, after: route }] };
    await attacker.write(planId!, { plan: JSON.stringify(edited) });
    const writes = lab.kubeWrites().length;

    const out = await lab.run(`approve ${planId}`, 'alice');
    expect(out.replies[0]?.text).toMatch(new RegExp(`^plan ${planId} failed verification \\(the plan record does not match the seal of the worker that planned it\\); it is refused and nothing was changed$`));
    expect(await tamperAudited(planId!)).toMatch(/does not match the seal/);
    expect(toldInConversation(planId!)).toHaveLength(1);
    expect((await attacker.record(planId!)).status).toBe('pending');
    expect(lab.kubeWrites().length).toBe(writes);
    expect(await live(TRAEFIK, 'IngressRoute', 'monitoring', 'photos-ts')).toBeNull();
    expect(await live(TRAEFIK, 'IngressRoute', 'media', 'photos-ts')).toBeNull();

    // Approving it by hand in Redis and queueing the apply gets no further.
    await attacker.write(planId!, { status: 'approved' });
    const job = await attacker.apply(planId!, plan.hash);
    expect(job).toMatchObject({ state: 'failed', reason: expect.stringMatching(/tampered/) });
    expect(lab.kubeWrites().length).toBe(writes);
  });

  it('GIVEN no plan at all WHEN a record marked approved with progress 1 is written and an apply job queued THEN the worker refuses it: no Secret in kube-system, no public route to the Kubernetes API', async () => {
    const now = Date.now();
    const command = { name: 'expose', options: { service: 'kubernetes', namespace: 'default', port: 443, host: 'api', auth: 'tailscale-bypass' }, text: '/expose service:kubernetes namespace:default port:443 host:api auth:tailscale-bypass' };
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pwned', namespace: 'kube-system', labels: { [MANAGED_BY_LABEL]: 'labgate' } }, type: 'Opaque', data: { token: 'cHduZWQ=' } };
    const route = {
      apiVersion: TRAEFIK,
      kind: 'IngressRoute',
      metadata: { name: 'api-public', namespace: 'default', labels: { [MANAGED_BY_LABEL]: 'labgate' } },
      spec: { entryPoints: ['websecure'], routes: [{ kind: 'Rule', match: 'Host(`api.home.example.com`)', services: [{ name: 'kubernetes', port: 443 }] }] },
    };
    const changes: Change[] = [
      { system: 'kubernetes', action: 'create', target: 'kubernetes:v1/Secret/kube-system/pwned', before: null, after: secret, summary: 'create Secret kube-system/pwned' },
      { system: 'kubernetes', action: 'create', target: `kubernetes:${TRAEFIK}/IngressRoute/default/api-public`, before: null, after: route, summary: 'create IngressRoute default/api-public' },
    ];
    const hash = planHash(command, changes);
    const planId = 'p-forged';
    const plan: Plan = { id: planId, command, requester: alice, conversation: SHELL_CONVERSATION, createdAt: now, expiresAt: now + 900_000, changes, summary: [], notes: [], warnings: [], hash, seal: { kid: 'guessed', mac: 'A'.repeat(43) } };
    const decision: Decision = { planId, hash, action: 'approved', by: alice, at: now, seal: { kid: 'guessed', mac: 'B'.repeat(43) } };
    await attacker.write(planId, { plan: JSON.stringify(plan), status: 'approved', expiresAt: String(plan.expiresAt), hash, progress: '1', decision: JSON.stringify(decision) });
    const writes = lab.kubeWrites().length;

    const job = await attacker.apply(planId, hash);
    expect(job).toMatchObject({ state: 'failed', reason: expect.stringMatching(/tampered/) });
    expect(await tamperAudited(planId)).toMatch(/does not match the seal/);
    expect(toldInConversation(planId)).toHaveLength(1);
    expect(lab.kubeWrites().length).toBe(writes);
    expect(await live('v1', 'Secret', 'kube-system', 'pwned')).toBeNull();
    expect(await live(TRAEFIK, 'IngressRoute', 'default', 'api-public')).toBeNull();
  });

  it('GIVEN a genuine pending plan WHEN its status is set to approved with a decision whose seal is made up THEN the apply is refused as tampering', async () => {
    const { planId } = await lab.run('/expose service:jellyfin namespace:media port:8096 host:tv auth:tailscale-only', 'carol');
    const plan = await attacker.plan(planId!);
    const decision: Decision = { planId: plan.id, hash: plan.hash, action: 'approved', by: alice, at: Date.now(), seal: { kid: plan.seal!.kid, mac: 'C'.repeat(43) } };
    await attacker.write(planId!, { status: 'approved', decision: JSON.stringify(decision) });
    const job = await attacker.apply(planId!, plan.hash);
    expect(job.state).toBe('failed');
    expect(await tamperAudited(planId!)).toBe('the approval does not carry a valid seal for this plan and hash');
    expect(await live(TRAEFIK, 'IngressRoute', 'media', 'tv-ts')).toBeNull();
  });

  it("GIVEN an approval genuinely signed for one plan WHEN it is copied onto another plan THEN the other plan's apply is refused", async () => {
    const a = await lab.run('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only', 'carol');
    await lab.run(`approve ${a.planId}`, 'alice');
    expect((await attacker.record(a.planId!)).status).toBe('applied');
    const signed = (await attacker.record(a.planId!)).decision!;
    const b = await lab.run('/expose service:prometheus namespace:monitoring port:9090 host:prom auth:tailscale-only', 'carol');
    const planB = await attacker.plan(b.planId!);
    await attacker.write(b.planId!, { status: 'approved', decision: signed });
    const job = await attacker.apply(b.planId!, planB.hash);
    expect(job.state).toBe('failed');
    expect(await tamperAudited(b.planId!)).toBe('the approval does not carry a valid seal for this plan and hash');
    expect(await live(TRAEFIK, 'IngressRoute', 'monitoring', 'prom-ts')).toBeNull();
  });

  it('GIVEN an apply that wrote part of its plan and waits to retry WHEN the record is edited in between THEN the resumed apply is verified again and writes nothing more', async () => {
    const svcPath = '/apis/traefik.io/v1alpha1/namespaces/media/ingressroutes/films-public';
    lab.sandbox.faults.kubernetes.add({ match: `PATCH ${svcPath}`, status: 500, times: 1 });
    const { planId } = await lab.run('/expose service:jellyfin namespace:media port:8096 host:films auth:mtls-strict', 'carol');
    const plan = await attacker.plan(planId!);
    expect(plan.changes.length).toBeGreaterThanOrEqual(3);
    // Approve without waiting: the first attempt writes what comes before the route, then fails on it.
    await lab.app.dispatcher!.decide({ action: 'approve', planId }, alice, SHELL_CONVERSATION);
    const journal = lab.app.services.keys.journal(planId!);
    const until = Date.now() + 15_000;
    while (!(await lab.app.services.redis.lrange(journal, 0, -1)).some((l) => l.includes('"phase":"done"'))) {
      if (Date.now() > until) throw new Error('the first attempt wrote nothing');
      await new Promise((r) => setTimeout(r, 20));
    }
    // Wait until the attempt has failed on the route (the fault is used up), then edit.
    while (lab.sandbox.faults.kubernetes.pending > 0) await new Promise((r) => setTimeout(r, 20));
    const routeIndex = plan.changes.findIndex((c) => c.target.endsWith('/films-public'));
    const edited = structuredClone(plan);
    (edited.changes[routeIndex]!.after as { spec: { routes: { services: { name: string; port: number }[] }[] } }).spec.routes[0]!.services = [{ name: 'immich', port: 2283 }];
    await attacker.write(planId!, { plan: JSON.stringify(edited) });
    const writesBefore = lab.kubeWrites().length;

    const job = await attacker.settled(`apply-${planId}-${plan.hash.slice(0, 16)}`);
    expect(job).toMatchObject({ state: 'failed', reason: expect.stringMatching(/tampered/) });
    expect(await tamperAudited(planId!)).toMatch(/does not match the seal/);
    expect(lab.kubeWrites().length).toBe(writesBefore);
    expect(await live(TRAEFIK, 'IngressRoute', 'media', 'films-public')).toBeNull();
  });

  it('GIVEN a genuine approved plan WHEN a forged entry is added to its apply journal THEN the apply refuses it before writing', async () => {
    const { planId } = await lab.run('/expose service:immich namespace:media port:2283 host:pics auth:tailscale-only', 'carol');
    const plan = await attacker.plan(planId!);
    await lab.app.services.redis.rpush(lab.app.services.keys.journal(planId!), JSON.stringify({ planId, hash: plan.hash, index: 0, phase: 'intent', at: Date.now(), seal: { kid: plan.seal!.kid, mac: 'D'.repeat(43) } }));
    const writes = lab.kubeWrites().length;
    await lab.run(`approve ${planId}`, 'alice');
    expect(await tamperAudited(planId!)).toBe('the apply journal holds an entry without a valid seal for this plan');
    expect(lab.kubeWrites().length).toBe(writes);
    expect(await live(TRAEFIK, 'IngressRoute', 'media', 'pics-ts')).toBeNull();
  });
});
