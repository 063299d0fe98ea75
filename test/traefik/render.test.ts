import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/load.js';
import { planDiff, toDiffYaml } from '../../src/plan/diff.js';
import { CrdSchemas } from '../../sandbox/kubernetes/crd-schemas.js';
import { ACCESS_MODES, type AccessMode } from '../../src/traefik/access-modes.js';
import { exposureBaseName, renderExposure } from '../../src/traefik/render.js';
import { exposureChanges } from '../../src/traefik/planning.js';
import type { KubernetesPort } from '../../src/kubernetes/port.js';
import { expectGolden } from '../support/golden.js';

const golden = (name: string) => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));

function config(extra: Record<string, unknown> = {}): Config {
  const res = parseConfig(
    {
      domain: 'home.example.com',
      traefik: { forwardAuth: { name: 'oidc-auth', namespace: 'traefik' }, allowCrossNamespace: true, tls: { certResolver: 'letsencrypt' }, ...extra },
    },
    {},
    'test',
  );
  if (!res.ok) throw new Error(res.problems.join('\n'));
  return res.config;
}

const exposure = (mode: AccessMode) => ({ host: 'photos.home.example.com', namespace: 'media', service: 'immich', port: 2283, mode });
const render = (mode: AccessMode, c = config()) => renderExposure(exposure(mode), c.traefik, c.domain);

describe('Traefik rendering of the three access modes', () => {
  it.each(ACCESS_MODES)('renders %s as in its golden file', (mode) => {
    expectGolden(golden(`${mode}.yaml`), render(mode).map((o) => toDiffYaml(o)).join('---\n'));
  });

  it.each(ACCESS_MODES)('renders %s objects that the Traefik v3 CRD schemas accept, with no unknown field', (mode) => {
    const schemas = new CrdSchemas();
    for (const obj of render(mode)) {
      const copy = structuredClone(obj) as unknown as Record<string, unknown>;
      expect(schemas.has(obj.apiVersion, obj.kind)).toBe(true);
      expect(schemas.check(copy)).toEqual({ unknownFields: [], causes: [] });
    }
  });

  it('the schema check can fail: a typo and a bad enum are caught', () => {
    const schemas = new CrdSchemas();
    const [opt] = render('mtls-strict');
    const bad = structuredClone(opt!) as unknown as { spec: Record<string, unknown> };
    (bad.spec.clientAuth as Record<string, unknown>).clientAuthType = 'RequireClientCert';
    bad.spec.clientauth = {};
    const check = schemas.check(bad as unknown as Record<string, unknown>);
    expect(check.unknownFields).toEqual(['spec.clientauth']);
    expect(check.causes.map((c) => c.field)).toContain('spec.clientAuth.clientAuthType');
  });

  it('tailscale-only is one route on the tailnet entry point and nothing on the internet', () => {
    const [route, ...rest] = render('tailscale-only');
    expect(rest).toEqual([]);
    expect(route!.spec).toMatchObject({ entryPoints: ['ts-secure'] });
    expect(JSON.stringify(route)).not.toContain('websecure');
  });

  it('tailscale-bypass puts only the internet route behind forward-auth', () => {
    const [ts, pub] = render('tailscale-bypass');
    expect(JSON.stringify(ts!.spec)).not.toContain('middlewares');
    expect((pub!.spec as { routes: { middlewares: unknown }[] }).routes[0]!.middlewares).toEqual([{ name: 'oidc-auth', namespace: 'traefik' }]);
  });

  it('mtls-strict requires and verifies client certificates from the configured CA Secret, then passTLSClientCert, then the gate', () => {
    const objs = render('mtls-strict');
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['TLSOption/photos-mtls', 'Middleware/photos-client-cert', 'Middleware/photos-gate', 'IngressRoute/photos-public']);
    expect(objs[0]!.spec).toMatchObject({ clientAuth: { clientAuthType: 'RequireAndVerifyClientCert', secretNames: ['labgate-client-ca'] }, minVersion: 'VersionTLS12' });
    const route = objs[3]!.spec as { routes: { middlewares: { name: string }[] }[] };
    expect(route.routes[0]!.middlewares.map((m) => m.name)).toEqual(['photos-client-cert', 'photos-gate']);
    // Without passClientCert the gate still gets the certificate (pem), the backend no info header.
    const noPass = render('mtls-strict', config({ mtls: { passClientCert: false, clientCaSecret: 'home-ca' } }));
    expect(noPass.map((o) => o.kind)).toEqual(['TLSOption', 'Middleware', 'Middleware', 'IngressRoute']);
    expect(noPass[1]!.spec).toEqual({ passTLSClientCert: { pem: true } });
    expect(noPass[0]!.spec).toMatchObject({ clientAuth: { secretNames: ['home-ca'] } });
  });

  it('mtls-strict with an allow list puts the owners in the gate address and the text in an annotation', () => {
    const c = config();
    const objs = renderExposure({ ...exposure('mtls-strict'), allow: { text: '@alice, family', owners: ['shell:bob', 'discord:123456789012345678', 'shell:alice'] } }, c.traefik, c.domain, { address: 'http://gate.labgate.svc:8080/verify' });
    const gate = objs.find((o) => o.metadata.name === 'photos-gate')!;
    expect((gate.spec as { forwardAuth: { address: string } }).forwardAuth.address).toBe('http://gate.labgate.svc:8080/verify?allow=discord%3A123456789012345678%2Cshell%3Aalice%2Cshell%3Abob');
    expect(objs.every((o) => o.metadata.annotations?.['labgate.dev/allow'] === '@alice, family')).toBe(true);
  });

  it('uses a TLS Secret instead of a cert resolver when configured', () => {
    const [route] = render('tailscale-only', config({ tls: { secretName: 'wildcard-tls' } }));
    expect((route!.spec as { tls: unknown }).tls).toEqual({ secretName: 'wildcard-tls' });
  });

  it('names objects after the host, shortened with a digest when long', () => {
    expect(exposureBaseName('photos.home.example.com', 'home.example.com')).toBe('photos');
    expect(exposureBaseName('photos.other.org', 'home.example.com')).toBe('photos-other-org');
    const long = exposureBaseName(`${'a'.repeat(60)}.example.org`, 'home.example.com');
    expect(long.length).toBeLessThanOrEqual(48);
    expect(long).toMatch(/-[0-9a-f]{8}$/);
  });

  const transitions = ACCESS_MODES.flatMap((from) => ACCESS_MODES.filter((to) => to !== from).map((to) => [from, to] as const));
  it.each(transitions)('diff from %s to %s is as in its golden file', async (from, to) => {
    // The planner's own change list, with a cluster that holds nothing else of those names.
    const kube = { get: async () => null } as unknown as KubernetesPort;
    const changes = await exposureChanges(kube, 'photos.home.example.com', render(from), render(to));
    expectGolden(golden(`${from}--to--${to}.diff`), planDiff(changes) + '\n');
  });
});
