import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueState, startLab, type Lab } from '../support/lab.js';

const TRAEFIK = 'traefik.io/v1alpha1';

describe('refusals: a clear message, and nothing changes anywhere', () => {
  // The refusal tests share one lab: a refusal changes nothing, which each of them checks.
  // Tests that change the homelab first (a route, a foreign catch-all) start their own lab.
  let lab: Lab;
  async function newLab(): Promise<Lab> {
    const l = await startLab({ configure: (c) => (c.exposure.extraDomains = ['lab.example.net']) });
    // A hand-made route that happens to use the name labgate would pick for host "photos".
    l.sandbox.kubernetes.objects.put({
      apiVersion: TRAEFIK,
      kind: 'IngressRoute',
      metadata: { name: 'photos-ts', namespace: 'media' },
      spec: { entryPoints: ['ts-secure'], routes: [{ kind: 'Rule', match: 'Host(`old-photos.example.org`)', services: [{ name: 'immich', port: 2283 }] }] },
    });
    return l;
  }
  async function withOwnLab(body: (own: Lab) => Promise<void>) {
    const shared = lab;
    const own = await newLab();
    lab = own;
    try {
      await body(own);
    } finally {
      lab = shared;
      await own.close();
    }
  }
  beforeAll(async () => {
    lab = await newLab();
  });
  afterAll(async () => {
    await lab.close();
  });

  async function expectRefused(line: string, message: RegExp, as = 'alice') {
    const writesBefore = lab.kubeWrites().length;
    const queuesBefore = await queueState(lab);
    const printedBefore = lab.printed.length;
    const out = await lab.run(line, as);
    expect(out.fault).toBeFalsy();
    expect(out.replies).toHaveLength(1);
    expect(out.replies[0]!.kind).toBe('refusal');
    expect(out.replies[0]!.text).toMatch(message);
    expect(lab.kubeWrites().length).toBe(writesBefore);
    expect(await queueState(lab)).toEqual(queuesBefore);
    expect(queuesBefore.planJobsOpen).toBe(0);
    expect(queuesBefore.pending).toBe(0);
    // Nothing was posted into the conversation; the refusal is the asker's reply alone.
    expect(lab.printed.slice(printedBefore).filter((m) => !m.reply)).toEqual([]);
    return out.replies[0]!.text;
  }

  it('starts from an empty queue', async () => {
    expect(await queueState(lab)).toEqual({ applyJobs: 0, planJobsOpen: 0, planRecords: 0, pending: 0 });
  });

  it('refuses a host another IngressRoute already serves, naming that route and its owner', async () => {
    await expectRefused(
      '/expose service:grafana namespace:monitoring port:3000 host:argocd auth:tailscale-only',
      /argocd\.home\.example\.com is already served by IngressRoute argocd\/argocd-server, which labgate does not manage/,
    );
  });

  it('refuses to take over an object of the same name that labgate does not own', async () => {
    await expectRefused(
      '/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only',
      /IngressRoute media\/photos-ts already exists and is not managed by labgate .*will not change it/,
    );
  });

  it('refuses an unknown Service and lists the Services that exist', async () => {
    await expectRefused('/expose service:immch namespace:media port:2283 host:pics auth:tailscale-only', /Service immch not found in namespace media; Services there: immich, jellyfin/);
  });

  it('refuses an unknown namespace and lists the namespaces', async () => {
    await expectRefused('/expose service:immich namespace:medai port:2283 host:pics auth:tailscale-only', /namespace medai not found; namespaces you may expose from: argocd, auth, media, monitoring$/);
  });

  it('refuses a port the Service does not have and lists its ports', async () => {
    await expectRefused('/expose service:immich namespace:media port:80 host:pics auth:tailscale-only', /Service media\/immich has no port 80; its ports: 2283\/TCP \(http\)/);
  });

  it.each([
    ['/expose service:immich namespace:media port:2283 host:bad_host! auth:tailscale-only', /host: must be a hostname like photos/],
    ['/expose service:immich namespace:Media_Stuff port:2283 host:pics auth:tailscale-only', /namespace: must be a Kubernetes namespace name/],
    ['/expose service:immich namespace:media port:70000 host:pics auth:tailscale-only', /port: must be a whole number from 1 to 65535 \(got "70000"\)/],
    ['/expose service:immich namespace:media port:abc host:pics auth:tailscale-only', /port: must be a whole number from 1 to 65535 \(got "abc"\)/],
    ['/expose service:immich namespace:media port:2283 host:pics auth:public', /auth: must be one of tailscale-only, tailscale-bypass, mtls-strict \(got "public"\)/],
    ['/route mode host:pics mode:open', /mode: must be one of tailscale-only, tailscale-bypass, mtls-strict/],
    ['/expose service:immich namespace:media port:2283 auth:tailscale-only', /host: missing; must be a hostname/],
    ['/expose service:immich namespace:media port:2283 host:pics auth:tailscale-only colour:blue', /unknown option "colour"; \/expose takes service, namespace, port, host, auth/],
  ])('refuses invalid input %s naming the field and what is allowed', async (line, message) => {
    await expectRefused(line, message);
  });

  it('reports every invalid field of one command at once', async () => {
    const text = await expectRefused('/expose service:immich namespace:media port:0 host:-x- auth:nope', /port: .*; .*host: .*; .*auth: /);
    expect(text.split(';').length).toBeGreaterThanOrEqual(3);
  });

  it('refuses /route mode for a host labgate does not manage', async () => {
    await expectRefused('/route mode host:argocd mode:mtls-strict', /argocd\.home\.example\.com is served by IngressRoute argocd\/argocd-server, which labgate does not manage/);
    await expectRefused('/unexpose host:argocd', /which labgate does not manage; labgate will not remove it/);
  });

  it('refuses mtls-strict when another route on websecure serves the host with other TLS options', () =>
    withOwnLab(async (lab) => {
      await lab.run('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only');
      await lab.run('approve');
      lab.sandbox.kubernetes.objects.put({
        apiVersion: TRAEFIK,
        kind: 'IngressRoute',
        metadata: { name: 'catch-all', namespace: 'traefik' },
        spec: { entryPoints: ['websecure'], routes: [{ kind: 'Rule', match: 'HostRegexp(`^.+\\.home\\.example\\.com$`)', services: [{ name: 'oauth2-proxy', namespace: 'auth', port: 4180 }] }] },
      });
      await expectRefused('/route mode host:grafana mode:mtls-strict', /grafana\.home\.example\.com cannot be mtls-strict: IngressRoute traefik\/catch-all also serves it on websecure with TLS options "default".*drop the client-certificate check/);
    }),
  );

  it('reads foreign routes as Traefik does: a double-quoted Host is a taken host, a wildcard Host a TLS-options clash', () =>
    withOwnLab(async (lab) => {
      lab.sandbox.kubernetes.objects.put({
        apiVersion: TRAEFIK,
        kind: 'IngressRoute',
        metadata: { name: 'legacy-dq', namespace: 'monitoring' },
        spec: { entryPoints: ['websecure'], routes: [{ kind: 'Rule', match: 'Host("music.home.example.com")', services: [{ name: 'grafana', port: 3000 }] }] },
      });
      await expectRefused(
        '/expose service:jellyfin namespace:media port:8096 host:music auth:mtls-strict',
        /music\.home\.example\.com is already served by IngressRoute monitoring\/legacy-dq, which labgate does not manage/,
      );
      lab.sandbox.kubernetes.objects.put({
        apiVersion: TRAEFIK,
        kind: 'IngressRoute',
        metadata: { name: 'wildcard', namespace: 'traefik' },
        spec: { entryPoints: ['websecure'], routes: [{ kind: 'Rule', match: 'Host(`*.lab.example.net`)', services: [{ name: 'oauth2-proxy', namespace: 'auth', port: 4180 }] }] },
      });
      await expectRefused(
        '/expose service:jellyfin namespace:media port:8096 host:films.lab.example.net auth:mtls-strict',
        /films\.lab\.example\.net cannot be mtls-strict: IngressRoute traefik\/wildcard also serves it on websecure/,
      );
    }),
  );

  it('refuses a user without permission before anything is queued', async () => {
    await expectRefused('/expose service:immich namespace:media port:2283 host:pics auth:tailscale-only', /you may not run \/expose \(allowed: operators\)/, 'mallory');
    await expectRefused('/route list', /you may not run \/route list/, 'mallory');
    // One precondition step: each denial is audited once.
    const denials = (await lab.app.services.audit.latest(50)).filter((e) => e.action === 'deny' && e.actor === 'shell:mallory');
    expect(denials.map((e) => e.command)).toEqual(expect.arrayContaining(['/route list']));
    expect(denials.filter((e) => e.command === '/route list')).toHaveLength(1);
  });
});
